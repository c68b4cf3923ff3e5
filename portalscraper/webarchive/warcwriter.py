"""Raw captures' records, and the process that writes them: WARC records put together, digested,
compressed and written outside the crawl's process, which shares no interpreter lock with them.

The crawl's process (`portalscraper.webarchive.warc.WriterProcess`) frames each job (an exchange
or the file's warcinfo: `marshal`, its length before it) and writes what waits to this process's
standard input a batch at a time. This process (`python -m portalscraper.webarchive.warcwriter
FILE LEVEL`) reads whatever has arrived, writes its records to FILE with one write and one flush,
then answers each job's offset in the file, in order, on its standard output (`ACK`: a number; -1
for a job not written, after one answer that says why). Only then can a record's row point into
the file: a crawl killed at any moment leaves no row pointing into a capture cut short. At the end
of its input (the crawl closed the pipe, or died) it writes what it has and exits; SIGINT and
SIGTERM, which a terminal or a service manager sends to the crawl's whole process group, are left
to the crawl, which closes the pipe when it has stopped.

Imports nothing of Scrapy or Twisted: the process starts in a few tens of milliseconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import marshal
import os
import random
import signal
import struct
import sys
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO, NamedTuple, Protocol
from urllib.parse import urlsplit

from portalscraper.crawl.httputil import status_phrase

FRAME = struct.Struct("<I")  # a job's length, before its marshalled fields
ACK = struct.Struct("<q")  # an offset; -1: not written; -2 - n: n bytes of text follow, why
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
_CRLF = b"\r\n"
_READ = 1 << 20
# The writer yields a core to the crawl and to what it crawls (a server on the same machine): it is
# behind by at most WARC_QUEUE_SIZE responses, and the crawl waits for it beyond (counted).
NICENESS = 10
_REVISIT_PROFILE = REVISIT_PROFILE.encode()


def _header_block(first_line: str, pairs: Iterable[tuple[bytes, bytes]]) -> bytes:
    return b"".join([first_line.encode("latin-1"), _CRLF, *(name + b": " + value + _CRLF for name, value in pairs),
                     _CRLF])


_BASE32 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_BASE32_PAIRS = [bytes((_BASE32[n >> 5], _BASE32[n & 31])) for n in range(1024)]  # ten bits, two letters


def sha1_digest(data: bytes) -> bytes:
    """A WARC digest: "sha1:" and the SHA-1 in base 32 (RFC 4648), its 160 bits taken ten at a
    time (base64.b32encode, in Python, five bytes at a time, takes three times as long)."""
    bits = int.from_bytes(hashlib.sha1(data).digest())
    return b"sha1:" + b"".join([_BASE32_PAIRS[(bits >> shift) & 1023] for shift in range(150, -1, -10)])


def warc_record(kind: str, target: str, block: bytes, when: bytes, extra: list[tuple[bytes, bytes]]) -> bytes:
    """One WARC/1.1 record (a request, a response or a revisit), uncompressed: its header, `block`
    (an HTTP message) and the two CRLFs; `when` is its WARC-Date."""
    msgtype = b"request" if kind == "request" else b"response"  # a revisit holds a response's headers
    headers = [(b"WARC-Type", kind.encode()), *extra,
               (b"WARC-Date", when),
               (b"WARC-Target-URI", target.encode("utf-8")), (b"WARC-Block-Digest", sha1_digest(block)),
               (b"Content-Type", b"application/http; msgtype=" + msgtype),
               (b"Content-Length", str(len(block)).encode())]
    return _header_block("WARC/1.1", headers) + block + _CRLF + _CRLF


_UUID4 = 0x4000 << 64 | 0x8000 << 48  # the version (4: random) and variant (RFC 4122) bits
_UUID4_MASK = ~(0xF000 << 64 | 0xC000 << 48)


def record_id() -> bytes:
    """A random (version 4) UUID as a WARC record id. What an id needs is to be unique: the random
    module's generator (seeded by the system in each process) gives it without the system call
    uuid4() makes for each, and its text is put together as uuid.UUID would."""
    hex_ = f"{random.getrandbits(128) & _UUID4_MASK | _UUID4:032x}"
    return f"<urn:uuid:{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}>".encode()


def _warc_date(when: float) -> bytes:
    return dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode()


def _member(record: bytes, level: int) -> bytes:
    return zlib.compress(record, level, wbits=zlib.MAX_WBITS + 16)


class Exchange(NamedTuple):
    """A response and its request as received: what the crawl hands to the writer. A 304 Not
    Modified is written as a revisit of `confirms` (a capture's WARC file and offset), when known."""

    target: str
    when: float  # when the response was received (POSIX time)
    protocol: str
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    ip_address: str | None
    method: str
    request_headers: list[tuple[bytes, bytes]]  # as sent, but Host (the target's)
    request_body: bytes
    confirms: tuple[str, int] | None = None

    def records(self, level: int, captures: CaptureHeaders) -> bytes:
        """The response (or revisit) record and its request record, each one gzip member (at zlib
        `level`), as a WARC file wants; a revisit's reference read through `captures`."""
        response_id = record_id()
        extra = [(b"WARC-Record-ID", response_id)]
        status_line = f"{self.protocol} {self.status} {status_phrase(self.status)}"
        if self.status == 304:
            kind, block = "revisit", _header_block(status_line, self.headers)
            extra += [(b"WARC-Profile", _REVISIT_PROFILE), *captures.refers_to(self.confirms)]
        else:
            kind, block = "response", _header_block(status_line, self.headers) + self.body
            extra.append((b"WARC-Payload-Digest", sha1_digest(self.body)))
        if self.ip_address:
            extra.append((b"WARC-IP-Address", self.ip_address.encode()))
        when = _warc_date(self.when)
        response = warc_record(kind, self.target, block, when, extra)
        netloc, path = _host_and_path(self.target)
        request_block = _header_block(f"{self.method} {path} {self.protocol}",
                                      [(b"Host", netloc.encode("latin-1")), *self.request_headers])
        request = warc_record("request", self.target, request_block + self.request_body, when,
                              [(b"WARC-Record-ID", record_id()), (b"WARC-Concurrent-To", response_id)])
        return _member(response, level) + _member(request, level)


def _host_and_path(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.netloc, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class Warcinfo(NamedTuple):
    """A file's warcinfo record: `block`, its fields, and the file's name."""

    block: bytes
    filename: str

    def records(self, level: int, captures: CaptureHeaders) -> bytes:
        return _member(_header_block("WARC/1.1", [
            (b"WARC-Type", b"warcinfo"), (b"WARC-Record-ID", record_id()),
            (b"WARC-Date", _warc_date(dt.datetime.now(dt.UTC).timestamp())),
            (b"WARC-Filename", self.filename.encode()), (b"Content-Type", b"application/warc-fields"),
            (b"Content-Length", str(len(self.block)).encode())]) + self.block + _CRLF + _CRLF, level)


class Job(Protocol):
    def records(self, level: int, captures: CaptureHeaders) -> bytes: ...


_KINDS: dict[str, type[Exchange] | type[Warcinfo]] = {"x": Exchange, "i": Warcinfo}
_TAGS = {kind: tag for tag, kind in _KINDS.items()}


def frame(job: Exchange | Warcinfo) -> bytes:
    """A job as the writer reads it: its kind and fields, marshalled (bytes, text, numbers, lists
    and tuples only), its length before them."""
    data = marshal.dumps((_TAGS[type(job)], *job))
    return FRAME.pack(len(data)) + data


def read_frames(buffer: bytearray) -> list[Exchange | Warcinfo]:
    """The whole jobs at the start of `buffer`, taken out of it (a job cut short stays)."""
    jobs, at = [], 0
    while len(buffer) - at >= FRAME.size:
        (length,) = FRAME.unpack_from(buffer, at)
        if len(buffer) - at - FRAME.size < length:
            break
        tag, *fields = marshal.loads(memoryview(buffer)[at + FRAME.size:at + FRAME.size + length])
        jobs.append(_KINDS[tag](*fields))
        at += FRAME.size + length
    del buffer[:at]
    return jobs


class CaptureHeaders:
    """Reads the header of a capture a revisit confirms, for its WARC-Refers-To fields: the record
    id, target URI and date of the archived record's capture, in its WARC file (in the crawl's WARC
    folder). Only the head of its gzip member is read (a few kilobytes, through zlib). The files
    stay open until `close`."""

    def __init__(self) -> None:
        self._files: dict[str, IO[bytes]] = {}

    def refers_to(self, capture: tuple[str, int] | None) -> list[tuple[bytes, bytes]]:
        """A revisit's WARC-Refers-To headers; none if the file is not at hand (on another machine,
        say): a rebuild then takes the last capture of the same URI before the revisit."""
        if capture is None:
            return []
        path, offset = capture
        try:
            fields = self._header(path, offset)
        except (OSError, ValueError, zlib.error):
            return []
        return [(name.encode(), fields[source].encode("utf-8")) for name, source in (
            ("WARC-Refers-To", "warc-record-id"), ("WARC-Refers-To-Target-URI", "warc-target-uri"),
            ("WARC-Refers-To-Date", "warc-date")) if fields.get(source)]

    def _header(self, path: str, offset: int) -> dict[str, str]:
        from portalscraper.webarchive.warcfiles import header_fields

        stream = self._files.get(path)
        if stream is None:
            stream = self._files[path] = Path(path).open("rb")  # noqa: SIM115 (kept open)
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


def failure_text(exc: BaseException) -> bytes:
    """Why jobs are not written, as the crawl's process rebuilds it (`failure`): errno and text."""
    errno = exc.errno if isinstance(exc, OSError) and exc.errno else 0
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
    return f"{errno}\t{text}".encode()


def failure(text: bytes) -> Exception:
    errno, _, message = text.decode("utf-8", "replace").partition("\t")
    return OSError(int(errno), message) if errno.isdigit() and int(errno) else RuntimeError(message)


class _Answers:
    """The offsets, written back to the crawl on standard output; if the crawl is gone, none."""

    def __init__(self) -> None:
        self.gone = False

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self.gone:
            try:
                view = view[os.write(1, view):]
            except BrokenPipeError:
                self.gone = True  # killed: what it handed over is still written


def run(path: str, level: int) -> None:
    """Reads jobs on standard input until its end, writes them to `path`, answers their offsets."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    captures, answers, buffer = CaptureHeaders(), _Answers(), bytearray()
    why: bytes | None = None
    out = Path(path).open("ab")  # noqa: SIM115 (closed at the end, below)
    position = out.tell()
    while chunk := os.read(0, _READ):
        buffer += chunk
        jobs = read_frames(buffer)
        if not jobs:
            continue
        if why is None:
            try:
                members = [job.records(level, captures) for job in jobs]
                out.write(b"".join(members))
                out.flush()
            except Exception as exc:  # a full disk: said once, then every job is answered -1
                why = failure_text(exc)
                answers.send(ACK.pack(-2 - len(why)) + why)
        if why is not None:
            answers.send(ACK.pack(-1) * len(jobs))
            continue
        offsets = []
        for member in members:
            offsets.append(ACK.pack(position))
            position += len(member)
        answers.send(b"".join(offsets))
    with contextlib.suppress(OSError):  # what a full disk left in the buffer is said lost already
        out.close()
    captures.close()


if __name__ == "__main__":
    run(sys.argv[1], int(sys.argv[2]))
