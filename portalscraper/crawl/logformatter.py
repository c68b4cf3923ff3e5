"""Scrapy's log messages, without putting together the ones nobody will see (LOG_FORMATTER)."""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.logformatter import LogFormatter, LogFormatterResult


class CrawlLogFormatter(LogFormatter):
    """Scrapy's messages, but the two it writes for every page and every item, "Crawled (200)
    <GET ...>" and "Scraped from <200 ...>" with the whole item, are DEBUG, and Scrapy puts each
    together and makes a log record of it whatever the crawl's LOG_LEVEL: its handler, not the
    logger, drops them. A crawl logging at INFO or above (the command's default: WARNING) skips
    them; at DEBUG they are as Scrapy writes them."""

    def __init__(self, debug: bool = True) -> None:
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        level = crawler.settings.get("LOG_LEVEL", "DEBUG")
        number = logging.getLevelName(level.upper()) if isinstance(level, str) else level
        return cls(debug=not isinstance(number, int) or number <= logging.DEBUG)

    def crawled(self, *args: Any, **kwargs: Any) -> LogFormatterResult | None:  # type: ignore[override]
        return super().crawled(*args, **kwargs) if self.debug else None

    def scraped(self, *args: Any, **kwargs: Any) -> LogFormatterResult | None:  # type: ignore[override]
        return super().scraped(*args, **kwargs) if self.debug else None
