"""Raw captures: every response a crawl receives, kept in a WARC file, and crawls replayed from them.

`WarcRecorder` (a downloader middleware, on when WARC_DIR is set) writes a request and a
response record for every response, as received (before decompression), into
`<WARC_DIR>/<spider>-<UTC time>-<pid>.warc.gz`, one gzip member per record. A 304 Not Modified
is written as a WARC 1.1 revisit record (profile server-not-modified) that refers to the capture
it confirms: the one the archived record was made from, by record id, target URI and date. The
file's warcinfo record says which crawl wrote it (archive, crawl id and start, resumes) and how
(its arguments, mode and whether it asked conditionally); it is written with the first capture,
once the crawl has chosen its mode. The records are serialized, digested, compressed and written
by a process of their own (portalscraper/webarchive/warcwriter.py), in order, a batch at a time,
with a bound on what waits: the reactor's thread only frames each exchange and hands it over.
Each response's place in the file (a future, resolved once written) goes into
`response.meta["warc"]`, and from there into the record made of it (`warc_file`, `warc_offset`),
which waits for it before it is committed.

`WarcReplayHandler` answers a crawl's requests from its WARC files instead of the network, so
that `portalscraper reparse` runs the same spider, extraction and pipelines over captured bytes
(portalscraper/webarchive/warcfiles.py reads the files).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import select
import subprocess
import sys
import threading
import time
import zlib
from collections import deque
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from twisted.internet.interfaces import IReadDescriptor
from warcio.archiveiterator import ArchiveIterator
from zope.interface import implementer

from portalscraper.crawl.contract import portal_spider
from portalscraper.webarchive.warcfiles import ARG_PREFIX, Capture, WarcIndex, parse_date
from portalscraper.webarchive.warcwriter import ACK, Exchange, Warcinfo, failure, frame

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

_HOP_BY_HOP = {b"transfer-encoding", b"connection", b"keep-alive"}
_NOT_KEPT = _HOP_BY_HOP | {b"content-length"}  # a response's: the length of the body as received is written


def _header_pairs(headers: Headers, drop: set[bytes] = _HOP_BY_HOP) -> list[tuple[bytes, bytes]]:
    # The lists as Headers keeps them, by their normalized names: its items() looks each name up
    # again, normalizing it twice (most of the reactor's hand-over of an exchange).
    return [(name, value) for name, values in dict.items(headers) if name.lower() not in drop for value in values]


class WriterProcess:
    """The crawl's end of the WARC writer process (portalscraper/webarchive/warcwriter.py).

    `submit` frames a job into a buffer and gives its offset as a future; the buffer goes to the
    process's standard input a batch at a time (every BATCH_SECONDS, one write, on the reactor's
    thread once `attach`ed), and the offsets it answers are read as the reactor reads a socket, a
    batch at a time, each future settled in order. Nothing but that framing and those two system
    calls a batch is the crawl's: the records' serialization, digests, compression and writes run
    on the other core, sharing no interpreter lock with the crawl. Jobs not yet answered are
    bounded (`queue_size`): a disk slower than the crawl slows the crawl (it waits, and that is
    counted), it does not grow memory."""

    BATCH_SECONDS = 0.05
    MODULE = "portalscraper.webarchive.warcwriter"

    def __init__(self, path: Path, level: int, queue_size: int) -> None:
        self.queue_size = max(1, queue_size)
        # In a process group of its own: a terminal's Ctrl-C is the crawl's to act on, and the crawl
        # closes the writer's input once stopped (the writer ignores SIGINT too, once started).
        self.process = subprocess.Popen([sys.executable, "-m", self.MODULE, str(path), str(level)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, process_group=0)
        assert self.process.stdin is not None and self.process.stdout is not None
        self._to, self._from = self.process.stdin.fileno(), self.process.stdout.fileno()
        with contextlib.suppress(OSError):  # a megabyte of pipe: a batch goes in one write
            fcntl.fcntl(self._to, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_BYTES)
        os.set_blocking(self._to, False)
        os.set_blocking(self._from, False)
        self._frames: list[bytes] = []  # framed since the last write
        self._unsent = memoryview(b"")  # what the last write left (the pipe was full)
        self._waiting: deque[Future[int]] = deque()  # handed over, not yet answered, in order
        self._answers = bytearray()
        self._reactor: Any = None
        self._reader: _Answers | None = None
        self._send_call: Any = None
        self.failure: BaseException | None = None
        self.ended = False
        self.closing = False
        self.peak_rss_kb: int | None = None  # the process's, read when it is closed
        # Times a job found too many waiting for their offsets, and the time the crawl waited (stats).
        self.full_waits = 0
        self.full_wait_seconds = 0.0

    def attach(self, reactor: Any) -> None:
        """Batches sent on the reactor's timer and answers read by it (without, `submit` writes
        only when the queue is full, and `close` the rest)."""
        self._reactor = reactor
        self._reader = _Answers(self)
        reactor.addReader(self._reader)

    def submit(self, job: Exchange | Warcinfo) -> Future[int]:
        offset: Future[int] = Future()
        if len(self._waiting) >= self.queue_size and not self.ended:
            self._wait_for_room()
        if self.failure is not None or self.ended:  # a full disk, or no writer any more
            offset.set_exception(self.failure or RuntimeError("the WARC writer process ended"))
            return offset
        self._frames.append(frame(job))
        self._waiting.append(offset)
        if self._reactor is not None and self._send_call is None:
            self._send_call = self._reactor.callLater(self.BATCH_SECONDS, self._send_batch)
        return offset

    def _send_batch(self) -> None:
        self._send_call = None
        self._send(wait=False)
        if len(self._unsent) and self._reactor is not None:  # the pipe is full: the rest soon
            self._send_call = self._reactor.callLater(self.BATCH_SECONDS / 5, self._send_batch)

    def _send(self, wait: bool) -> None:
        if self.ended:  # nobody to read it
            self._frames.clear()
            self._unsent = memoryview(b"")
            return
        if self._frames:
            self._unsent = memoryview(bytes(self._unsent) + b"".join(self._frames) if self._unsent
                                      else b"".join(self._frames))
            self._frames.clear()
        while len(self._unsent) and not self.ended:
            try:
                self._unsent = self._unsent[os.write(self._to, self._unsent):]
            except BlockingIOError:
                if not wait:
                    return
                if self._ready_to_read(self._to):  # its answers read meanwhile: it may be waiting to write them
                    self._read(wait=False)
            except OSError:  # the process is gone (EPIPE): its answers' end says so
                self._unsent = memoryview(b"")
                self._read(wait=True)

    def _wait_for_room(self) -> None:
        started = time.monotonic()
        self._send(wait=True)
        while len(self._waiting) >= self.queue_size and not self.ended:
            self._read(wait=True)
        self.full_waits += 1
        self.full_wait_seconds += time.monotonic() - started

    def _read(self, wait: bool) -> None:
        """Reads the answers there are (with `wait`, at least one chunk of them, or their end)."""
        while not self.ended:
            try:
                chunk = os.read(self._from, 65536)
            except BlockingIOError:
                if not wait:
                    return
                self._ready_to_read()
                continue
            if not chunk:
                self._gone()
                return
            self._answers += chunk
            self._settle()
            if wait:
                return

    def _ready_to_read(self, or_write: int | None = None) -> bool:
        """Waits until the answers can be read (True), or `or_write` written (False)."""
        poll = select.poll()
        poll.register(self._from, select.POLLIN)
        if or_write is not None:
            poll.register(or_write, select.POLLOUT)
        return any(fd == self._from for fd, _ in poll.poll())

    def _settle(self) -> None:
        answers, at = self._answers, 0
        while len(answers) - at >= ACK.size:
            (value,) = ACK.unpack_from(answers, at)
            if value <= -2:  # why what follows is not written
                size = -2 - value
                if len(answers) - at - ACK.size < size:
                    break
                self.failure = failure(bytes(answers[at + ACK.size:at + ACK.size + size]))
                logger.error("Raw captures not written from here on: %s", self.failure)
                at += ACK.size + size
                continue
            at += ACK.size
            offset = self._waiting.popleft()
            if value >= 0:
                offset.set_result(value)
            else:
                offset.set_exception(self.failure or RuntimeError("not written"))
        del answers[:at]

    def _gone(self) -> None:
        """The process's answers ended: it exited (after its input's end, or killed)."""
        self.ended = True
        if self._reader is not None and self._reactor is not None:
            self._reactor.removeReader(self._reader)
            self._reader = None
        if self.failure is None:  # what comes after fails at once, said once if it was not the end
            self.failure = RuntimeError(f"the WARC writer process ended (exit status {self.process.wait()})")
            if self._waiting or not self.closing:
                logger.error("Raw captures not written from here on: %s", self.failure)
        while self._waiting:
            self._waiting.popleft().set_exception(self.failure or RuntimeError("not written"))

    def close(self) -> None:
        """Everything handed over written, every offset settled; the process waited for."""
        if self._send_call is not None and self._send_call.active():
            self._send_call.cancel()
        self._send_call = None
        self.closing = True
        self._send(wait=True)
        while self._waiting and not self.ended:  # every batch written: its peak memory is what it was
            self._read(wait=True)
        self.peak_rss_kb = _peak_rss_kb(self.process.pid)
        assert self.process.stdin is not None
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        while not self.ended:
            self._read(wait=True)
        self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()


_PIPE_BYTES = 1 << 20


def _peak_rss_kb(pid: int) -> int | None:
    """A process's peak resident memory (Linux's VmHWM), before it exits; None where unknown. (Its
    rusage after it is waited for is no measure: a child started by vfork counts its parent's pages.)"""
    try:
        status = Path(f"/proc/{pid}/status").read_text("ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


@implementer(IReadDescriptor)
class _Answers:
    """The writer process's answers, read by the reactor as they come."""

    def __init__(self, writer: WriterProcess) -> None:
        self.writer = writer

    def fileno(self) -> int:
        return self.writer._from

    def doRead(self) -> None:  # noqa: N802 (Twisted's name)
        self.writer._read(wait=False)

    def connectionLost(self, reason: object) -> None:  # noqa: N802
        """The pipe's end seen as a hang-up, without a read (Twisted's poll reactors)."""
        self.writer._reader = None  # removed by the reactor already
        if not self.writer.ended:
            self.writer._gone()

    def logPrefix(self) -> str:  # noqa: N802
        return "warc-writer"


class WarcRecorder:
    """Writes every response (and its request) to a gzip WARC file, through a writer process."""

    def __init__(self, crawler: Crawler, folder: Path, gzip_level: int = 1, queue_size: int = 256) -> None:
        self.crawler = crawler
        self.folder = folder
        self.gzip_level = gzip_level
        self.queue_size = queue_size
        self.path: Path | None = None
        self._writer: WriterProcess | None = None
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
        self._writer = WriterProcess(self.path, self.gzip_level, self.queue_size)
        from twisted.internet import reactor

        self._writer.attach(reactor)
        self._spider = spider
        logger.info("Writing the crawl's raw captures to %s", self.path)

    def _write_warcinfo(self) -> None:
        """The file's warcinfo record: written before the first capture (by then the spider has
        chosen its mode), or at the end if there is none."""
        spider, self._spider = self._spider, None
        if spider is None or self._writer is None or self.path is None:
            return
        self._writer.submit(Warcinfo(warcinfo_fields(spider), self.path.name))

    def spider_closed(self, spider: Spider) -> None:
        self._write_warcinfo()
        if self._writer is not None:
            self._writer.close()  # everything queued is written first
            if self.crawler.stats is not None:
                self.crawler.stats.set_value("warc/queue_full", self._writer.full_waits)
                self.crawler.stats.set_value("warc/queue_full_wait_seconds", round(self._writer.full_wait_seconds, 3))
                if self._writer.peak_rss_kb is not None:
                    self.crawler.stats.set_value("warc/writer_peak_rss_kb", self._writer.peak_rss_kb)
            self._writer = None
            logger.info("WARC file %s: %d responses", self.path, self.records)

    def process_response(self, request: Request, response: Response) -> Response:
        if self._writer is None or self.path is None or "cached" in response.flags:
            return response  # an HTTP-cache hit (HTTPCACHE_ENABLED) is no capture: it was recorded when fetched
        self._write_warcinfo()
        # What a 304 confirms: the capture the archived record (whose validators were sent) came from.
        confirms = request.meta.get("revalidates") if response.status == 304 else None
        # Copies of what may change once handed over (headers); the rest is put together by the writer.
        exchange = Exchange(
            target=request.url, when=time.time(), protocol=(response.protocol or "HTTP/1.1").upper(),
            status=response.status,
            # The body as received, and its length (the length the server sent is dropped: one, not two).
            headers=[*_header_pairs(response.headers, _NOT_KEPT),
                     (b"Content-Length", str(len(response.body)).encode())],
            body=response.body, ip_address=str(response.ip_address) if response.ip_address else None,
            method=request.method,
            request_headers=_header_pairs(request.headers), request_body=request.body,
            confirms=(str(self.folder / confirms["file"]), int(confirms["offset"])) if confirms else None)
        self.records += 1
        # Where the response is in the file, once written (response.meta, once tied): a record's
        # row waits for it before it is committed.
        request.meta["warc"] = {"file": self.path.name, "offset": self._writer.submit(exchange)}
        return response


async def offset_written(item: Any) -> None:
    """The item's page written to the WARC file, and its offset settled into the item (a number, as
    the archive and a shared crawl's Redis take it): waited for without holding the reactor (the
    WARC writer may have it queued)."""
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
    settles, not once per item, and on a later turn of its loop than the one that settled them (a
    batch's answers may be read while the crawl waits for room, in the middle of a response's
    middlewares)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: list[Deferred[None]] = []

    def add(self, finished: Deferred[None]) -> None:
        """`finished` fires on the reactor's next turn, with the rest of its batch."""
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
