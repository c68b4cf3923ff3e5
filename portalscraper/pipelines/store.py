"""Store: thin Scrapy adapters over the archive (a CrawlSession, and the JSON Lines archive)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DropItem, NotConfigured

from portalscraper import signals as portal_signals
from portalscraper.archive import (
    ArchiveError,
    ArchiveLockedError,
    CrawlSession,
    CrawlTotals,
    JsonLinesWriter,
    SessionOptions,
    export,
)
from portalscraper.archive.session import guarded_write
from portalscraper.crawl.attached import attached_session
from portalscraper.crawl.contract import portal_spider
from portalscraper.crawl.overrides import session_options
from portalscraper.crawl.verdict import EXIT_FAILED, EXIT_LOCKED, Verdict
from portalscraper.items import Record, record_row
from portalscraper.pipelines.validate import RecordRejected
from portalscraper.webarchive.warc import offset_written

if TYPE_CHECKING:
    from twisted.internet.task import LoopingCall

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


def crawl_totals(stats: Mapping[str, Any], mode: str, complete_pass: bool) -> CrawlTotals:
    """The crawl row's counts from Scrapy's stats (one crawler's, or several workers' summed)."""
    values: dict[str, Any] = {column: stats.get(key, 0) for column, key in _STATS.items()}
    return CrawlTotals(**values, errors=sum(stats.get(key, 0) for key in _ERROR_STATS),
                       listing_failures=stats.get("portal/listing_failed", 0), mode=mode,
                       complete_pass=complete_pass, start_failure=stats.get("portal/start_failed"))


class SQLiteArchivePipeline:
    """The crawl's CrawlSession, as Scrapy sees it: items in, the verdict out.

    The session is the one the command that started the crawl opened and attached to the crawler
    (portalscraper.crawl.attached), or one this pipeline opens at ARCHIVE_SQLITE_PATH. It is
    announced with `archive_opened`, and, once the crawl is judged, with `archive_finished`. A
    second crawl into the same archive stops at once (reason `archive_locked`).
    """

    def __init__(self, crawler: Crawler, path: str, session: CrawlSession | None, options: SessionOptions) -> None:
        self.crawler = crawler
        self.path = path
        self.session = session
        self.options = options
        self.ticker: LoopingCall | None = None  # the timed commit, while the crawl runs

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        session = attached_session(crawler)
        path = settings.get("ARCHIVE_SQLITE_PATH")
        if not settings.getbool("ARCHIVE_ENABLED") or (session is None and not path):
            raise NotConfigured  # not a crawl (shell, fetch...), or switched off on purpose: nothing to say
        pipeline = cls(crawler, str(path), session, session_options(settings))
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        spider = portal_spider(self.crawler.spider)
        if self.session is None:
            if spider is None:
                logger.warning("Not archived: spider %r is not a portal spider (it has no CrawlArgs)",
                               getattr(self.crawler.spider, "name", self.crawler.spider))
                return
            try:
                self.session = CrawlSession.open(self.path, spider.args, self.options)
            except ArchiveLockedError as exc:
                logger.error("%s", exc)
                self.crawler.stats.set_value("portal/exit_code", EXIT_LOCKED)
                raise CloseSpider("archive_locked") from None
        self.crawler.signals.send_catch_log(portal_signals.archive_opened, session=self.session)
        # Commit on a timer too, whatever arrives: a crawl stuck on a page that never answers still
        # has what it received on disk within ARCHIVE_FLUSH_SECONDS.
        from twisted.internet import task  # here, not at import: Scrapy installs the reactor first

        self.ticker = task.LoopingCall(self._guarded, lambda s: s.flush_if_due())
        self.ticker.start(max(self.options.flush_seconds, 0.1), now=False)

    def _guarded(self, write: Callable[[CrawlSession], Any]) -> bool:
        """Run a write; an archive that cannot be written at all stops the crawl. False if not written."""
        return self.session is not None and self._guarded_session(self.session, write)

    def _guarded_session(self, session: CrawlSession, write: Callable[[CrawlSession], Any]) -> bool:
        return guarded_write(session, write, lambda why: self.fail(session, why))

    async def process_item(self, item: Any) -> Any:
        if self.session is None:
            return item
        await offset_written(item)  # the archive takes the item page's WARC offset as a number
        if not self._guarded(lambda s: s.store(item)):
            raise DropItem(f"not stored: {self.session.failure or 'the archive cannot be written'}")
        return item

    def fail(self, session: CrawlSession, why: str) -> None:
        """The archive cannot be written (disk full...): the crawl stops, exit code 1, one error line.
        What was committed before stays; what was buffered is retried by the next run."""
        logger.error("%s: stopping the crawl", why)
        session.fail(why)
        self.crawler.stats.set_value("portal/fatal", why)
        if self.crawler.engine is not None and self.crawler.spider is not None:
            self.crawler.engine.close_spider(self.crawler.spider, "archive_unwritable")

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Spider) -> None:
        if isinstance(exception, RecordRejected) and isinstance(item, Record):
            self._guarded(lambda s: s.reject(item, exception.reasons))

    def close_spider(self) -> None:
        if self.ticker is not None and self.ticker.running:
            self.ticker.stop()
        self._guarded(lambda s: s.writer.flush())

    def spider_closed(self, spider: Spider, reason: str) -> None:
        session, self.session = self.session, None
        if session is None:
            return
        try:
            totals = self.totals(spider)
            if not self._guarded_session(session, lambda s: s.finish(reason, totals)):
                session.finish(reason, totals)  # the archive cannot be written: the failure's verdict
            assert session.verdict is not None
            self.crawler.stats.set_value("portal/exit_code", session.verdict.exit_code)
            self.crawler.stats.set_value("portal/crawl_id", session.crawl_id)
            self.crawler.signals.send_catch_log(portal_signals.archive_finished, session=session,
                                                verdict=session.verdict)
        finally:
            self._guarded_session(session, lambda s: s.close())
            session.close()  # the lock, whatever happened

    def totals(self, spider: Spider) -> CrawlTotals:
        portal = portal_spider(spider)
        return crawl_totals(self.crawler.stats.get_stats(), portal.mode if portal else "full",
                            bool(portal and portal.complete_pass))


class JsonLinesArchivePipeline:
    """The JSON Lines archive: one record per line, UTF-8.

    With a SQLite archive, written from it when the crawl is judged (`archive_finished`: every
    current record of the portal), into a temporary file renamed over the old one: a crawl killed
    at any point leaves the previous file whole. Without one, this crawl's records stream into
    `<path>.part`, renamed the same way at the end.
    """

    def __init__(self, path: str, batch_size: int = 500) -> None:
        self.path = Path(path)
        self.batch_size = batch_size
        self.writer: JsonLinesWriter | None = None
        self.from_archive = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = crawler.settings.get("ARCHIVE_JSONL_PATH")
        if not crawler.settings.getbool("ARCHIVE_ENABLED") or not path:
            raise NotConfigured  # not a crawl (shell, fetch...), or switched off on purpose: nothing to say
        pipeline = cls(str(path), crawler.settings.getint("ARCHIVE_BATCH_SIZE"))
        crawler.signals.connect(pipeline.archive_opened, signal=portal_signals.archive_opened)
        crawler.signals.connect(pipeline.archive_finished, signal=portal_signals.archive_finished)
        return pipeline

    @property
    def part_path(self) -> Path:
        return self.path.with_name(self.path.name + ".part")

    def archive_opened(self, session: CrawlSession) -> None:
        """Written from the archive at the end: nothing to stream (whichever opened first)."""
        self.from_archive = True
        if self.writer is not None:
            self.writer.close()
            self.writer = None
            self.part_path.unlink(missing_ok=True)

    def open_spider(self) -> None:
        if not self.from_archive:
            try:
                self.writer = JsonLinesWriter(self.part_path, self.batch_size)
            except ArchiveError as exc:
                raise CloseSpider(str(exc)) from None

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

    def archive_finished(self, session: CrawlSession, verdict: Verdict) -> None:
        if session.failure is not None:
            return
        try:
            with self.part_path.open("w", encoding="utf-8") as out:
                count = export(session.writer.db, out, "jsonl", session.args.portal)
                out.flush()
                os.fsync(out.fileno())
            os.replace(self.part_path, self.path)
        except OSError as exc:  # disk full: the temporary file goes, the previous archive stays whole
            self.part_path.unlink(missing_ok=True)
            why = f"JSON Lines archive not written: {exc.strerror or exc}; the previous one is kept"
            logger.error("%s", why)
            session.alarm(why, EXIT_FAILED)
            return
        logger.info("JSON Lines archive: %d records in %s", count, self.path)
