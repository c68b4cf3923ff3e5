"""HTTP helpers shared by spiders, middlewares and the WARC recorder: status phrases, header values,
origins, what a failed request means, and how politely a target is asked."""

from __future__ import annotations

import email.utils
import ipaddress
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.settings import Settings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

DEFAULT_PORTS = {"http": 80, "https": 443}


class OtherSiteRefused(IgnoreRequest):
    """A request to another origin than the crawled portal's, refused before it is sent: a policy,
    like robots.txt, not a failure of the crawl."""


def status_phrase(status: int) -> str:
    """`Service Unavailable` for 503; "" for a status HTTP does not name."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def http_date(value: str | None) -> str | None:
    """A Last-Modified header value, checked; None when it is not an HTTP date."""
    if not value:
        return None
    try:
        email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return value


def text_header(response: Response, name: str) -> str | None:
    """A response header as text (latin-1, as HTTP sends it), or None."""
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL; None for any other scheme or a malformed URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme]


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


_CONTROL_BYTES = bytes(set(range(32)) - {9, 10, 12, 13})


def binary_content(body: bytes) -> str | None:
    """Why a body served as a text page is not one (control bytes, NUL among them, are more than a
    few in its first 8 KB: an image, an archive, random junk), or None. Decided by content, not by
    the header; a stray control character in a real page is stripped later, not refused here."""
    head = body[:8192]
    if not head:
        return None
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > len(head) * 0.05:
        return f"binary content served as a text page ({controls} control bytes in its first {len(head)})"
    return None


def politeness(settings: Settings, target: str, web_archive: bool) -> dict[str, Any]:
    """The download settings for asking `target`: a replica or mirror of the portal on loopback at
    full speed (PORTAL_LOOPBACK_*); a web archive one request at a time with at least
    PORTAL_WAYBACK_DELAY between them (shared archives rate-limit the impolite), wherever it is:
    one reached through a tunnel or proxy on 127.0.0.1 is still someone else's. Only
    PORTAL_WAYBACK_FULL_SPEED (an archive of one's own, such as a pywb) reads one at full speed.
    Anything else as settings.py says."""
    full_speed = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                  "CONCURRENT_REQUESTS_PER_DOMAIN": settings.getint("PORTAL_LOOPBACK_CONCURRENCY")}
    if web_archive:
        if settings.getbool("PORTAL_WAYBACK_FULL_SPEED"):
            return full_speed
        delay = max(settings.getfloat("DOWNLOAD_DELAY"), settings.getfloat("PORTAL_WAYBACK_DELAY"))
        return {"DOWNLOAD_DELAY": delay, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}
    if is_loopback(target) and settings.getbool("PORTAL_LOOPBACK_FULL_SPEED"):
        return full_speed
    return {}
