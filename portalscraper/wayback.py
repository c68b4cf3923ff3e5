"""Web-archive replays: the Wayback CDX server API and `id_` replay URLs (Internet Archive, pywb).

Pure functions: the spider asks them what to request and how to read the answers.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

CDX_LIMIT = 5000  # captures per CDX answer
_TIMESTAMP = re.compile(r"^\d{4,14}$")
_REPLAY = re.compile(r"/(?P<ts>\d{4,14})(?:[a-z]{2}_)?/(?P<url>https?://.+)$")


class WaybackError(ValueError):
    """A web-archive argument that does not make sense."""


@dataclass(frozen=True)
class Capture:
    timestamp: str  # 14 digits, UTC
    original: str  # the URL as the archive captured it
    status: str = ""  # the captured HTTP status ("200", "302", "404"; "-" for revisits), when the index says
    digest: str = ""  # the payload's digest: byte-identical captures share it

    @property
    def time(self) -> str:
        return timestamp_iso(self.timestamp)

    @property
    def good(self) -> bool:
        """A capture of a page that answered (not an archived redirect, 404 or 5xx)."""
        return self.status in ("", "200")


def check_timestamp(value: str | None, name: str) -> str | None:
    """`2012`, `20120101`, `20121231235959`: a Wayback timestamp prefix."""
    if not value:
        return None
    text = str(value).strip()
    if not _TIMESTAMP.match(text):
        raise WaybackError(f"{name} must be a Wayback timestamp such as 20120101, not {value!r}")
    return text


def cdx_url(endpoint: str) -> str:
    """The CDX server of a replay endpoint: the Internet Archive's (…/web) or pywb's (<collection>/cdx)."""
    endpoint = endpoint.rstrip("/")
    if urlsplit(endpoint).path.rstrip("/") == "/web":
        return endpoint[: -len("/web")] + "/cdx/search/cdx"
    return endpoint + "/cdx"


def cdx_query(endpoint: str, url: str, since: str | None, until: str | None, *, collapse: bool = True,
              limit: int = CDX_LIMIT) -> str:
    """A CDX query for the 200 captures of one URL in a time window, as JSON, oldest first.

    Archives differ in what they honour: pywb ignores `collapse` and `showResumeKey`, so the
    answers are also deduplicated by digest (`distinct_captures`) and paged by time (`next_since`),
    which both the Internet Archive and pywb honour."""
    params: list[tuple[str, str]] = [("url", url), ("output", "json"), ("filter", "statuscode:200"),
                                     ("limit", str(limit)), ("showResumeKey", "true")]
    if since:
        params.append(("from", since))
    if until:
        params.append(("to", until))
    if collapse:
        params.append(("collapse", "digest"))
    return f"{cdx_url(endpoint)}?{urlencode(params)}"


def parse_cdx(text: str) -> tuple[list[Capture], str | None]:
    """Captures (timestamp, original URL, status, digest) from a CDX JSON answer, and a resumption
    key if any.

    Reads both forms: the Internet Archive's (one JSON array, a header row first, a resume key
    after an empty row) and pywb's (one JSON object per line).
    """
    text = text.strip()
    if not text:
        return [], None
    captures: list[Capture] = []
    if text.startswith("["):
        rows = json.loads(text)
        if not rows:
            return [], None
        header, *rest = rows
        resume = None
        if len(rest) >= 2 and rest[-2] == [] and len(rest[-1]) == 1:
            resume = rest[-1][0]
            rest = rest[:-2]
        at = {name: header.index(name) for name in ("timestamp", "original", "statuscode", "digest") if name in header}
        captures = [Capture(row[at["timestamp"]], row[at["original"]],
                            row[at["statuscode"]] if "statuscode" in at else "",
                            row[at["digest"]] if "digest" in at else "") for row in rest if row]
        return captures, resume
    for line in text.splitlines():
        if line.strip():
            row = json.loads(line)
            captures.append(Capture(row["timestamp"], row.get("original") or row["url"],
                                    str(row.get("status") or row.get("statuscode") or ""), row.get("digest") or ""))
    return captures, None


def distinct_captures(captures: list[Capture], seen_digests: set[str]) -> list[Capture]:
    """The good captures, oldest first, each content once: a capture whose digest was seen before
    (byte-identical to an earlier one) is left out, and `seen_digests` learns the new ones."""
    out = []
    for capture in sorted(captures, key=lambda c: c.timestamp):
        if not capture.good:
            continue
        if capture.digest:
            if capture.digest in seen_digests:
                continue
            seen_digests.add(capture.digest)
        out.append(capture)
    return out


def next_since(captures: list[Capture], limit: int) -> str | None:
    """Where the next page of a full CDX answer starts: one second after its last capture, or None
    when the answer was not full (the window is done)."""
    if len(captures) < limit or not captures:
        return None
    last = max(c.timestamp for c in captures).ljust(14, "0")
    moment = dt.datetime.strptime(last, "%Y%m%d%H%M%S") + dt.timedelta(seconds=1)
    return moment.strftime("%Y%m%d%H%M%S")


def nearest(captures: list[Capture], timestamp: str) -> Capture | None:
    """The good capture nearest in time to `timestamp` (the earlier one on a tie)."""
    target = _moment(timestamp)
    good = [c for c in captures if c.good]
    return min(good, key=lambda c: (abs((_moment(c.timestamp) - target).total_seconds()), c.timestamp), default=None)


def _moment(timestamp: str) -> dt.datetime:
    return dt.datetime.strptime(timestamp.ljust(14, "0")[:14], "%Y%m%d%H%M%S")


def replay_url(endpoint: str, timestamp: str, url: str) -> str:
    """The capture's original bytes (`id_`: no rewriting), at or nearest to the timestamp."""
    return f"{endpoint.rstrip('/')}/{timestamp}id_/{url}"


