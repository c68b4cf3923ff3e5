"""Store: thin Scrapy adapters over the archive writers (SQLite and JSON Lines)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from portalscraper.archive import JsonLinesWriter, SQLiteArchive
from portalscraper.items import Appearance, Record, record_row
from portalscraper.pipelines.validate import RecordRejected

logger = logging.getLogger(__name__)

# Scrapy stats copied into the crawl's row.
_STATS = {
    "requests": "downloader/request_count",
    "responses": "downloader/response_count",
    "bytes": "downloader/response_bytes",
    "errors": "log_count/ERROR",
    "duplicates": "dedupe/duplicates",
}


class SQLiteArchivePipeline:
    """Upserts records, inserts appearances and rejects, and keeps the crawl's row."""

    def __init__(self, crawler: Crawler, path: str, batch_size: int = 500, flush_seconds: float = 5.0) -> None:
        self.crawler = crawler
        self.path = path
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.archive: SQLiteArchive | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = crawler.settings.get("ARCHIVE_SQLITE_PATH")
        if not path:
            raise NotConfigured("ARCHIVE_SQLITE_PATH is empty")
        pipeline = cls(crawler, str(path), crawler.settings.getint("ARCHIVE_BATCH_SIZE"),
                       crawler.settings.getfloat("ARCHIVE_FLUSH_SECONDS"))
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        spider = self.crawler.spider
        assert spider is not None
        self.archive = SQLiteArchive(self.path, self.batch_size, self.flush_seconds)
        crawl_id = self.archive.begin_crawl(spider.name, getattr(spider, "portal", spider.name),
                                            getattr(spider, "crawl_args", {}))
        spider.crawl_id = crawl_id  # type: ignore[attr-defined]
        logger.info("Archiving crawl %d into %s", crawl_id, self.path)

    def process_item(self, item: Any) -> Any:
        assert self.archive is not None
        if isinstance(item, Record):
            self.archive.add_record(record_row(item))
        elif isinstance(item, Appearance):
            self.archive.add_appearance(asdict(item))
        return item

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Spider) -> None:
        if isinstance(exception, RecordRejected) and isinstance(item, Record) and self.archive is not None:
            raw = {k: v for k, v in asdict(item).items() if k != "problems"}
            self.archive.add_reject(item.id, item.url, "; ".join(exception.reasons), raw)

    def close_spider(self) -> None:
        if self.archive is not None:
            self.archive.flush()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.archive is None:
            return
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        values = {column: stats.get(key, 0) for column, key in _STATS.items()}
        status = "finished" if reason == "finished" else "failed"
        self.archive.finish_crawl(status, reason, values)
        counts = self.archive.counts
        logger.info("Crawl %s %s: %d records (%d new, %d changed), %d appearances, %d rejects in %s",
                    self.archive.crawl_id, status, counts["records"], counts["records_new"],
                    counts["records_changed"], counts["appearances"], counts["rejects"], self.path)
        self.archive.close()
        self.archive = None


class JsonLinesArchivePipeline:
    """Writes each stored record as one line of JSON, as the crawl goes."""

    def __init__(self, path: str, batch_size: int = 500) -> None:
        self.path = path
        self.batch_size = batch_size
        self.writer: JsonLinesWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = crawler.settings.get("ARCHIVE_JSONL_PATH")
        if not path:
            raise NotConfigured("ARCHIVE_JSONL_PATH is empty")
        return cls(str(path), crawler.settings.getint("ARCHIVE_BATCH_SIZE"))

    def open_spider(self) -> None:
        self.writer = JsonLinesWriter(self.path, self.batch_size)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Record) and self.writer is not None:
            self.writer.write(record_row(item))
        return item

    def close_spider(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
