"""Reading crawls' WARC files back (no Scrapy): which crawl wrote each file, and what each URL answered.

A file's warcinfo record says which crawl wrote it: the spider and its arguments
(`portalscraper-<argument>`), and, from files written since the archive kept crawl stamps, the
crawl itself (`crawl-archive`, `crawl-id`, `crawl-started`, `crawl-resumed`) and how it ran
(`crawl-mode`, `crawl-incremental`). `crawls_of` groups files by crawl: the runs of one crawl (a
killed one and its resumption, a shared crawl's workers) are one crawl, two crawls with the same
arguments are two. Older files, without a stamp, are grouped by spider and arguments, as before.

A 304 Not Modified is kept as a WARC 1.1 revisit record (profile server-not-modified) that refers
to the capture it confirms, by record id and by target URI and date (older files kept it as a
response record of status 304: it is read as a revisit that refers to nothing). `WarcIndex`
finds the last capture of each URL in a crawl's files, and what a revisit confirms.
"""

from __future__ import annotations

import datetime as dt
import logging
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from portalscraper.crawl.args import NAMES

logger = logging.getLogger(__name__)

ARG_PREFIX = "portalscraper-"


class WarcError(ValueError):
    """A file that is not a readable WARC file; the message is one line."""


def parse_date(value: str) -> dt.datetime:
    """A WARC-Date (to the second or finer, Z for UTC) or an ISO 8601 time with its offset."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Capture:
    """Where a response or revisit record is, and what a revisit says it confirms."""

    path: Path
    offset: int
    uri: str
    date: str  # its WARC-Date
    record_id: str | None = None
    revisit: bool = False  # a 304: a revisit record, or (older files) a response record of status 304
    refers_to: str | None = None  # a revisit's WARC-Refers-To (a record id)
    refers_uri: str | None = None  # its WARC-Refers-To-Target-URI and WARC-Refers-To-Date
    refers_date: str | None = None


def _captures(path: Path) -> Iterator[Capture | dict[str, str]]:
    """The file's warcinfo fields (a dict, with its WARC-Date) and its captures, in file order, read
    once per process for a file that did not change since (`scanned`)."""
    yield from scanned(path).found


@dataclass(frozen=True)
class Scan:
    """What `_scan` read of a file: its warcinfo fields and captures, in file order."""

    path: Path
    stamp: tuple[int, int]  # the file's size and modification time when it was read
    found: tuple[Capture | dict[str, str], ...]


_SCANS: dict[Path, Scan] = {}


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def scanned(path: str | Path) -> Scan:
    """A file's scan: read once per process (grouping files by crawl, and indexing a crawl's files,
    read the same records), again if the file changed. WarcError for a file that is no WARC file."""
    path = Path(path)
    try:
        stamp = _stamp(path)
    except OSError as exc:
        raise WarcError(f"{path} cannot be read ({exc.strerror or exc})") from None
    scan = _SCANS.get(path)
    if scan is None or scan.stamp != stamp:
        scan = _SCANS[path] = Scan(path, stamp, tuple(_scan(path)))
    return scan


def remember_scans(scans: Iterable[Scan]) -> None:
    """Scans another process made of files this one will read (a reparse worker's, from its writer):
    each is used while its file has not changed."""
    for scan in scans:
        _SCANS[scan.path] = scan


def _scan(path: Path) -> Iterator[Capture | dict[str, str]]:
    """The file's warcinfo fields and captures, read from it. A file that ends with a record cut
    short (a crawl killed while writing it) is read up to it. Records' HTTP headers are not parsed
    (the slower half of reading a file through): a response's status line is read for a 304."""
    found = _scan_members(path)
    if found is not None:
        yield from found
        return
    read = 0
    try:
        with path.open("rb") as stream:
            iterator = ArchiveIterator(stream, no_record_parse=True)
            for record in iterator:
                read += 1
                # What is read of a record is read before its offset is asked (which reads it through).
                if record.rec_type == "warcinfo":
                    yield _warcinfo(record)
                elif record.rec_type in ("response", "revisit"):
                    revisit = record.rec_type == "revisit" or _status(record) == b"304"
                    yield _capture(record, path, iterator.get_record_offset(), revisit)
    except Exception as exc:  # warcio raises a dozen kinds here; each means the same
        if not read:  # warcio's ArchiveLoadFailed echoes the bytes: one line instead
            raise WarcError(f"{path} is not a readable WARC file ({type(exc).__name__})") from None
        logger.warning("%s ends with a record cut short (%s): read up to it", path, type(exc).__name__)


_HEAD = 65_536  # what is read of a record's block: a warcinfo's fields, a response's status line
_READ = 1 << 16  # bytes read at a time (what follows a record's end is copied once per record)
_OUT = 1 << 20  # bytes inflated at a time


def _scan_members(path: Path) -> list[Capture | dict[str, str]] | None:
    """The file read as the crawls write it: each record a gzip member of its own, read with zlib
    and its WARC headers split by hand, three times as fast as warcio, which parses them as a
    general reader must (a scan is read before any worker starts). None for any other file, or
    anything unexpected in it (an uncompressed file, a record cut short, several records in one
    member): warcio reads that one."""
    found: list[Capture | dict[str, str]] = []
    try:
        with path.open("rb") as stream:
            if stream.read(2) != b"\x1f\x8b":
                return None
            stream.seek(0)
            offset, pending = 0, b""
            while True:
                if not pending:
                    pending = stream.read(_READ)
                    if not pending:
                        return found
                inflate = zlib.decompressobj(31)
                head, size, fed, data = bytearray(), 0, len(pending), pending
                while True:
                    out = inflate.decompress(data, _OUT)  # a bounded piece at a time (a gzip bomb)
                    size += len(out)
                    if len(head) < _HEAD:
                        head += out[:_HEAD - len(head)]
                    if inflate.eof:
                        pending = inflate.unused_data
                        break
                    data = inflate.unconsumed_tail
                    if not data:
                        data = stream.read(_READ)
                        if not data:
                            return None  # the last record cut short
                        fed += len(data)
                used = fed - len(pending)
                record = _member_record(bytes(head), size, path, offset)
                if record is not None:
                    found.append(record)
                offset += used
    except (OSError, zlib.error, ValueError, EOFError):
        return None


def _member_record(head: bytes, size: int, path: Path, offset: int) -> Capture | dict[str, str] | None:
    """A member's record: a warcinfo's fields, a capture, None for a record of another kind;
    ValueError if it is not one whole WARC record."""
    fields, block = header_fields(head)
    if size != len(head) - len(block) + int(fields.get("content-length", "-1")) + 4:
        raise ValueError("not one record")
    kind = fields.get("warc-type")
    if kind == "warcinfo":
        return _info_fields(fields.get("warc-date"), block)
    if kind not in ("response", "revisit"):
        return None
    status = block.split(b"\r\n", 1)[0].split(b" ", 2)
    revisit = kind == "revisit" or (len(status) > 1 and status[1] == b"304")
    return Capture(path, offset, fields.get("warc-target-uri") or "", fields.get("warc-date") or "",
                   fields.get("warc-record-id"), revisit, fields.get("warc-refers-to"),
                   fields.get("warc-refers-to-target-uri"), fields.get("warc-refers-to-date"))


def _warcinfo(record: ArcWarcRecord) -> dict[str, str]:
    return _info_fields(record.rec_headers.get_header("WARC-Date"), record.raw_stream.read(65536))


def _info_fields(date: str | None, block: bytes) -> dict[str, str]:
    """A warcinfo record's fields (its block's `name: value` lines) and its WARC-Date."""
    fields = {"WARC-Date": date or ""}
    for line in block.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def header_fields(head: bytes) -> tuple[dict[str, str], bytes]:
    """The header of the WARC record `head` starts with (its fields, by lower-cased name) and what
    follows it in `head`; ValueError if there is none, or it has a line this reader does not take
    (a continued one: warcio reads those)."""
    end = head.find(b"\r\n\r\n")
    if end < 0 or not head.startswith(b"WARC/"):
        raise ValueError("no WARC record header there")
    fields: dict[str, str] = {}
    for line in head[:end].decode("utf-8").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if not sep or line[:1] in (" ", "\t"):
            raise ValueError("a continued header line")
        fields[name.strip().lower()] = value.strip()
    return fields, head[end + 4:]


def _status(record: ArcWarcRecord) -> bytes:
    """A response record's HTTP status code, from its status line (older files kept a 304 as one)."""
    parts = record.raw_stream.readline(1024).split(b" ", 2)
    return parts[1] if len(parts) > 1 else b""


def _capture(record: ArcWarcRecord, path: Path, offset: int, revisit: bool) -> Capture:
    headers = record.rec_headers
    return Capture(path, offset, headers.get_header("WARC-Target-URI") or "", headers.get_header("WARC-Date") or "",
                   headers.get_header("WARC-Record-ID"), revisit, headers.get_header("WARC-Refers-To"),
                   headers.get_header("WARC-Refers-To-Target-URI"), headers.get_header("WARC-Refers-To-Date"))


class WarcIndex:
    """The captures of one crawl's WARC files (given in the order its runs wrote them): the last
    of each URL answers it. `references`, other crawls' files, are read only if a revisit has to
    be resolved to the capture it confirms, and only once."""

    def __init__(self, paths: Iterable[str | Path], references: Iterable[str | Path] = ()) -> None:
        self.paths = [Path(p) for p in paths]
        self.references = [Path(p) for p in references]
        self.latest: dict[str, Capture] = {}
        self.last_date: str | None = None
        for path in self.paths:
            for found in _captures(path):
                if isinstance(found, Capture):
                    self.latest[found.uri] = found
                    self.last_date = found.date
        self._by_id: dict[str, Capture] | None = None
        self._by_uri: dict[str, list[Capture]] = {}

    def get(self, url: str) -> Capture | None:
        return self.latest.get(url)

    def confirmed(self, revisit: Capture) -> Capture | None:
        """The full capture a revisit confirms: the one its WARC-Refers-To names, else the one of its
        WARC-Refers-To-Target-URI and -Date, else the last full capture of its URI before it."""
        if self._by_id is None:
            self._read_all()
        assert self._by_id is not None
        if revisit.refers_to and (found := self._by_id.get(revisit.refers_to)):
            return found
        uri = revisit.refers_uri or revisit.uri
        earlier = [c for c in self._by_uri.get(uri, []) if parse_date(c.date) <= parse_date(revisit.date)]
        if revisit.refers_date and (same := [c for c in earlier if c.date == revisit.refers_date]):
            return same[-1]
        return max(earlier, key=lambda c: parse_date(c.date)) if earlier else None

    def _read_all(self) -> None:
        self._by_id = {}
        for path in (*self.paths, *self.references):
            try:
                captures = [c for c in _captures(path) if isinstance(c, Capture) and not c.revisit]
            except WarcError as exc:
                logger.warning("%s", exc)
                continue
            for capture in captures:
                if capture.record_id:
                    self._by_id[capture.record_id] = capture
                self._by_uri.setdefault(capture.uri, []).append(capture)


# -- which crawl wrote which file -----------------------------------------------------------------


@dataclass
class WarcFile:
    path: Path
    info: dict[str, str]  # its warcinfo fields
    last_date: str | None  # its last capture's WARC-Date

    @property
    def written(self) -> dt.datetime:
        """When the run that wrote it began (its warcinfo's date; older files: its first record's)."""
        return parse_date(self.info.get("WARC-Date") or self.last_date or "1970-01-01T00:00:00Z")


def read_warc_file(path: str | Path) -> WarcFile:
    """A WARC file read through (every record readable, up to a cut-short last one): WarcError if not."""
    path = Path(path)
    info: dict[str, str] = {}
    last = None
    for found in _captures(path):
        if isinstance(found, Capture):
            last = found.date
        elif not info:
            info = found
    return WarcFile(path, info, last)


@dataclass
class WarcCrawl:
    """The files of one crawl, in the order its runs wrote them, and what they say of it."""

    spider: str
    args: dict[str, str]  # the spider's arguments, as the crawl was given them
    files: list[WarcFile] = field(default_factory=list)

    @property
    def stamped(self) -> bool:
        """Written since files say which crawl wrote them (older ones are grouped by arguments)."""
        return "crawl-id" in self.files[-1].info

    @property
    def started(self) -> dt.datetime:
        info = self.files[0].info
        return parse_date(info["crawl-started"]) if self.stamped else self.files[0].written

    @property
    def incremental(self) -> bool:
        return self.files[-1].info.get("crawl-incremental", "").lower() == "true"

    @property
    def mode(self) -> str:
        """The mode the crawl's last run reported (the crawl row's): full, incremental, full+resume..."""
        return self.files[-1].info.get("crawl-mode") or "full"

    def replay(self) -> dict[str, Any]:
        """The crawl as its files say it ran (archive.session.ReplayedCrawl's fields)."""
        infos = [f.info for f in self.files]
        dates = [f.last_date for f in self.files if f.last_date]
        return {"crawl_id": int(infos[-1]["crawl-id"]), "started_at": infos[-1]["crawl-started"], "mode": self.mode,
                "resumed": max(int(i.get("crawl-resumed") or 0) for i in infos),
                "finished_at": max(dates, key=parse_date) if dates else None}


def crawls_of(paths: Iterable[str | Path], spider: str | None = None) -> list[WarcCrawl]:
    """The files' crawls, in the order they started (WarcError for a file that is no WARC file;
    ValueError for one whose spider is unknown and not given)."""
    crawls: dict[tuple[str, ...], WarcCrawl] = {}
    for warc in sorted((read_warc_file(p) for p in paths), key=lambda f: f.written):
        info = warc.info
        name = spider or info.get("spider")
        if not name:
            raise ValueError(f"{warc.path} names no spider (no portalscraper warcinfo record); give --spider")
        args = {k.removeprefix(ARG_PREFIX): v for k, v in info.items()
                if k.startswith(ARG_PREFIX) and k.removeprefix(ARG_PREFIX) in NAMES}
        if "crawl-id" in info:
            key: tuple[str, ...] = ("crawl", info.get("crawl-archive", ""), info["crawl-id"],
                                    info.get("crawl-started", ""))
        else:  # an older file: its crawl is its spider and arguments (a complete pass of what they hold)
            key = ("args", name, *sorted(f"{k}={v}" for k, v in args.items() if k not in ("full", "resume")))
        crawls.setdefault(key, WarcCrawl(name, args)).files.append(warc)
    return sorted(crawls.values(), key=lambda c: c.started)