def capture_of(replayed_url: str, memento_datetime: str | None, served: str | None = None) -> Capture | None:
    """What a replay response is a capture of: the memento the archive says it served (`served`: its
    Content-Location or `Link rel="memento"` URL), else the Memento-Datetime header, else the URL's
    timestamp."""
    m = _REPLAY.search(served or "") or _REPLAY.search(replayed_url)
    if m is None:
        return None
    timestamp = m["ts"]
    if memento_datetime:
        try:
            moment = email.utils.parsedate_to_datetime(memento_datetime)
            timestamp = moment.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")
        except (TypeError, ValueError):
            pass
    return Capture(timestamp.ljust(14, "0"), m["url"])


def replayed_capture(url: str, header: Callable[[str], str | None]) -> Capture | None:
    """The capture a replay response is: the memento it says it served (its Content-Location or
    `Link rel="memento"`), at its Memento-Datetime; `header` reads the response's headers."""
    served = served_memento(header("Content-Location"), header("Link"))
    return capture_of(url, header("Memento-Datetime"), served)


def served_memento(content_location: str | None, link: str | None) -> str | None:
    """The URL of the memento a replay served: its Content-Location, else the `rel="memento"` entry
    of its Link header."""
    if content_location:
        return content_location.strip()
    for part in (link or "").split(","):
        if re.search(r';\s*rel="?memento"?\s*(?:;|$)', part) and (m := re.search(r"<([^>]+)>", part)):
            return m[1]
    return None


def in_archive(url: str, endpoint: str) -> bool:
    """Whether a request stays inside the web archive: its origin (scheme, host, port) and path
    under the replay endpoint, or the archive host's robots.txt."""
    want, got = urlsplit(endpoint), urlsplit(url)
    if (got.scheme, got.hostname, got.port) != (want.scheme, want.hostname, want.port):
        return False
    root = urlsplit(cdx_url(endpoint)).path.rsplit("/", 1)[0]  # pywb: /<coll>/cdx; IA: /cdx/search
    prefixes = {want.path.rstrip("/") + "/", root + "/"}
    return got.path == "/robots.txt" or any(got.path.startswith(p) for p in prefixes)


def timestamp_iso(timestamp: str) -> str:
    ts = timestamp.ljust(14, "0")
    return dt.datetime.strptime(ts, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC).isoformat(timespec="seconds")
