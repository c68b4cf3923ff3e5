"""De-duplicate within a run: the first record of an id wins (across runs the archive upserts by id)."""

from __future__ import annotations

from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from portalscraper.crawl.recordids import RecordIdSet
from portalscraper.items import Record


class DuplicateRecord(DropItem):
    def __init__(self, record_id: str) -> None:
        super().__init__(f"duplicate of record {record_id} already stored in this run", log_level="DEBUG")


class DedupePipeline:
    def __init__(self, stats: StatsCollector | None = None) -> None:
        self.stats = stats
        self.seen = RecordIdSet()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Record) or item.id is None:
            return item
        if item.id in self.seen:
            if self.stats is not None:
                self.stats.inc_value("dedupe/duplicates")
            raise DuplicateRecord(item.id)
        self.seen.add(item.id)
        return item

    def close_spider(self) -> None:
        self.seen.close()
