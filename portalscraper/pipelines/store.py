"""Store: thin Scrapy adapters over the archive writers (SQLite and JSON Lines)."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import sqlite3
from dataclasses import asdict
from pathlib import Path
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DropItem, NotConfigured

from portalscraper.archive import ArchiveError, ArchiveLock, JsonLinesWriter, SQLiteArchive, export, open_database
from portalscraper.health import EXIT_FAILED, EXIT_LOCKED, drift_alarms, verdict
from portalscraper.items import Appearance, FetchFailure, Record, Sightings, record_row, record_state
from portalscraper.pipelines.validate import RecordRejected

logger = logging.getLogger(__name__)

# Scrapy stats copied into the crawl's row.
_STATS = {
    "requests": "downloader/request_count",
    "responses": "downloader/response_count",
    "bytes": "downloader/response_bytes",
    "duplicates": "dedupe/duplicates",
    "item_pages_fetched": "portal/item_page_fetched",
    "item_pages_not_modified": "portal/item_page_not_modified",
    "item_pages_failed": "portal/item_page_failed",
}
# Requests that finally failed, and callbacks that raised: the crawl's errors.
_ERROR_STATS = ("portal/item_page_failed", "portal/listing_failed", "spider_exceptions/count")


def storage_failure(exc: BaseException) -> str | None:
    """A one-line description of an error that means the archive cannot be written at all (disk
    full, quota, read-only, I/O error), or None for any other error."""
    message = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and any(
            s in message for s in ("disk is full", "disk I/O error", "readonly database", "database is locked")):
        return f"cannot write the archive: {message}"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG):
        return f"cannot write the archive: {exc.strerror or message}"
    return None


def _scope(args_json: str | None) -> dict[str, Any]:
    """A crawl's arguments without the ones that change how, not what, it crawls."""
    args = json.loads(args_json or "{}")
    return {k: v for k, v in args.items() if k not in ("full",)}


