"""What a response's headers say and what a failed request means (Scrapy-bound): the other half of
portalscraper.crawl.httputil, which has no Scrapy in it."""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from portalscraper.crawl.httputil import status_phrase


class OtherSiteRefused(IgnoreRequest):
    """A request to another origin than the crawled portal's, refused before it is sent: a policy,
    like robots.txt, not a failure of the crawl."""


def text_header(response: Response, name: str) -> str | None:
    """A response header as text (latin-1, as HTTP sends it), or None."""
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def describe_failure(failure: Failure) -> tuple[str, int | None, bool]:
    """Why a request finally failed: (reason, HTTP status or None, counted as an error)."""
    exc = failure.value
    if isinstance(exc, HttpError):
        response = exc.response
        return f"HTTP {response.status} {status_phrase(response.status)}".strip(), response.status, True
    message = failure.getErrorMessage()
    if isinstance(exc, OtherSiteRefused):  # a link off the portal: refused by policy
        return message, None, False
    if isinstance(exc, IgnoreRequest):
        lowered = message.lower()
        if "robots.txt could not be read" in lowered:  # unreachable, too large, 5xx: an error
            return message, None, True
        if "robots.txt" in lowered:
            return "forbidden by robots.txt", None, False
        if "offsite" in lowered:  # counted: the item is still to be had, next run
            return f"redirected to another site, not followed ({message.removeprefix('offsite ')})", None, True
        return message or "ignored", None, True
    return f"{type(exc).__name__}: {message}"[:500], None, True
