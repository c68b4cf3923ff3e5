"""Normalize: clean the texts, parse the dates, hash the content (extract/normalize.py), in the
time zone of the crawl's portal. Appearances pass through."""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy.crawler import Crawler

from portalscraper.crawl.contract import portal_spider
from portalscraper.extract.normalize import content_hash, normalize
from portalscraper.items import Record

__all__ = ["NormalizePipeline", "content_hash", "normalize"]

logger = logging.getLogger(__name__)


class NormalizePipeline:
    """Normalizes records in the time zone of the crawl's portal (its profile's), else
    NORMALIZE_TIMEZONE."""

    def __init__(self, crawler: Crawler, default_timezone: str | None = None) -> None:
        self.crawler = crawler
        self.timezone = default_timezone

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, crawler.settings.get("NORMALIZE_TIMEZONE"))

    def open_spider(self) -> None:
        spider = portal_spider(self.crawler.spider)
        if spider is not None and spider.args.profile.timezone:
            self.timezone = spider.args.profile.timezone

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Record):
            normalize(item, self.timezone)
        return item
