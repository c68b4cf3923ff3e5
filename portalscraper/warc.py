"""Raw captures: every response a crawl receives, kept in a WARC file, and crawls replayed from them.

`WarcRecorder` (a downloader middleware, on when WARC_DIR is set) writes a request and a
response record for every response, as received (before decompression), into
`<WARC_DIR>/<spider>-<UTC time>-<pid>.warc.gz`, one gzip member per record, through
warcio. Each response's place in the file goes into `response.meta["warc"]`, and from there into
the record made of it (`warc_file`, `warc_offset`).

`WarcReplayHandler` answers a crawl's requests from WARC files instead of the network, so that
`portalscraper reparse` runs the same spider, extraction and pipelines over captured bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Self
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from portalscraper.http import status_phrase

logger = logging.getLogger(__name__)

_HOP_BY_HOP = {b"transfer-encoding", b"connection", b"keep-alive"}


class _RecordGzip:
    """One gzip member per WARC record, as the format wants, at a chosen level (warcio uses 9)."""

    def __init__(self, out: IO[bytes], level: int) -> None:
        self.out = out
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS + 16)

    def write(self, data: bytes) -> None:
        self.out.write(self.compressor.compress(data))

    def flush(self) -> None:  # ends the member; the file itself is flushed once per response
        self.out.write(self.compressor.flush())


class _Writer(WARCWriter):  # type: ignore[misc]  # warcio has no type information
    """warcio's writer with a cheaper compression level: most bodies come gzipped already."""

    def __init__(self, out: IO[bytes], level: int = 1) -> None:
        super().__init__(out, gzip=False)
        self.level = level

    def _write_warc_record(self, out: IO[bytes], record: object) -> None:
        # warcio ends a record with out.flush(): that closes the member.
        super()._write_warc_record(_RecordGzip(out, self.level), record)


def _header_pairs(headers: Headers, drop: set[bytes] = _HOP_BY_HOP) -> list[tuple[str, str]]:
    pairs = []
    for name, values in headers.items():
        if name.lower() in drop:
            continue
        for value in values:
            pairs.append((name.decode("latin-1"), value.decode("latin-1")))
    return pairs


class WarcRecorder:
    """Writes every response (and its request) to a gzip WARC file."""

    def __init__(self, crawler: Crawler, folder: Path, gzip_level: int = 1) -> None:
        self.crawler = crawler
        self.folder = folder
        self.gzip_level = gzip_level
        self.path: Path | None = None
        self._file: IO[bytes] | None = None
        self._writer: WARCWriter | None = None
        self.records = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        folder = crawler.settings.get("WARC_DIR")
        if not folder or crawler.settings.getlist("WARC_REPLAY_FILES"):
            raise NotConfigured  # switched off on purpose (""), or answering from WARC files already
        recorder = cls(crawler, Path(folder), crawler.settings.getint("WARC_GZIP_LEVEL"))
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def spider_opened(self, spider: Spider) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
        self.path = self.folder / f"{spider.name}-{stamp}-{os.getpid()}.warc.gz"
        self._file = self.path.open("ab")
        self._writer = _Writer(self._file, self.gzip_level)
        args = getattr(spider, "args", None)  # a portal spider's CrawlArgs: what reparse runs again
        info = {"software": "portalscraper", "format": "WARC File Format 1.1", "spider": spider.name,
                **{f"portalscraper-{k}": str(v) for k, v in (args.row() if args is not None else {}).items()
                   if v not in (None, "", False)}}
        self._writer.write_record(self._writer.create_warcinfo_record(self.path.name, info))
        self._file.flush()
        logger.info("Writing the crawl's raw captures to %s", self.path)

    def spider_closed(self, spider: Spider) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            logger.info("WARC file %s: %d responses", self.path, self.records)

    def process_response(self, request: Request, response: Response) -> Response:
        if self._writer is None or self._file is None or self.path is None:
            return response
        protocol = (response.protocol or "HTTP/1.1").upper()
        target = request.url
        status = f"{response.status} {status_phrase(response.status)}"
        pairs = [*_header_pairs(response.headers), ("Content-Length", str(len(response.body)))]
        http_headers = StatusAndHeaders(status, pairs, protocol=protocol)
        warc_headers = {"WARC-IP-Address": str(response.ip_address)} if response.ip_address else {}
        record = self._writer.create_warc_record(target, "response", payload=io.BytesIO(response.body),
                                                 http_headers=http_headers, warc_headers_dict=warc_headers)
        parts = urlsplit(target)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_headers = StatusAndHeaders(f"{request.method} {path} {protocol}",
                                           [("Host", parts.netloc), *_header_pairs(request.headers)],
                                           is_http_request=True)
        request_record = self._writer.create_warc_record(target, "request", payload=io.BytesIO(request.body),
                                                         http_headers=request_headers)
        request_record.rec_headers.replace_header("WARC-Concurrent-To",
                                                  record.rec_headers.get_header("WARC-Record-ID"))
        offset = self._file.tell()
        self._writer.write_record(record)
        self._writer.write_record(request_record)
        self._file.flush()
        self.records += 1
        request.meta["warc"] = {"file": self.path.name, "offset": offset}  # response.meta, once tied
        return response


