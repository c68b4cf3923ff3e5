"""One writer per archive: an advisory lock file beside the database.

A crawl holds `<archive>.lock` (flock) for as long as it writes; a second crawl of the same
archive fails at once, in another process or the same one. Readers need no lock: the database is
in WAL mode. The lock is released by the kernel when the process dies, so a killed crawl never
leaves a stale lock behind. Crawls take it through `CrawlSession.open`, and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from pathlib import Path

from portalscraper.archive.schema import ArchiveError


class ArchiveLockedError(ArchiveError):
    """Another crawl is writing to the archive."""


class ArchiveLock:
    """Exclusive and non-blocking."""

    def __init__(self, archive_path: str | Path) -> None:
        self.archive_path = Path(archive_path)
        self.path = self.archive_path.with_name(self.archive_path.name + ".lock")
        self._fd: int | None = None

    @property
    def acquired(self) -> bool:
        return self._fd is not None

    def acquire(self) -> ArchiveLock:
        if self._fd is not None:
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ArchiveError(f"cannot create the lock file {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise ArchiveLockedError(
                f"another crawl is writing to {self.archive_path} ({holder}); "
                "wait for it to finish or give another --db"
            ) from None
        os.ftruncate(fd, 0)
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        os.pwrite(fd, f"pid {os.getpid()}, since {started}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> ArchiveLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
