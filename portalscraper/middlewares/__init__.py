"""Downloader middlewares, one module each: retries that back off (retry), encodings repaired
(encoding), only the portal asked (origin, offsite), replayed redirects kept in the archive
(wayback), cookies offline (cookies), robots.txt as RFC 9309 reads it (robotstxt).

Enabled in settings.py (DOWNLOADER_MIDDLEWARES); each reads its settings in from_crawler.
"""

from __future__ import annotations

from typing import Self

from scrapy.crawler import Crawler


class CrawlerBound:
    """A middleware that needs its crawler alone (its stats, its spider) and no settings."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)
