"""What a portal spider hands its collaborators (item pages, sources, web-archive replay): the crawl
they serve and the pass it runs, as values of their own rather than the spider's attributes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from portalscraper.archive.memory import ArchiveMemory
from portalscraper.crawl.args import CrawlArgs
from portalscraper.crawl.scope import Scope
from portalscraper.items import FetchFailure, Record, Sightings
from portalscraper.profiles import Profile

# What a spider's callbacks yield: requests, and the items the pipelines take.
Output: TypeAlias = scrapy.Request | Record | Sightings | FetchFailure
# A spider's own method that reads a response (Scrapy finds callbacks on the spider, by name).
Callback: TypeAlias = Callable[..., Iterator[Output]]
Errback: TypeAlias = Callable[[Failure], Iterator[Output]]
ResponseReader: TypeAlias = Callable[[Response], Iterator[Output]]


@dataclass(frozen=True)
class Crawl:
    """The crawl a collaborator serves: its arguments (parsed once), its scope, the crawler whose
    stats it counts in, and the spider's logger (what it logs reads as the spider's)."""

    args: CrawlArgs
    scope: Scope
    crawler: Crawler
    logger: logging.LoggerAdapter[logging.Logger]

    @property
    def stats(self) -> StatsCollector:
        """The crawler's stats (Scrapy makes them after the spider, before the crawl starts)."""
        return self.crawler.stats

    @property
    def profile(self) -> Profile:
        return self.args.profile

    def canonical(self, url: str) -> str:
        return self.scope.canonical(url)


@dataclass
class CrawlPass:
    """The pass a crawl runs, as the spider chooses it once the archive is open (`PortalSpider.plan`):
    the archive's memory of earlier crawls (an empty one until then, or when the crawl is not
    incremental), whether it is a complete pass, whether archived item pages are asked for
    conditionally, and whether it resumes an interrupted crawl."""

    memory: ArchiveMemory
    full: bool
    incremental: bool = False
    resumed: bool = False


def schedule(crawler: Crawler, requests: list[scrapy.Request], records: Sequence[Output]) -> list[Deferred[Any]]:
    """Requests and records made outside any callback (items held back until the spider is idle):
    the requests to the engine, the records to the pipelines as a callback's items go (Scrapy >=
    2.14); each record's way through the pipelines."""
    assert crawler.engine is not None
    for request in requests:
        crawler.engine.crawl(request)
    scraper = crawler.engine.scraper
    return [deferred_from_coro(scraper.start_itemproc_async(record, response=None)) for record in records]
