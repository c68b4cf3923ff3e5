"""Raw captures: every response a crawl receives, kept in a WARC file, and crawls replayed from them.

`WarcRecorder` (a downloader middleware, on when WARC_DIR is set) writes a request and a
response record for every response, as received (before decompression), into
`<WARC_DIR>/<spider>-<UTC time>-<pid>.warc.gz`, one gzip member per record. A 304 Not Modified
is written as a WARC 1.1 revisit record (profile server-not-modified) that refers to the capture
it confirms: the one the archived record was made from, by record id, target URI and date. The
file's warcinfo record says which crawl wrote it (archive, crawl id and start, resumes) and how
(its arguments, mode and whether it asked conditionally); it is written with the first capture,
once the crawl has chosen its mode. The records are serialized, digested, compressed and written
by a thread of their own, in order, a batch at a time, from a bounded queue: the reactor's thread
only hands each exchange over. Each response's place in the file (a future, resolved once
written) goes into `response.meta["warc"]`, and from there into the record made of it
(`warc_file`, `warc_offset`), which waits for it before it is committed.

`WarcReplayHandler` answers a crawl's requests from its WARC files instead of the network, so
that `portalscraper reparse` runs the same spider, extraction and pipelines over captured bytes
(portalscraper/webarchive/warcfiles.py reads the files).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import random
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, Self
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from warcio.archiveiterator import ArchiveIterator

from portalscraper.crawl.contract import portal_spider
from portalscraper.crawl.httputil import status_phrase
from portalscraper.webarchive.warcfiles import (
    ARG_PREFIX,
    REVISIT_PROFILE,
    Capture,
    WarcIndex,
    header_fields,
    parse_date,
)

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

_HOP_BY_HOP = {b"transfer-encoding", b"connection", b"keep-alive"}
_NOT_KEPT = _HOP_BY_HOP | {b"content-length"}  # a response's: the length of the body as received is written
_CRLF = b"\r\n"


def _header_block(first_line: str, pairs: Iterable[tuple[bytes, bytes]]) -> bytes:
    return b"".join([first_line.encode("latin-1"), _CRLF, *(name + b": " + value + _CRLF for name, value in pairs),
                     _CRLF])


def _header_pairs(headers: Headers, drop: set[bytes] = _HOP_BY_HOP) -> list[tuple[bytes, bytes]]:
    # The lists as Headers keeps them, by their normalized names: its items() looks each name up
    # again, normalizing it twice (most of the reactor's hand-over of an exchange).
    return [(name, value) for name, values in dict.items(headers) if name.lower() not in drop for value in values]


_BASE32 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_BASE32_PAIRS = [bytes((_BASE32[n >> 5], _BASE32[n & 31])) for n in range(1024)]  # ten bits, two letters


def _sha1(data: bytes) -> bytes:
    """A WARC digest: "sha1:" and the SHA-1 in base 32 (RFC 4648), its 160 bits taken ten at a
    time; base64.b32encode, in Python, five bytes at a time, held the writer's GIL three times as
    long (three digests a response)."""
    bits = int.from_bytes(hashlib.sha1(data).digest())
    return b"sha1:" + b"".join([_BASE32_PAIRS[(bits >> shift) & 1023] for shift in range(150, -1, -10)])


def warc_record(kind: str, target: str, block: bytes, when: bytes, extra: list[tuple[bytes, bytes]]) -> bytes:
    """One WARC/1.1 record (a request, a response or a revisit), uncompressed: its header, `block`
    (an HTTP message) and the two CRLFs; `when` is its WARC-Date."""
    msgtype = b"request" if kind == "request" else b"response"  # a revisit holds a response's headers
    headers = [(b"WARC-Type", kind.encode()), *extra,
               (b"WARC-Date", when),
               (b"WARC-Target-URI", target.encode("utf-8")), (b"WARC-Block-Digest", _sha1(block)),
               (b"Content-Type", b"application/http; msgtype=" + msgtype),
               (b"Content-Length", str(len(block)).encode())]
    return _header_block("WARC/1.1", headers) + block + _CRLF + _CRLF


@dataclass(frozen=True)
class Exchange:
    """A response and its request as received: what the recorder hands to its writer thread. A 304
    Not Modified is written as a revisit of `confirms` (a capture's WARC file and offset), when known."""

    target: str
    when: dt.datetime
    protocol: str
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    ip_address: IPv4Address | IPv6Address | None
    method: str
    request_headers: list[tuple[bytes, bytes]]  # as sent, but Host (the target's)
    request_body: bytes
    confirms: tuple[Path, int] | None = None

    def records(self, level: int, captures: CaptureHeaders) -> bytes:
        """The response (or revisit) record and its request record, each one gzip member (at zlib
        `level`), as a WARC file wants; a revisit's reference read through `captures`."""
        response_id = _record_id()
        extra = [(b"WARC-Record-ID", response_id)]
        status_line = f"{self.protocol} {self.status} {status_phrase(self.status)}"
        if self.status == 304:
            kind, block = "revisit", _header_block(status_line, self.headers)
            extra += [(b"WARC-Profile", REVISIT_PROFILE.encode()), *captures.refers_to(self.confirms)]
        else:
            kind, block = "response", _header_block(status_line, self.headers) + self.body
            extra.append((b"WARC-Payload-Digest", _sha1(self.body)))
        if self.ip_address:
            extra.append((b"WARC-IP-Address", str(self.ip_address).encode()))
        when = _warc_date(self.when)
        response = warc_record(kind, self.target, block, when, extra)
        parts = urlsplit(self.target)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_block = _header_block(f"{self.method} {path} {self.protocol}",
                                      [(b"Host", parts.netloc.encode("latin-1")), *self.request_headers])
        request = warc_record("request", self.target, request_block + self.request_body, when,
                              [(b"WARC-Record-ID", _record_id()), (b"WARC-Concurrent-To", response_id)])
        return _member(response, level) + _member(request, level)


class CaptureHeaders:
    """Reads the header of a capture a revisit confirms, for its WARC-Refers-To fields: the record
    id, target URI and date of the archived record's capture, in its WARC file (in the crawl's WARC
    folder). Only the head of its gzip member is read (a few kilobytes, through zlib: warcio took
    five times as long, on the writer thread, per 304). The files stay open until `close`."""

    def __init__(self) -> None:
        self._files: dict[Path, IO[bytes]] = {}

    def refers_to(self, capture: tuple[Path, int] | None) -> list[tuple[bytes, bytes]]:
        """A revisit's WARC-Refers-To headers; none if the file is not at hand (on another machine,
        say): a rebuild then takes the last capture of the same URI before the revisit."""
        if capture is None:
            return []
        path, offset = capture
        try:
            fields = self._header(path, offset)
        except (OSError, ValueError, zlib.error) as exc:
            logger.debug("The capture a 304 confirms is not at hand (%s at %d: %s)", path, offset, exc)
            return []
        return [(name.encode(), fields[source].encode("utf-8")) for name, source in (
            ("WARC-Refers-To", "warc-record-id"), ("WARC-Refers-To-Target-URI", "warc-target-uri"),
            ("WARC-Refers-To-Date", "warc-date")) if fields.get(source)]

    def _header(self, path: Path, offset: int) -> dict[str, str]:
        stream = self._files.get(path)
        if stream is None:
            stream = self._files[path] = path.open("rb")
        stream.seek(offset)
        head = stream.read(_HEAD_BYTES)
        if head[:2] == b"\x1f\x8b":  # one gzip member per record
            head = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(head, 4 * _HEAD_BYTES)
        return header_fields(head)[0]

    def close(self) -> None:
        for stream in self._files.values():
            stream.close()
        self._files.clear()


_HEAD_BYTES = 4096  # compressed bytes read for a record's header


@dataclass(frozen=True)
class _Warcinfo:
    block: bytes
    filename: str

    def records(self, level: int, captures: CaptureHeaders) -> bytes:
        return _member(_header_block("WARC/1.1", [
            (b"WARC-Type", b"warcinfo"), (b"WARC-Record-ID", _record_id()),
            (b"WARC-Date", _warc_date(dt.datetime.now(dt.UTC))),
            (b"WARC-Filename", self.filename.encode()), (b"Content-Type", b"application/warc-fields"),
            (b"Content-Length", str(len(self.block)).encode())]) + self.block + _CRLF + _CRLF, level)


class _Job(Protocol):
    def records(self, level: int, captures: CaptureHeaders) -> bytes: ...


_UUID4 = 0x4000 << 64 | 0x8000 << 48  # the version (4: random) and variant (RFC 4122) bits
_UUID4_MASK = ~(0xF000 << 64 | 0xC000 << 48)


def _record_id() -> bytes:
    """A random (version 4) UUID as a WARC record id. What an id needs is to be unique: the random
    module's generator (seeded by the system, and again in a forked child) gives it without the
    system call uuid4() makes for each, and its text is put together as uuid.UUID would (which
    costs as much again, in Python, on the writer's thread)."""
    hex_ = f"{random.getrandbits(128) & _UUID4_MASK | _UUID4:032x}"
    return f"<urn:uuid:{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}>".encode()


def _warc_date(when: dt.datetime) -> bytes:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode()


def _member(record: bytes, level: int) -> bytes:
    return zlib.compress(record, level, wbits=zlib.MAX_WBITS + 16)


class _WriterThread(threading.Thread):
    """Serializes, digests, compresses and writes exchanges in order, off the reactor's thread,
    a batch at a time: whatever is waiting when it wakes (every BATCH_SECONDS, or sooner when the
    queue is full), put together and written with one write and one flush; then each exchange's
    offset in the file is its future's result. The reactor's thread only appends to the queue:
    no lock, no wake-up per response. Both threads share one GIL, and every time the writer takes
    it back (after zlib, a system call, a wake-up) the reactor may wait: per batch, not per
    response, that is a handful of times a second. The queue is bounded: a disk slower than the
    crawl slows the crawl, it does not grow memory."""

    BATCH_SECONDS = 0.05

    def __init__(self, out: IO[bytes], level: int, queue_size: int) -> None:
        super().__init__(name="warc-writer", daemon=True)
        self.out, self.level = out, level
        self.queue_size = max(1, queue_size)
        self.position = out.tell()
        self.waiting: deque[tuple[_Job, Future[int]]] = deque()  # appended by the reactor, taken here
        self.wake = threading.Event()  # the queue is full, or the crawl is over
        self.taken = threading.Event()  # a batch was taken: there is room again
        self.closing = False
        self.failure: BaseException | None = None
        self.captures = CaptureHeaders()
        # Times a response found the queue full, and the time the crawl waited for room (stats).
        self.full_waits = 0
        self.full_wait_seconds = 0.0

    def run(self) -> None:
        while True:
            self.wake.wait(self.BATCH_SECONDS)
            self.wake.clear()
            closing = self.closing  # read before the queue: what is queued before close() is written
            batch = [self.waiting.popleft() for _ in range(len(self.waiting))]
            self.taken.set()
            if batch:
                self._write(batch)
            if closing and not self.waiting:
                return

    def _write(self, batch: list[tuple[_Job, Future[int]]]) -> None:
        if self.failure is None:
            try:
                members = [job.records(self.level, self.captures) for job, _ in batch]
                self.out.write(b"".join(members))
                self.out.flush()
            except BaseException as exc:  # a full disk: said once, and by every offset still asked
                self.failure = exc
                logger.error("Raw captures not written from here on: %s", exc)
        if self.failure is not None:
            for _, offset in batch:
                offset.set_exception(self.failure)
            return
        for member, (_, offset) in zip(members, batch, strict=True):
            offset.set_result(self.position)
            self.position += len(member)

    def submit(self, exchange: _Job) -> Future[int]:
        offset: Future[int] = Future()
        if len(self.waiting) >= self.queue_size:  # the writer is behind: the crawl waits for it, and that is counted
            started = time.monotonic()
            while len(self.waiting) >= self.queue_size and self.is_alive():
                self.taken.clear()
                self.wake.set()
                self.taken.wait(self.BATCH_SECONDS)
            self.full_waits += 1
            self.full_wait_seconds += time.monotonic() - started
        self.waiting.append((exchange, offset))
        return offset

    def close(self) -> None:
        self.closing = True
        self.wake.set()
        self.join()
        self.captures.close()


class WarcRecorder:
    """Writes every response (and its request) to a gzip WARC file, through a writer thread."""

    def __init__(self, crawler: Crawler, folder: Path, gzip_level: int = 1, queue_size: int = 256) -> None:
        self.crawler = crawler
        self.folder = folder
        self.gzip_level = gzip_level
        self.queue_size = queue_size
        self.path: Path | None = None
        self._file: IO[bytes] | None = None
        self._writer: _WriterThread | None = None
        self._spider: Spider | None = None  # until its warcinfo record is written
        self.records = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        folder = crawler.settings.get("WARC_DIR")
        if not crawler.settings.getbool("ARCHIVE_ENABLED") or not folder or \
                crawler.settings.getlist("WARC_REPLAY_FILES"):
            raise NotConfigured  # not a crawl (shell, fetch...), off on purpose (""), or a replay of WARC files
        recorder = cls(crawler, Path(folder), crawler.settings.getint("WARC_GZIP_LEVEL"),
                       crawler.settings.getint("WARC_QUEUE_SIZE"))
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def spider_opened(self, spider: Spider) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
        self.path = self.folder / f"{spider.name}-{stamp}-{os.getpid()}.warc.gz"
        self._file = self.path.open("ab")
        self._writer = _WriterThread(self._file, self.gzip_level, self.queue_size)
        self._writer.start()
        self._spider = spider
        logger.info("Writing the crawl's raw captures to %s", self.path)

    def _write_warcinfo(self) -> None:
        """The file's warcinfo record: written before the first capture (by then the spider has
        chosen its mode), or at the end if there is none."""
        spider, self._spider = self._spider, None
        if spider is None or self._writer is None or self.path is None:
            return
        self._writer.submit(_Warcinfo(warcinfo_fields(spider), self.path.name))

    def spider_closed(self, spider: Spider) -> None:
        self._write_warcinfo()
        if self._writer is not None:
            self._writer.close()  # everything queued is written first
            if self.crawler.stats is not None:
                self.crawler.stats.set_value("warc/queue_full", self._writer.full_waits)
                self.crawler.stats.set_value("warc/queue_full_wait_seconds", round(self._writer.full_wait_seconds, 3))
            self._writer = None
        if self._file is not None:
            self._file.close()
            self._file = None
            logger.info("WARC file %s: %d responses", self.path, self.records)

    def process_response(self, request: Request, response: Response) -> Response:
        if self._writer is None or self.path is None or "cached" in response.flags:
            return response  # an HTTP-cache hit (HTTPCACHE_ENABLED) is no capture: it was recorded when fetched
        self._write_warcinfo()
        # What a 304 confirms: the capture the archived record (whose validators were sent) came from.
        confirms = request.meta.get("revalidates") if response.status == 304 else None
        # Copies of what may change once handed over (headers); the rest is put together by the writer.
        exchange = Exchange(
            target=request.url, when=dt.datetime.now(dt.UTC), protocol=(response.protocol or "HTTP/1.1").upper(),
            status=response.status,
            # The body as received, and its length (the length the server sent is dropped: one, not two).
            headers=[*_header_pairs(response.headers, _NOT_KEPT),
                     (b"Content-Length", str(len(response.body)).encode())],
            body=response.body, ip_address=response.ip_address, method=request.method,
            request_headers=_header_pairs(request.headers), request_body=request.body,
            confirms=(self.folder / confirms["file"], int(confirms["offset"])) if confirms else None)
        self.records += 1
        # Where the response is in the file, once written (response.meta, once tied): a record's
        # row waits for it before it is committed.
        request.meta["warc"] = {"file": self.path.name, "offset": self._writer.submit(exchange)}
        return response


async def offset_written(item: Any) -> None:
    """The item's page written to the WARC file, and its offset settled into the item (a number, as
    the archive and a shared crawl's Redis take it): waited for without holding the reactor (the
    WARC writer thread may have it queued)."""
    state = getattr(item, "state", None)
    offset = getattr(state, "warc_offset", None)
    if not isinstance(offset, Future):
        return
    if not offset.done():
        from scrapy.utils.defer import deferred_to_future
        from twisted.internet import defer

        finished: defer.Deferred[None] = defer.Deferred()
        offset.add_done_callback(lambda _: _SETTLED.add(finished))
        await deferred_to_future(finished)
    state.warc_offset = offset.result()  # type: ignore[union-attr]


class _Settled:
    """Items waiting for their offsets, woken on the reactor's thread once per batch the writer
    settles, not once per item (each wake-up is a write to the reactor's waker, from the writer's
    thread, and a turn of the reactor's loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: list[Deferred[None]] = []

    def add(self, finished: Deferred[None]) -> None:
        """On the writer's thread: `finished` fires on the reactor's, with the rest of its batch."""
        with self._lock:
            self._ready.append(finished)
            if len(self._ready) > 1:
                return  # the reactor is to fire them already
        from twisted.internet import reactor

        reactor.callFromThread(self._fire)

    def _fire(self) -> None:
        with self._lock:
            ready, self._ready = self._ready, []
        for finished in ready:
            finished.callback(None)


_SETTLED = _Settled()


def warcinfo_fields(spider: Spider) -> bytes:
    """A crawl's warcinfo block: the spider and its arguments (what reparse runs again), which crawl
    of which archive it is, and how it ran (its mode; conditional requests or not)."""
    portal = portal_spider(spider)
    args = portal.args if portal else None
    memory = portal.archive_memory if portal else None  # the archive's, or a shared crawl's writer's
    stamp = memory.stamp if memory else None
    fields: dict[str, object] = {
        "software": "portalscraper", "format": "WARC File Format 1.1", "spider": spider.name,
        **{f"{ARG_PREFIX}{k}": v for k, v in (args.row() if args is not None else {}).items()
           if v not in (None, "", False)}}
    if stamp is not None:
        fields.update({"crawl-archive": stamp.archive, "crawl-id": stamp.crawl_id,
                       "crawl-started": stamp.started_at, "crawl-resumed": stamp.resumed})
    if portal is not None:
        fields.update({"crawl-mode": portal.mode, "crawl-incremental": str(bool(portal.incremental))})
    return "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode("utf-8")


class WarcReplayHandler:
    """A download handler answering every request from one crawl's WARC files (WARC_REPLAY_FILES):
    no network.

    Each URL is answered by its last capture in the files. A 304 (a revisit record) answers a
    conditional request as it did the crawl; a request without validators gets the capture the
    revisit confirms (looked for in WARC_REPLAY_REFERENCES too), as a server would have answered
    it. A URL the files do not hold is answered 404, like a page the crawl never saw.
    """

    lazy = False

    def __init__(self, paths: list[str], maxsize: int, references: list[str] | None = None) -> None:
        if not paths:
            raise NotConfigured("WARC_REPLAY_FILES names no WARC files")
        self.index = WarcIndex(paths, references or [])
        self.maxsize = maxsize

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        return cls(settings.getlist("WARC_REPLAY_FILES"), settings.getint("DOWNLOAD_MAXSIZE"),
                   settings.getlist("WARC_REPLAY_REFERENCES"))

    async def download_request(self, request: Request) -> Response:
        found = self.index.get(request.url)
        if found is None:
            return Response(request.url, status=404, request=request)
        conditional = b"If-None-Match" in request.headers or b"If-Modified-Since" in request.headers
        if found.revisit and not conditional:
            found = self.index.confirmed(found) or found
        maxsize = int(request.meta.get("download_maxsize", self.maxsize) or 0)
        status, headers, body = _read_capture(found, maxsize)
        request.meta["capture_time"] = parse_date(found.date).isoformat(timespec="seconds")
        request.meta["warc"] = {"file": found.path.name, "offset": found.offset}
        cls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        return cls(url=request.url, status=status, headers=headers, body=body, request=request)

    async def close(self) -> None:
        return None


def _payload(record: Any, maxsize: int) -> bytes:
    """A record's payload, its gzip or deflate Content-Encoding undone by at most `maxsize` + 1
    bytes of output (warcio's own decoding inflates a whole compressed block at once: a gzip bomb's
    block is tens of megabytes). Other encodings, and chunked bodies, through warcio."""
    encoding = (record.http_headers.get_header("Content-Encoding") or "").strip().lower()
    chunked = "chunked" in (record.http_headers.get_header("Transfer-Encoding") or "").lower()
    if encoding not in ("gzip", "x-gzip", "deflate") or chunked:
        return bytes(record.content_stream().read(maxsize + 1 if maxsize else -1))
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS)
    limit = maxsize + 1 if maxsize else 0
    out = bytearray()
    while chunk := record.raw_stream.read(65536):
        try:
            out += inflate.decompress(chunk, limit - len(out) if limit else 0)
        except zlib.error:
            break  # a body cut short or damaged: what could be read of it
        if limit and len(out) >= limit:
            break
    return bytes(out)


def _read_capture(capture: Capture, maxsize: int) -> tuple[int, Headers, bytes]:
    """A capture's status, headers and body: Content-Encoding undone, as received, and no more than
    the crawl itself would take (a gzip bomb in a record is read to DOWNLOAD_MAXSIZE and refused,
    not decompressed whole)."""
    with capture.path.open("rb") as stream:
        stream.seek(capture.offset)
        record = next(iter(ArchiveIterator(stream)))
        body = _payload(record, maxsize)
        if maxsize and len(body) > maxsize:
            raise IgnoreRequest(f"capture larger than DOWNLOAD_MAXSIZE ({maxsize:,} bytes), not read")
        status = int(record.http_headers.get_statuscode() or 200)
        headers = Headers({k: v for k, v in record.http_headers.headers
                           if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")})
    return status, headers, body
