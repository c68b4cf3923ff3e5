"""What a response's headers say and what a failed request means (Scrapy-bound): the other half of
portalscraper.crawl.httputil, which has no Scrapy in it."""

from __future__ import annotations

from enum import Enum

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from portalscraper.crawl.httputil import status_phrase


class FailureKind(Enum):
    """What a finally failed request means for the crawl. `counted`: an error of the crawl (the
    item is still to be had, next run), not a policy that refused it."""

    HTTP = "http"  # the server answered with an error status
    OTHER_SITE = "other site"  # a link off the portal, refused before it was sent (OtherSiteRefused)
    ROBOTS_FORBIDDEN = "robots forbidden"  # robots.txt disallows it (RobotsForbidden)
    ROBOTS_UNREADABLE = "robots unreadable"  # robots.txt could not be read: nothing allowed (RobotsUnreadable)
    OFFSITE_REDIRECT = "offsite redirect"  # redirected to another site, not followed (OffsiteRedirect)
    IGNORED = "ignored"  # any other refusal (IgnoreRequest)
    ERROR = "error"  # the download failed (timeout, refused connection, ...)

    @property
    def counted(self) -> bool:
        return self not in (FailureKind.OTHER_SITE, FailureKind.ROBOTS_FORBIDDEN)


class OtherSiteRefused(IgnoreRequest):
    """A request to another origin than the crawled portal's, refused before it is sent: a policy,
    like robots.txt, not a failure of the crawl."""


class RobotsForbidden(IgnoreRequest):
    """A request robots.txt disallows: a policy, not a failure of the crawl."""


class RobotsUnreadable(IgnoreRequest):
    """A request to a host whose robots.txt could not be read whole (RFC 9309 allows nothing)."""


class OffsiteRedirect(IgnoreRequest):
    """A redirect to another origin than the portal's, not followed."""


_KINDS: tuple[tuple[type[BaseException], FailureKind], ...] = (
    (HttpError, FailureKind.HTTP), (OtherSiteRefused, FailureKind.OTHER_SITE),
    (RobotsForbidden, FailureKind.ROBOTS_FORBIDDEN), (RobotsUnreadable, FailureKind.ROBOTS_UNREADABLE),
    (OffsiteRedirect, FailureKind.OFFSITE_REDIRECT), (IgnoreRequest, FailureKind.IGNORED))


def failure_kind(exc: BaseException) -> FailureKind:
    return next((kind for cls, kind in _KINDS if isinstance(exc, cls)), FailureKind.ERROR)


def text_header(response: Response, name: str) -> str | None:
    """A response header as text (latin-1, as HTTP sends it), or None."""
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def describe_failure(failure: Failure) -> tuple[str, int | None, bool]:
    """Why a request finally failed: (reason, HTTP status or None, counted as an error)."""
    exc = failure.value
    kind = failure_kind(exc) if exc is not None else FailureKind.ERROR
    message = failure.getErrorMessage()
    if isinstance(exc, HttpError):
        status = exc.response.status
        return f"HTTP {status} {status_phrase(status)}".strip(), status, True
    if kind is FailureKind.ROBOTS_FORBIDDEN:
        return "forbidden by robots.txt", None, False
    if kind is FailureKind.OFFSITE_REDIRECT:
        return f"redirected to another site, not followed ({message.removeprefix('offsite ')})", None, True
    if kind is FailureKind.IGNORED:
        return message or "ignored", None, True
    if kind is FailureKind.ERROR:
        return f"{type(exc).__name__}: {message}"[:500], None, True
    return message, None, kind.counted
