"""Web-archive replays: the Wayback CDX server API and `id_` replay URLs (Internet Archive, pywb).

Pure functions: the spider asks them what to request and how to read the answers.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

_TIMESTAMP = re.compile(r"^\d{4,14}$")
_REPLAY = re.compile(r"/(?P<ts>\d{4,14})(?:[a-z]{2}_)?/(?P<url>https?://.+)$")


class WaybackError(ValueError):
    """A web-archive argument that does not make sense."""


@dataclass(frozen=True)
class Capture:
    timestamp: str  # 14 digits, UTC
    original: str  # the URL as the archive captured it

    @property
    def time(self) -> str:
        return timestamp_iso(self.timestamp)


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
              resume_key: str | None = None, limit: int = 5000) -> str:
    """A CDX query for the 200 captures of one URL in a time window, as JSON, with resumption."""
    params: list[tuple[str, str]] = [("url", url), ("output", "json"), ("filter", "statuscode:200"),
                                     ("limit", str(limit)), ("showResumeKey", "true")]
    if since:
        params.append(("from", since))
    if until:
        params.append(("to", until))
    if collapse:
        params.append(("collapse", "digest"))
    if resume_key:
        params.append(("resumeKey", resume_key))
    return f"{cdx_url(endpoint)}?{urlencode(params)}"


def parse_cdx(text: str) -> tuple[list[Capture], str | None]:
    """Captures (timestamp, original URL) from a CDX JSON answer, and a resumption key if any.

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
        at_ts, at_url = header.index("timestamp"), header.index("original")
        captures = [Capture(row[at_ts], row[at_url]) for row in rest if row]
        return captures, resume
    for line in text.splitlines():
        if line.strip():
            row = json.loads(line)
            captures.append(Capture(row["timestamp"], row.get("original") or row["url"]))
    return captures, None


def replay_url(endpoint: str, timestamp: str, url: str) -> str:
    """The capture's original bytes (`id_`: no rewriting), at or nearest to the timestamp."""
    return f"{endpoint.rstrip('/')}/{timestamp}id_/{url}"


def capture_of(replayed_url: str, memento_datetime: str | None) -> Capture | None:
    """What a replay response is a capture of: the Memento-Datetime header, else the URL's timestamp."""
    m = _REPLAY.search(replayed_url)
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


def timestamp_iso(timestamp: str) -> str:
    ts = timestamp.ljust(14, "0")
    return dt.datetime.strptime(ts, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC).isoformat(timespec="seconds")
