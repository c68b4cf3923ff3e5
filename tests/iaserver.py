"""A web archive on 127.0.0.1 that answers as the Internet Archive documents web.archive.org answering.

- The CDX server API, `/cdx/search/cdx` (internetarchive/wayback, wayback-cdx-server/README.md):
  `url` (an exact match on the URL's SURT key: scheme and `www.` do not matter), `from`/`to`
  (inclusive timestamp prefixes), `filter=[!]field:regex`, `collapse=field[:N]` (adjacent rows
  only), `limit`, and a row cap of the server's own below any limit asked (`row_cap`); with
  `output=json`, one JSON array whose first row is the header; with `showResumeKey=true`, an
  empty row and the resume key after the rows when rows remain, and `resumeKey=` resumes after it
  (`resume_keys=False`: a server that gives none, and still caps).
- Replays, `/web/<timestamp>id_/<url>`: a request for another time than a capture's own is
  redirected (302) to the nearest capture's own timestamp; a capture is answered as it was
  captured (its status, headers and body: a captured redirect's Location is the portal's), with
  `Memento-Datetime` and a `Link` header (original, timemap, first, this and last memento); a URL
  never captured answers 404 without `Memento-Datetime`.
- Rate limits: the CDX and the replays each take at most `burst` requests in any `window`
  seconds; more are answered 429 Too Many Requests, with `Retry-After` (`retry_after` seconds) or
  without it (`retry_after=None`). `refuse` names replay paths answered 429 every time;
  `unreadable` names URLs whose CDX queries get an HTML error page (200) instead of an answer.
- `latency`: seconds each answer takes (a distant server); `log`: every request, as the server
  saw it (arrival and answer times, kind, path, status).
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

FIELDS = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]


def surt(url: str) -> str:
    """The URL's SURT key as the Wayback machine sorts its index: `int,nato)/cps/en/x.htm`."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    query = "&".join(sorted(parts.query.split("&"))) if parts.query else ""
    return ",".join(reversed(host.split("."))) + ")" + (parts.path or "/").lower() + (f"?{query.lower()}" if query
                                                                                        else "")


@dataclass(frozen=True)
class Captured:
    """One capture: the URL as captured, its 14-digit time, its status, body and headers."""

    url: str
    timestamp: str
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html; charset=utf-8"),)

    @property
    def digest(self) -> str:
        return base64.b32encode(hashlib.sha1(self.body).digest()).decode()

    @property
    def row(self) -> dict[str, str]:
        mimetype = next((v.split(";")[0] for k, v in self.headers if k.lower() == "content-type"), "unk")
        return {"urlkey": surt(self.url), "timestamp": self.timestamp, "original": self.url, "mimetype": mimetype,
                "statuscode": str(self.status), "digest": self.digest, "length": str(len(self.body) + 300)}


@dataclass
class Hit:
    at: float  # time.monotonic() on arrival
    kind: str  # "cdx", "web" or "other"
    path: str
    status: int = 0
    done: float = 0.0  # time.monotonic() as the body is sent


@dataclass
class Limit:
    """At most `burst` requests accepted in any `window` seconds."""

    burst: int
    window: float
    accepted: deque[float] = field(default_factory=deque)

    def take(self, now: float) -> bool:
        while self.accepted and self.accepted[0] <= now - self.window:
            self.accepted.popleft()
        if len(self.accepted) >= self.burst:
            return False
        self.accepted.append(now)
        return True