class WarcError(ValueError):
    """A file that is not a readable WARC file; the message is one line."""


def index_warcs(paths: Iterable[str | Path]) -> dict[str, tuple[Path, int, str]]:
    """URL -> (WARC file, offset, WARC-Date) of its last response record in the files."""
    index: dict[str, tuple[Path, int, str]] = {}
    for path in paths:
        try:
            with Path(path).open("rb") as stream:
                iterator = ArchiveIterator(stream)
                for record in iterator:
                    if record.rec_type == "response":
                        url = record.rec_headers.get_header("WARC-Target-URI")
                        index[url] = (Path(path), iterator.get_record_offset(),
                                      record.rec_headers.get_header("WARC-Date"))
        except Exception as exc:  # warcio's ArchiveLoadFailed echoes the bytes: one line instead
            raise WarcError(f"{path} is not a readable WARC file ({type(exc).__name__})") from None
    return index


def read_warcinfo(path: str | Path) -> dict[str, str]:
    """The fields of the first warcinfo record of a WARC file (at most 64 KB of it)."""
    try:
        with Path(path).open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "warcinfo":
                    fields = {}
                    for line in record.content_stream().read(65536).decode("utf-8", "replace").splitlines():
                        name, sep, value = line.partition(":")
                        if sep:
                            fields[name.strip()] = value.strip()
                    return fields
    except Exception as exc:  # warcio's ArchiveLoadFailed echoes the file's bytes: one line instead
        raise WarcError(f"{path} is not a readable WARC file ({type(exc).__name__})") from None
    return {}


class WarcReplayHandler:
    """A download handler answering every request from WARC files (WARC_REPLAY_FILES): no network.

    A URL the files do not hold is answered 404, like a page the crawl never saw.
    """

    lazy = False

    def __init__(self, paths: list[str], maxsize: int) -> None:
        if not paths:
            raise NotConfigured("WARC_REPLAY_FILES names no WARC files")
        self.index = index_warcs(paths)
        self.maxsize = maxsize

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings.getlist("WARC_REPLAY_FILES"), crawler.settings.getint("DOWNLOAD_MAXSIZE"))

    async def download_request(self, request: Request) -> Response:
        found = self.index.get(request.url)
        if found is None:
            return Response(request.url, status=404, request=request)
        path, offset, date = found
        with path.open("rb") as stream:
            stream.seek(offset)
            record = next(iter(ArchiveIterator(stream)))
            # Content-Encoding undone, as received, and no more than the crawl itself would take: a
            # gzip bomb in a record is read to DOWNLOAD_MAXSIZE and refused, not decompressed whole.
            maxsize = int(request.meta.get("download_maxsize", self.maxsize) or 0)
            body = record.content_stream().read(maxsize + 1 if maxsize else -1)
            if maxsize and len(body) > maxsize:
                raise IgnoreRequest(f"capture larger than DOWNLOAD_MAXSIZE ({maxsize:,} bytes), not read")
            status = int(record.http_headers.get_statuscode() or 200)
            headers = Headers({k: v for k, v in record.http_headers.headers
                               if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")})
        request.meta["capture_time"] = dt.datetime.fromisoformat(date.replace("Z", "+00:00")).isoformat(
            timespec="seconds")
        request.meta["warc"] = {"file": path.name, "offset": offset}
        cls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        return cls(url=request.url, status=status, headers=headers, body=body, request=request)

    async def close(self) -> None:
        return None
