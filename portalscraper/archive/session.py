"""One crawl of one archive, from its start to its verdict. No Scrapy in here.

    session = CrawlSession.open(path, args)        # the lock, the crawl row (new or resumed)
    session.memory                                 # what earlier crawls left: validators, hashes
    session.store(item) ... session.reject(...)    # buffered writes, committed in batches
    verdict = session.finish(reason, totals)       # gone items, settled failures, drift, verdict
    session.close()                                # the lock released

Whoever starts a crawl opens its session: the `portalscraper` command and `scrapy crawl` before
Scrapy starts (so that a locked archive fails at once), the store pipeline when a crawl is run
by other means. The lock is taken here and nowhere else.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from portalscraper import settings as defaults
from portalscraper.archive.lock import ArchiveLock
from portalscraper.archive.memory import ArchiveMemory, CrawlStamp
from portalscraper.archive.schema import close_database, open_database
from portalscraper.archive.sqlite import SQLiteArchive
from portalscraper.crawl.verdict import EXIT_FAILED, Failures, Verdict, drift_alarms, verdict
from portalscraper.items import Appearance, FetchFailure, Record, Sightings, record_row, record_state

logger = logging.getLogger(__name__)


class CrawlIdentity(Protocol):
    """What the session needs of a crawl's arguments (portalscraper.crawl.args.CrawlArgs is one)."""

    @property
    def spider(self) -> str: ...

    @property
    def portal(self) -> str: ...

    @property
    def lang(self) -> str: ...

    @property
    def resume(self) -> bool: ...

    def row(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class SessionOptions:
    """How the archive is written (ARCHIVE_*), and how the crawl is judged (VERDICT_*); the defaults are
    settings.py's."""

    batch_size: int = defaults.ARCHIVE_BATCH_SIZE
    flush_seconds: float = defaults.ARCHIVE_FLUSH_SECONDS
    fts_sync_rows: int = defaults.ARCHIVE_FTS_SYNC_ROWS
    max_error_rate: float = defaults.VERDICT_MAX_ERROR_RATE
    drift_alarms: bool = defaults.VERDICT_DRIFT
    max_fill_drop: float = defaults.VERDICT_MAX_FILL_DROP
    drift_min_records: int = defaults.VERDICT_DRIFT_MIN_RECORDS


@dataclass(frozen=True)
class CrawlTotals:
    """What the crawler counted, for the crawl row and the verdict."""

    requests: int = 0
    responses: int = 0
    bytes: int = 0
    duplicates: int = 0
    item_pages_fetched: int = 0
    item_pages_not_modified: int = 0
    item_pages_failed: int = 0
    errors: int = 0  # requests that finally failed, and callbacks that raised
    listing_failures: int = 0  # listing pages that could not be read (among the errors)
    mode: str = "full"
    complete_pass: bool = False  # every listing read to its end, unscoped: what finds removed items
    start_failure: str | None = None  # the start page could not be fetched: why


@dataclass(frozen=True)
class ReplayedCrawl:
    """The crawl a rebuild from WARC files replays (`portalscraper reparse`), as its files say it
    ran: its crawl row is that crawl's (id, start, mode, resumes), not the rebuild's."""

    crawl_id: int
    started_at: str
    mode: str  # the mode its last run reported: full, incremental, full+resume...
    resumed: int = 0
    finished_at: str | None = None  # its last capture


class StorageFailure(Enum):
    """Why the archive cannot be written at all, from the error's code (SQLite's primary result code,
    or the OS's errno), never from its English text."""

    FULL = "full"  # the disk, a quota, or the largest file allowed
    IO = "io"  # the disk failed a read or a write
    READ_ONLY = "read-only"  # the file system or the database is read-only
    LOCKED = "locked"  # another connection holds the database's write lock past the busy timeout


# SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY, SQLITE_BUSY, SQLITE_LOCKED (primary codes: the low byte)
_SQLITE_FAILURES = {13: StorageFailure.FULL, 10: StorageFailure.IO, 8: StorageFailure.READ_ONLY,
                    5: StorageFailure.LOCKED, 6: StorageFailure.LOCKED}
_OS_FAILURES = {errno.ENOSPC: StorageFailure.FULL, errno.EDQUOT: StorageFailure.FULL,
                errno.EFBIG: StorageFailure.FULL, errno.EIO: StorageFailure.IO, errno.EROFS: StorageFailure.READ_ONLY}


def storage_failure_kind(exc: BaseException) -> StorageFailure | None:
    """The kind of an error that means the archive cannot be written at all, or None for any other."""
    if isinstance(exc, sqlite3.OperationalError):
        code = getattr(exc, "sqlite_errorcode", None)
        return _SQLITE_FAILURES.get(code & 0xFF) if isinstance(code, int) else None
    if isinstance(exc, OSError):
        return _OS_FAILURES.get(exc.errno or 0)
    return None


def storage_failure(exc: BaseException) -> str | None:
    """A one-line description of an error that means the archive cannot be written at all (disk
    full, quota, read-only, I/O error, another writer's lock), or None for any other error."""
    if storage_failure_kind(exc) is None:
        return None
    if isinstance(exc, sqlite3.Error):
        return f"cannot write the archive: {exc}"
    return f"cannot write the archive: {getattr(exc, 'strerror', None) or exc}"


def guarded_write(session: CrawlSession, write: Callable[[CrawlSession], Any], stop: Callable[[str], None]) -> bool:
    """Run a write on the session's archive; an archive that cannot be written at all (see
    `storage_failure`) calls `stop` with the reason instead of raising. False if not written (or
    the session failed before)."""
    if session.failure is not None:
        return False
    try:
        write(session)
    except (sqlite3.Error, OSError) as exc:
        why = storage_failure(exc)
        if why is None:
            raise
        stop(why)
        return False
    return True


def summary_line(crawl: Mapping[str, Any]) -> str:
    """A finished crawl's row in one line: what the crawl logs, and what `-q` prints."""
    return (f"Crawl {crawl['id']} {crawl['status']} ({crawl['mode']}): {crawl['records']:,} records "
            f"({crawl['records_new']:,} new, {crawl['records_changed']:,} changed, "
            f"{crawl['records_unchanged']:,} unchanged, {crawl['records_gone']:,} gone), "
            f"{crawl['appearances']:,} appearances, {crawl['rejects']:,} rejects, {crawl['errors']:,} errors in "
            f"{crawl['duration_s']} s; exit code {crawl['exit_code']}")


def _scope(args_json: str | None) -> dict[str, Any]:
    """A crawl's arguments without the ones that change how, not what, it crawls."""
    args = json.loads(args_json or "{}")
    return {k: v for k, v in args.items() if k not in ("full",)}


class CrawlSession:
    """The owner of one crawl's archive: its lock, its crawl row, its writer and its memory."""

    def __init__(self, lock: ArchiveLock, writer: SQLiteArchive, args: CrawlIdentity, resumed: bool,
                 options: SessionOptions, replay: ReplayedCrawl | None = None) -> None:
        self.lock = lock
        self.writer = writer
        self.args = args
        self.resumed = resumed
        self.options = options
        self.replay = replay
        self.verdict: Verdict | None = None  # once finished
        self.row: dict[str, Any] | None = None  # the crawl's row, once finished
        self.failure: str | None = None  # why the archive cannot be written, once it cannot

    @classmethod
    def open(cls, path: str | Path, args: CrawlIdentity, options: SessionOptions | None = None,
             replay: ReplayedCrawl | None = None) -> CrawlSession:
        """Take the archive's lock (ArchiveLockedError if another crawl holds it), mark crawls that
        died running as interrupted, and begin the crawl's row, or reopen the interrupted crawl of
        the same arguments when `args.resume`; or begin the row of the crawl a rebuild replays.

        The archive is opened once, for the whole crawl (an opening or a closing with no other
        connection to the file is a moment a reader could find it locked)."""
        options = options or SessionOptions()
        db = open_database(path)  # a path that is no archive says so, before any lock file is made
        try:
            lock = ArchiveLock(path).acquire()
        except BaseException:
            db.close()  # no checkpoint (see archive/schema.py): another crawl is writing
            raise
        try:
            writer = SQLiteArchive(path, options.batch_size, options.flush_seconds, options.fts_sync_rows, db=db,
                                   fixed_time=replay.started_at if replay else None)
            if interrupted := writer.mark_interrupted():
                logger.warning("%d crawl(s) in %s had died without finishing: marked interrupted", interrupted, path)
            crawl_id = writer.resume_crawl(args.spider, args.portal, args.row()) if args.resume and not replay \
                else None
            resumed = crawl_id is not None
            if resumed:
                logger.info("Resuming crawl %d into %s", crawl_id, path)
            else:
                if args.resume and not replay:
                    logger.info("No interrupted crawl with these arguments in %s: starting a new one", path)
                crawl_id = writer.begin_crawl(args.spider, args.portal, args.row(),
                                              crawl_id=replay.crawl_id if replay else None)
                logger.info("Archiving crawl %d into %s", crawl_id, path)
        except BaseException:
            db.close()
            lock.release()
            raise
        return cls(lock, writer, args, resumed, options, replay)

    @property
    def path(self) -> Path:
        return self.writer.path

    @property
    def crawl_id(self) -> int:
        assert self.writer.crawl_id is not None
        return self.writer.crawl_id

    @cached_property
    def memory(self) -> ArchiveMemory:
        """What earlier crawls of this portal left in the archive, and which crawl this one is."""
        row = self.writer.crawl_row()
        stamp = CrawlStamp(str(self.path.resolve()), self.crawl_id, row["started_at"], int(row["resumed"] or 0))
        return ArchiveMemory(self.writer.db.conn, self.args.portal, self.crawl_id, stamp)

    # -- writes -----------------------------------------------------------------------------

    def store(self, item: Any) -> None:
        """Buffer an item of the crawl: a record, a listing page's sightings, a failed fetch."""
        # Flat dataclasses: vars() is their fields, with no deep copy (asdict's) per row.
        if isinstance(item, Record):
            self.writer.add_record(record_row(item), record_state(item))
        elif isinstance(item, Sightings):
            for appearance in item.appearances:
                self.writer.add_appearance(vars(appearance))
        elif isinstance(item, Appearance):
            self.writer.add_appearance(vars(item))
        elif isinstance(item, FetchFailure):
            self.writer.add_failure(vars(item))

    def reject(self, record: Record, reasons: list[str]) -> None:
        """A record that failed validation, kept with its reasons."""
        self.writer.add_reject(record.id, record.url, "; ".join(reasons), record_row(record))

    def flush_if_due(self) -> None:
        self.writer.flush_if_due()

    # -- the end ----------------------------------------------------------------------------

    def finish(self, reason: str, totals: CrawlTotals) -> Verdict:
        """Close the crawl: mark what a complete pass no longer found as gone, settle listing
        failures, profile the crawl, compare it with the last healthy one, judge it, and write
        all of it to the crawl row. `reason` is Scrapy's finish reason."""
        if self.failure is not None:
            return self._failed()
        writer = self.writer
        values: dict[str, Any] = {k: v for k, v in asdict(totals).items()
                                  if k not in ("complete_pass", "start_failure", "listing_failures")}
        values["error_rate"] = round(totals.errors / totals.requests, 4) if totals.requests else 0.0
        complete = reason == "finished" and totals.complete_pass
        values["complete"] = int(complete)
        if complete:
            if gone := writer.mark_gone(self.args.portal, self.args.lang):
                logger.info("%d archived records are listed no more: marked gone", gone)
            writer.settle_listing_failures()
        profile = writer.crawl_profile()
        values["sections"] = json.dumps(profile["sections"], ensure_ascii=False)
        values["fill_rates"] = json.dumps({**profile["fill_rates"], "records_seen": profile["records_seen"]})
        result = self._judge(reason, totals, profile)
        values["exit_code"] = result.exit_code
        values["alarms"] = json.dumps(result.alarms, ensure_ascii=False) if result.alarms else None
        if self.replay is not None:  # the row of the crawl replayed, as it ran
            values.update(mode=self.replay.mode, resumed=self.replay.resumed, finished_at=self.replay.finished_at)
        # Ctrl-C, SIGTERM (systemd stop, a timeout): interrupted, and resumable like a killed crawl.
        status = "finished" if reason == "finished" else "interrupted" if reason == "shutdown" else "failed"
        writer.finish_crawl(status, reason, values)
        self.verdict, self.row = result, writer.crawl_row()
        self._log()
        return result

    def _judge(self, reason: str, totals: CrawlTotals, profile: dict[str, Any]) -> Verdict:
        options = self.options
        drift = drift_alarms(self._baseline(), profile, options.max_fill_drop, options.drift_min_records) \
            if options.drift_alarms and reason == "finished" else []
        failures = Failures(totals.errors, totals.requests, totals.listing_failures, totals.start_failure)
        return verdict(reason, self.writer.counts["records"], failures, options.max_error_rate, drift)

    def _log(self) -> None:
        assert self.verdict is not None and self.row is not None
        for alarm in self.verdict.alarms:
            logger.error("Crawl %s: %s", self.crawl_id, alarm)
        logger.info("%s (%s)", summary_line(self.row), self.path)

    def _baseline(self) -> dict[str, Any] | None:
        """The latest earlier healthy crawl of the same spider and scope: what this one is compared with."""
        current = self.writer.crawl_row()
        rows = self.writer.db.execute(
            "SELECT args, sections, fill_rates FROM crawls WHERE spider = ? AND portal = ? AND id < ? "
            "AND status = 'finished' AND exit_code = 0 AND sections IS NOT NULL ORDER BY id DESC LIMIT 50",
            [current["spider"], current["portal"], current["id"]]).fetchall()
        scope = _scope(current["args"])
        for args, sections, fill_rates in rows:
            if _scope(args) == scope:
                rates = json.loads(fill_rates or "{}")
                return {"sections": json.loads(sections), "records_seen": rates.pop("records_seen", 0),
                        "fill_rates": rates}
        return None

    def fail(self, why: str) -> None:
        """The archive cannot be written (disk full...): what is buffered is dropped (the next run
        fetches it again), and the crawl's verdict is failure."""
        if self.failure is None:
            self.failure = why
            self.writer.rollback()

    def _failed(self) -> Verdict:
        assert self.failure is not None
        self.verdict = Verdict(EXIT_FAILED, [self.failure])
        try:  # the crawl row says what happened, if the disk lets it
            self.writer.finish_crawl("failed", "archive_unwritable", {"exit_code": EXIT_FAILED,
                                                                      "alarms": json.dumps([self.failure])})
        except (sqlite3.Error, OSError):
            logger.warning("The crawl row of crawl %s could not be updated: it stays 'running' until the next crawl "
                           "marks it interrupted", self.crawl_id)
        return self.verdict

    def alarm(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        """A failure after the verdict (the JSON Lines archive could not be written): the verdict
        and the crawl row say so."""
        self.verdict = Verdict(exit_code, [*(self.verdict.alarms if self.verdict else []), message])
        with contextlib.suppress(sqlite3.Error, OSError):
            self.writer.finish_crawl_alarm(exit_code, self.verdict.alarms)

    def close(self) -> None:
        """Release the archive (committing what is buffered, unless it cannot be written)."""
        if not self.lock.acquired:
            return
        try:
            if self.failure is None:
                self.writer.flush()
        finally:
            with contextlib.suppress(sqlite3.Error, OSError):
                close_database(self.writer.db)
            self.lock.release()