class ArchiveServer:
    def __init__(self, captures: list[Captured], *, row_cap: int = 150_000, resume_keys: bool = True,
                 limits: dict[str, tuple[int, float]] | None = None, retry_after: int | None = 1,
                 refuse: set[str] | None = None, unreadable: set[str] | None = None,
                 latency: float = 0.0) -> None:
        self.index = sorted(captures, key=lambda c: (surt(c.url), c.timestamp))
        self.row_cap = row_cap
        self.resume_keys = resume_keys
        self.limits = {kind: Limit(*limit) for kind, limit in (limits or {}).items()}
        self.retry_after = retry_after
        self.refuse = refuse or set()
        self.unreadable = unreadable or set()
        self.latency = latency
        self.log: list[Hit] = []
        self._lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.archive = self
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}/web"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def reply(self, handler: BaseHTTPRequestHandler) -> None:
        hit, (status, headers, body) = self.answer(handler.path)
        if self.latency:
            time.sleep(self.latency)  # the server's own pace, not a wait for anything
        handler.send_response(status)
        for name, value in [*headers, ("Content-Length", str(len(body)))]:
            handler.send_header(name, value)
        handler.end_headers()
        # Answered once its last bytes are on their way: a client that waits for them can ask again
        # (on this server's next thread) before this one's line after the write would run.
        hit.done = time.monotonic()
        handler.wfile.write(body)
        handler.wfile.flush()

    def hits(self, kind: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.log if h.kind == kind]

    # -- answers ----------------------------------------------------------------------------

    def answer(self, path: str) -> tuple[Hit, tuple[int, list[tuple[str, str]], bytes]]:
        now = time.monotonic()
        kind = "cdx" if path.startswith("/cdx/search/cdx") else "web" if path.startswith("/web/") else "other"
        hit = Hit(now, kind, path)
        with self._lock:
            self.log.append(hit)
            limit = self.limits.get(kind)
            allowed = limit is None or limit.take(now)
        if not allowed or (kind == "web" and any(path.endswith(p) for p in self.refuse)):
            status, headers, body = 429, [("Content-Type", "text/html")], b"<h1>Too Many Requests</h1>"
            if self.retry_after is not None:
                headers.append(("Retry-After", str(self.retry_after)))
        elif kind == "cdx":
            status, headers, body = self.cdx(parse_qs(urlsplit(path).query, keep_blank_values=True))
        elif kind == "web":
            status, headers, body = self.replay(path)
        elif path == "/robots.txt":
            status, headers, body = 200, [("Content-Type", "text/plain")], b"User-agent: *\nDisallow: /control/\n"
        else:
            status, headers, body = 404, [("Content-Type", "text/html")], b"<h1>Not Found</h1>"
        hit.status = status
        return hit, (status, headers, body)

    def cdx(self, params: dict[str, list[str]]) -> tuple[int, list[tuple[str, str]], bytes]:
        one = {name: values[-1] for name, values in params.items()}
        if "url" not in one:
            return 400, [("Content-Type", "text/plain")], b"url param missing"
        key = surt(one["url"])
        if any(one["url"].endswith(path) for path in self.unreadable):
            return 200, [("Content-Type", "text/html")], b"<html><body><h1>Temporarily offline</h1></body></html>"
        rows = [c.row for c in self.index if surt(c.url) == key]
        since, until = one.get("from", ""), one.get("to", "")
        rows = [r for r in rows if (not since or r["timestamp"] >= since.ljust(14, "0"))
                and (not until or r["timestamp"] <= until.ljust(14, "9"))]
        if "resumeKey" in one:  # as printed: "<urlkey> <timestamp>!"
            after = tuple(one["resumeKey"].removesuffix("!").rsplit(" ", 1))
            rows = [r for r in rows if (r["urlkey"], r["timestamp"]) > after]
        for spec in params.get("filter", []):
            negate, spec = spec.startswith("!"), spec.removeprefix("!")
            name, _, pattern = spec.partition(":")
            rows = [r for r in rows if bool(re.fullmatch(pattern, r.get(name, ""))) != negate]
        for spec in params.get("collapse", []):  # adjacent rows only
            name, _, length = spec.partition(":")
            n = int(length) if length else None
            kept: list[dict[str, str]] = []
            for r in rows:
                if not kept or kept[-1][name][:n] != r[name][:n]:
                    kept.append(r)
            rows = kept
        asked = int(one.get("limit") or self.row_cap)
        n = min(asked, self.row_cap)
        out, more = rows[:n], len(rows) > n
        resume = quote_plus(f"{out[-1]['urlkey']} {out[-1]['timestamp']}!") \
            if more and out and self.resume_keys and one.get("showResumeKey") == "true" else None
        if one.get("output") == "json":
            table: list[list[str]] = [FIELDS, *([r[f] for f in FIELDS] for r in out)] if out else []
            if resume:
                table += [[], [resume]]
            return 200, [("Content-Type", "application/json")], json.dumps(table).encode()
        lines = [" ".join(r[f] for f in FIELDS) for r in out] + (["", resume] if resume else [])
        return 200, [("Content-Type", "text/plain")], "".join(f"{line}\n" for line in lines).encode()

    def replay(self, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
        m = re.match(r"^/web/(\d{1,14})id_/(https?://.+)$", path)
        if m is None:
            return 400, [("Content-Type", "text/html")], b"<h1>Bad request</h1>"
        asked, url = m[1], m[2]
        captures = [c for c in self.index if surt(c.url) == surt(url)]
        if not captures:
            return 404, [("Content-Type", "text/html")], b"<p>Wayback Machine doesn't have that page archived.</p>"
        target = moment(asked.ljust(14, "0"))
        capture = min(captures, key=lambda c: (abs((moment(c.timestamp) - target).total_seconds()), c.timestamp))
        if capture.timestamp != asked or capture.url != url:
            return 302, [("Location", f"{self.endpoint}/{capture.timestamp}id_/{capture.url}"),
                         ("Content-Type", "text/html")], b""
        first, last = captures[0], captures[-1]
        link = ", ".join([f'<{capture.url}>; rel="original"',
                          f'<{self.endpoint}/timemap/link/{capture.url}>; rel="timemap"; '
                          'type="application/link-format"',
                          *(f'<{self.endpoint}/{c.timestamp}/{c.url}>; rel="{rel}"; datetime="{http_date(c.timestamp)}"'
                            for rel, c in (("first memento", first), ("memento", capture), ("last memento", last)))])
        headers = [*capture.headers, ("Memento-Datetime", http_date(capture.timestamp)), ("Link", link),
                   ("X-Archive-Src", "portalscraper-tests.warc.gz")]
        return capture.status, headers, capture.body


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    archive: ArchiveServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.archive.reply(self)


def moment(timestamp: str) -> datetime:
    return datetime.strptime(timestamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def http_date(timestamp: str) -> str:
    return email.utils.format_datetime(moment(timestamp), usegmt=True)


def arrivals(hits: list[Hit]) -> dict[str, list[Hit]]:
    """Each path's requests, in the order they arrived."""
    out: dict[str, list[Hit]] = {}
    for hit in sorted(hits, key=lambda h: h.at):
        out.setdefault(hit.path, []).append(hit)
    return out


def as_json(hits: list[Hit]) -> list[dict[str, Any]]:
    return [vars(h) for h in hits]
