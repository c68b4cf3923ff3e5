"""Web-archive replays: the Wayback CDX server API and `id_` replay URLs (Internet Archive, pywb).

Pure functions: the spider asks them what to request and how to read the answers.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

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


def cdx_query(endpoint: str, url: str, since: str | None, until: str | None, *, every: bool = False,
              limit: int = CDX_LIMIT) -> str:
    """A CDX query for the captures of one URL in a time window, as JSON, oldest first: those that
    answered 200, byte-identical neighbours collapsed; or (`every`) all of them, of any status
    (archived redirects, 404s and 5xx too), none collapsed.

    Archives differ in what they honour: pywb ignores `collapse` and `showResumeKey`; the
    Internet Archive collapses adjacent rows only, and caps its answers. So answers are read to
    their end by `CdxReading` and deduplicated by `distinct_captures`, whatever the archive did."""
    params: list[tuple[str, str]] = [("url", url), ("output", "json")]
    if not every:
        params.append(("filter", "statuscode:200"))
    params += [("limit", str(limit)), ("showResumeKey", "true")]
    if since:
        params.append(("from", since))
    if until:
        params.append(("to", until))
    if not every:
        params.append(("collapse", "digest"))
    return f"{cdx_url(endpoint)}?{urlencode(params)}"


def parse_cdx(text: str) -> tuple[list[Capture], str | None]:
    """Captures (timestamp, original URL, status, digest) from a CDX JSON answer, and a resumption
    key if any. WaybackError for an answer that is none (an error page, a cut-off body).

    Reads both forms: the Internet Archive's (one JSON array, a header row first, a resume key
    after an empty row) and pywb's (one JSON object per line).
    """
    text = text.strip()
    if not text:
        return [], None
    try:
        return _cdx_rows(text)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise WaybackError(f"not a CDX answer ({type(exc).__name__}: {str(exc)[:100]}): {text[:80]!r}") from None


def _cdx_rows(text: str) -> tuple[list[Capture], str | None]:
    captures: list[Capture] = []
    if text.startswith("["):
        rows = json.loads(text)
        if not rows:
            return [], None
        header, *rest = rows
        resume = None
        if len(rest) >= 2 and rest[-2] == [] and len(rest[-1]) == 1:
            resume = str(rest[-1][0])
            rest = rest[:-2]
        at = {name: header.index(name) for name in ("timestamp", "original", "statuscode", "digest") if name in header}
        captures = [_row(row[at["timestamp"]], row[at["original"]], row[at["statuscode"]] if "statuscode" in at else "",
                         row[at["digest"]] if "digest" in at else "") for row in rest if row]
        return captures, resume
    for line in text.splitlines():
        if line.strip():
            row = json.loads(line)
            captures.append(_row(row["timestamp"], row.get("original") or row["url"],
                                 row.get("status") or row.get("statuscode") or "", row.get("digest") or ""))
    return captures, None


def _row(timestamp: object, original: object, status: object, digest: object) -> Capture:
    if not isinstance(timestamp, str) or not _TIMESTAMP.match(timestamp) or not isinstance(original, str):
        raise ValueError(f"a row without a timestamp and a URL: {timestamp!r}, {original!r}")
    return Capture(timestamp.ljust(14, "0"), original, str(status), str(digest))


def distinct_captures(captures: list[Capture], last_digest: str | None) -> tuple[list[Capture], str | None]:
    """The good captures, oldest first, each change once: a capture byte-identical to the good
    capture before it (the same digest: the page had not changed) is left out, as the Internet
    Archive's `collapse=digest` does (adjacent rows only: a page that changes back is read
    again). `last_digest` is that of the good capture before these (on an earlier page of the
    answer); returns the captures kept and the digest to carry to the next page."""
    out = []
    for capture in sorted(captures, key=lambda c: c.timestamp):
        if not capture.good:
            continue
        if capture.digest and capture.digest == last_digest:
            continue
        last_digest = capture.digest or None
        out.append(capture)
    return out, last_digest


@dataclass
class CdxReading:
    """One CDX query read to its end, a page at a time, whatever the archive honours.

    An archive may cut an answer short of the `limit` asked for (the Internet Archive caps its
    answers at a row count of its own). Where it gives a resume key (`showResumeKey`), the next
    page is asked from that key; where it gives none (pywb), the next page is asked by time,
    from the second of the answer's last capture on (`from=` is inclusive; captures read already
    are left out), until a page brings nothing new. `read` takes each answer in turn and says
    what to ask next, and what the log should say about an answer that was cut short."""

    asked: str  # the page asked last (at first, the query)
    limit: int = CDX_LIMIT  # the rows asked for per answer
    keys: bool = False  # the archive gives resume keys: an answer without one is its last
    by_time: bool = False  # the page asked last was asked by time
    previous: int = 0  # the rows of the answer before
    key: str | None = None  # the resume key of the answer before
    seen: set[Capture] = field(default_factory=set)

    def read(self, text: str) -> tuple[list[Capture], str | None, tuple[int, str] | None]:
        """An answer's captures not read before (oldest first), the URL of the next page (None:
        the query is read to its end), and a note for the log (level, text) when an answer was cut
        short: a warning where the archive did not say so, else for information."""
        captures, key = parse_cdx(text)
        new = sorted((c for c in dict.fromkeys(captures) if c not in self.seen), key=lambda c: c.timestamp)
        self.seen.update(new)
        note = self._cut_silently(captures, new)
        self.previous = len(captures)
        base = without_param(self.asked, "resumeKey")
        if key and key == self.key:  # the same key again: following it would never end
            return new, None, (logging.WARNING, f"the archive gave the same resume key twice ({key[:80]}): "
                                                "the rest of its answer is unread")
        self.key = key
        if key:
            self.keys, self.by_time = True, False
            if note is None and len(captures) < self.limit:
                note = logging.INFO, (f"the archive cut its answer at {len(captures)} captures, short of the "
                                      f"{self.limit} asked for: reading on from its resume key")
            self.asked = f"{base}&resumeKey={quote(key, safe='%+')}"  # as the archive wrote it
            return new, self.asked, note
        if not new or self.keys:
            return new, None, note  # nothing new, or no key from an archive that gives keys: the end
        self.by_time = True
        self.asked = f"{without_param(base, 'from')}&{urlencode({'from': max(c.timestamp for c in captures)})}"
        return new, self.asked, note

    def _cut_silently(self, captures: list[Capture], new: list[Capture]) -> tuple[int, str] | None:
        """A warning when a page asked by time shows that the answer before it was cut short."""
        if not self.by_time:
            return None
        if new and self.previous < self.limit:
            return logging.WARNING, (f"the archive's answer stopped at {self.previous} captures without a resume "
                                     f"key, short of the {self.limit} asked for: {len(new)} more found by asking "
                                     f"from {new[0].timestamp} on")
        if not new and len(captures) >= max(2, self.previous) and len({c.timestamp for c in captures}) == 1:
            return logging.WARNING, (f"the archive answers {len(captures)} captures at most, all in the second "
                                     f"{captures[0].timestamp}, and gives no resume key: later ones of that "
                                     "second may be unread")
        return None


def without_param(url: str, name: str) -> str:
    """The URL without its query parameter `name`."""
    parts = urlsplit(url)
    params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    return urlunsplit(parts._replace(query=urlencode(params)))


def nearest(captures: list[Capture], timestamp: str) -> Capture | None:
    """The good capture nearest in time to `timestamp` (the earlier one on a tie)."""
    target = _moment(timestamp)
    good = [c for c in captures if c.good]
    return min(good, key=lambda c: (abs((_moment(c.timestamp) - target).total_seconds()), c.timestamp), default=None)


def _moment(timestamp: str) -> dt.datetime:
    return dt.datetime.strptime(timestamp.ljust(14, "0")[:14], "%Y%m%d%H%M%S")


def worth_a_lookup(status: int, archived: bool) -> bool:
    """Whether a failed replay says the archive has no page there, so that its index is worth
    asking for another capture: a 404 (never captured, or the nearest capture is an archived 404)
    or any archived error (`archived`: the answer carries a Memento-Datetime). The archive's own
    refusals (429, a 5xx of its own) say nothing about its captures: they are transient."""
    return status == 404 or (archived and status >= 400)


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