class SQLiteArchivePipeline:
    """Upserts records, inserts appearances and rejects, keeps the crawl's row, and judges the crawl.

    Holds the archive's lock from open to close: a second crawl into the same archive stops at
    once (reason `archive_locked`).
    """

    def __init__(self, crawler: Crawler, path: str, batch_size: int = 500, flush_seconds: float = 5.0) -> None:
        self.crawler = crawler
        self.path = path
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.archive: SQLiteArchive | None = None
        self.ticker: Any = None  # the timed commit (a LoopingCall), while the crawl runs
        self.lock = ArchiveLock(path)
        settings = crawler.settings
        self.max_error_rate = settings.getfloat("CRAWL_MAX_ERROR_RATE")
        self.drift_enabled = settings.getbool("DRIFT_ALARMS")
        self.max_fill_drop = settings.getfloat("DRIFT_MAX_FILL_DROP")
        self.drift_min_records = settings.getint("DRIFT_MIN_RECORDS")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = crawler.settings.get("ARCHIVE_SQLITE_PATH")
        if not path:
            raise NotConfigured  # switched off on purpose (""): nothing to warn about
        pipeline = cls(crawler, str(path), crawler.settings.getint("ARCHIVE_BATCH_SIZE"),
                       crawler.settings.getfloat("ARCHIVE_FLUSH_SECONDS"))
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        spider = self.crawler.spider
        assert spider is not None
        try:
            self.lock.acquire()
        except ArchiveError as exc:
            logger.error("%s", exc)
            self.crawler.stats.set_value("portal/exit_code", EXIT_LOCKED)
            raise CloseSpider("archive_locked") from None
        self.archive = SQLiteArchive(self.path, self.batch_size, self.flush_seconds,
                                     self.crawler.settings.getint("ARCHIVE_FTS_SYNC_ROWS"))
        interrupted = self.archive.mark_interrupted()
        if interrupted:
            logger.warning("%d crawl(s) in %s had died without finishing: marked interrupted", interrupted, self.path)
        portal = getattr(spider, "portal", spider.name)
        args = getattr(spider, "crawl_args", {})
        crawl_id = self.archive.resume_crawl(spider.name, portal, args) if getattr(spider, "resume", False) else None
        if crawl_id is not None:
            logger.info("Resuming crawl %d into %s", crawl_id, self.path)
        else:
            if getattr(spider, "resume", False):
                logger.info("No interrupted crawl with these arguments in %s: starting a new one", self.path)
                spider.resume = False  # type: ignore[attr-defined]
            crawl_id = self.archive.begin_crawl(spider.name, portal, args)
            logger.info("Archiving crawl %d into %s", crawl_id, self.path)
        spider.crawl_id = crawl_id  # type: ignore[attr-defined]
        # Commit on a timer too, whatever arrives: a crawl stuck on a page that never answers still
        # has what it received on disk within ARCHIVE_FLUSH_SECONDS.
        from twisted.internet import task  # here, not at import: Scrapy installs the reactor first

        self.ticker = task.LoopingCall(self._tick)
        self.ticker.start(max(self.flush_seconds, 0.1), now=False)

    def _tick(self) -> None:
        if self.archive is not None and not self.crawler.stats.get_value("portal/fatal"):
            try:
                self.archive.flush_if_due()
            except (sqlite3.Error, OSError) as exc:
                if (why := storage_failure(exc)) is None:
                    logger.error("Timed commit of %s failed: %s", self.path, exc)
                else:
                    self.fail(why)

    def process_item(self, item: Any) -> Any:
        if self.archive is None:
            return item
        if self.crawler.stats.get_value("portal/fatal"):
            raise DropItem("not stored: the archive cannot be written")
        try:
            self._store(item)
        except (sqlite3.Error, OSError) as exc:
            why = storage_failure(exc)
            if why is None:
                raise
            self.fail(why)
            raise DropItem(f"not stored: {why}") from None
        return item

    def fail(self, why: str) -> None:
        """The archive cannot be written (disk full...): the crawl stops, exit code 1, one error line.
        What was committed before stays; what was buffered is retried by the next run."""
        if self.crawler.stats.get_value("portal/fatal"):
            return
        logger.error("%s: stopping the crawl", why)
        self.crawler.stats.set_value("portal/fatal", why)
        self.crawler.stats.set_value("portal/exit_code", EXIT_FAILED)
        if self.crawler.engine is not None and self.crawler.spider is not None:
            self.crawler.engine.close_spider(self.crawler.spider, "archive_unwritable")

    def _store(self, item: Any) -> None:
        assert self.archive is not None
        if isinstance(item, Record):
            self.archive.add_record(record_row(item), record_state(item))
        elif isinstance(item, Sightings):
            for appearance in item.appearances:
                self.archive.add_appearance(dict(vars(appearance)))  # flat dataclasses: no deep copy needed
        elif isinstance(item, Appearance):
            self.archive.add_appearance(dict(vars(item)))
        elif isinstance(item, FetchFailure):
            self.archive.add_failure(dict(vars(item)))

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Spider) -> None:
        if isinstance(exception, RecordRejected) and isinstance(item, Record) and self.archive is not None:
            raw = {k: v for k, v in asdict(item).items() if k != "problems"}
            try:
                self.archive.add_reject(item.id, item.url, "; ".join(exception.reasons), raw)
            except (sqlite3.Error, OSError) as exc:
                if (why := storage_failure(exc)) is None:
                    raise
                self.fail(why)

    def close_spider(self) -> None:
        if self.ticker is not None and self.ticker.running:
            self.ticker.stop()
        if self.archive is not None and not self.crawler.stats.get_value("portal/fatal"):
            try:
                self.archive.flush()
            except (sqlite3.Error, OSError) as exc:
                if (why := storage_failure(exc)) is None:
                    raise
                self.fail(why)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        archive = self.archive
        if archive is None:
            return
        try:
            fatal = self.crawler.stats.get_value("portal/fatal")
            if fatal:
                archive.rollback()
                try:  # the crawl row says what happened, if the disk lets it
                    archive.finish_crawl("failed", "archive_unwritable", {"exit_code": EXIT_FAILED,
                                                                          "alarms": json.dumps([fatal])})
                except (sqlite3.Error, OSError):
                    logger.warning("The crawl row of crawl %s could not be updated: it stays 'running' until the "
                                   "next crawl marks it interrupted", archive.crawl_id)
            else:
                self._finish(archive, spider, reason)
        except (sqlite3.Error, OSError) as exc:
            if (why := storage_failure(exc)) is None:
                raise
            self.fail(why)
        finally:
            with contextlib.suppress(sqlite3.Error, OSError):
                archive.close()
            self.archive = None
            self.lock.release()

    def _finish(self, archive: SQLiteArchive, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats
        values: dict[str, Any] = {column: stats.get_value(key, 0) for column, key in _STATS.items()}
        values["errors"] = sum(stats.get_value(key, 0) for key in _ERROR_STATS)
        values["error_rate"] = round(values["errors"] / values["requests"], 4) if values["requests"] else 0.0
        values["mode"] = getattr(spider, "mode", "full")
        complete = reason == "finished" and bool(getattr(spider, "complete_pass", False))
        values["complete"] = int(complete)
        if complete:
            gone = archive.mark_gone(getattr(spider, "portal", spider.name), getattr(spider, "lang", "en"))
            if gone:
                logger.info("%d archived records are listed no more: marked gone", gone)
            archive.settle_listing_failures()
        profile = archive.crawl_profile()
        values["sections"] = json.dumps(profile["sections"], ensure_ascii=False)
        values["fill_rates"] = json.dumps({**profile["fill_rates"], "records_seen": profile["records_seen"]})
        drift = drift_alarms(self._baseline(archive), profile, self.max_fill_drop, self.drift_min_records) \
            if self.drift_enabled and reason == "finished" else []
        result = verdict(reason, archive.counts["records"], values["requests"], values["errors"],
                         self.max_error_rate, drift, stats.get_value("portal/start_failed"))
        values["exit_code"] = result.exit_code
        values["alarms"] = json.dumps(result.alarms, ensure_ascii=False) if result.alarms else None
        # Ctrl-C, SIGTERM (systemd stop, a timeout): interrupted, and resumable like a killed crawl.
        status = "finished" if reason == "finished" else "interrupted" if reason == "shutdown" else "failed"
        archive.finish_crawl(status, reason, values)
        stats.set_value("portal/exit_code", result.exit_code)
        stats.set_value("portal/crawl_id", archive.crawl_id)
        for alarm in result.alarms:
            logger.error("Crawl %s: %s", archive.crawl_id, alarm)
        counts = archive.counts
        logger.info("Crawl %s %s (%s): %d records (%d new, %d changed, %d unchanged, %d gone), %d appearances, "
                    "%d rejects, %d errors in %s; exit code %d", archive.crawl_id, status, values["mode"],
                    counts["records"], counts["records_new"], counts["records_changed"], counts["records_unchanged"],
                    counts["records_gone"], counts["appearances"], counts["rejects"], values["errors"], self.path,
                    result.exit_code)

    def _baseline(self, archive: SQLiteArchive) -> dict[str, Any] | None:
        """The latest earlier healthy crawl of the same spider and scope: what this one is compared with."""
        current = archive.crawl_row()
        rows = archive.db.execute(
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


class JsonLinesArchivePipeline:
    """The JSON Lines archive: one record per line, UTF-8.

    With a SQLite archive, written from it when the crawl closes (every current record of the
    portal), into a temporary file renamed over the old one: a crawl killed at any point leaves
    the previous file whole. Without one, this crawl's records stream into `<path>.part`, renamed
    the same way at the end.
    """

    def __init__(self, crawler: Crawler, path: str, sqlite_path: str | None, batch_size: int = 500) -> None:
        self.crawler = crawler
        self.path = Path(path)
        self.sqlite_path = sqlite_path
        self.batch_size = batch_size
        self.writer: JsonLinesWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = crawler.settings.get("ARCHIVE_JSONL_PATH")
        if not path:
            raise NotConfigured  # switched off on purpose (""): nothing to warn about
        pipeline = cls(crawler, str(path), crawler.settings.get("ARCHIVE_SQLITE_PATH") or None,
                       crawler.settings.getint("ARCHIVE_BATCH_SIZE"))
        if pipeline.sqlite_path:
            # After the SQLite pipeline's own spider_closed handler (connected first) has finished the crawl.
            crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    @property
    def part_path(self) -> Path:
        return self.path.with_name(self.path.name + ".part")

    def open_spider(self) -> None:
        if not self.sqlite_path:
            self.writer = JsonLinesWriter(self.part_path, self.batch_size)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Record) and self.writer is not None:
            self.writer.write(record_row(item))
        return item

    def close_spider(self) -> None:
        if self.writer is not None:
            try:
                self.writer.close()
                os.replace(self.part_path, self.path)
            except OSError as exc:
                self.part_path.unlink(missing_ok=True)
                logger.error("JSON Lines archive not written (%s); the previous one is kept", exc.strerror or exc)
            self.writer = None

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats
        if stats.get_value("portal/exit_code") == EXIT_LOCKED or stats.get_value("portal/fatal") or \
                not self.sqlite_path:
            return
        portal = getattr(spider, "portal", None)
        db = open_database(self.sqlite_path)
        try:
            with self.part_path.open("w", encoding="utf-8") as out:
                count = export(db, out, "jsonl", portal)
                out.flush()
                os.fsync(out.fileno())
            os.replace(self.part_path, self.path)
        except OSError as exc:  # disk full: the temporary file goes, the previous archive stays whole
            self.part_path.unlink(missing_ok=True)
            why = f"JSON Lines archive not written: {exc.strerror or exc}; the previous one is kept"
            logger.error("%s", why)
            stats.set_value("portal/fatal", why)
            stats.set_value("portal/exit_code", EXIT_FAILED)
            return
        finally:
            db.close()
        logger.info("JSON Lines archive: %d records in %s", count, self.path)
