"""HTTP helpers with no Scrapy in them: status phrases, dates in headers, origins, loopback
addresses, and bodies that are not text. Shared by the crawl's scope, spiders, middlewares and the
WARC recorder."""

from __future__ import annotations

import email.utils
import ipaddress
from functools import lru_cache
from http import HTTPStatus
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
# The header the replica portal and the project's test sites send with every answer: crawls read
# them at full speed (crawl/politeness.py).
REPLICA_HEADER = "X-Portal-Replica"
REPLICA_VALUE = "portalscraper"


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


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@lru_cache(maxsize=1024)
def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL; None for any other scheme or a malformed URL. The
    last URLs' are kept: a crawl asks it of each URL several times (its scope, the origin guard)
    within a few pages."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme]


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
