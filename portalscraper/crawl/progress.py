"""A crawl's progress, one line at a time: pages done and queued, records new, changed and
unchanged, failures, the rate, and the time left for what is queued.

Every PROGRESS_INTERVAL seconds (0: every 10 s when standard error is a terminal, every 60 s
otherwise, as in a log file or a journal). It stands in for Scrapy's own LogStats line.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from portalscraper import signals as portal_signals
from portalscraper.archive import CrawlSession

logger = logging.getLogger(__name__)


def queued_requests(stats: dict[str, Any]) -> int:
    """The requests in the scheduler's queue, by Scrapy's stats."""
    return max(0, int(stats.get("scheduler/enqueued", 0)) - int(stats.get("scheduler/dequeued", 0)))


def progress_line(stats: dict[str, Any], counts: dict[str, int] | None, rate: float) -> str:
    """The progress line for Scrapy's `stats` and the archive's running `counts` (None without one)."""
    done = stats.get("downloader/response_count", 0)
    queued = queued_requests(stats)
    failed = stats.get("portal/item_page_failed", 0) + stats.get("portal/listing_failed", 0)
    not_modified = stats.get("portal/item_page_not_modified", 0)
    if counts is not None:
        records = (f"records {counts['records_new']:,} new, {counts['records_changed']:,} changed, "
                   f"{counts['records_unchanged']:,} unchanged ({not_modified:,} pages answered 304)")
    else:
        records = f"{stats.get('item_scraped_count', 0):,} items"
    left = f"about {dt.timedelta(seconds=round(queued / rate))} left for what is queued" if rate > 0 and queued \
        else "nothing queued" if not queued else "waiting"
    return f"Progress: {done:,} pages done, {queued:,} queued; {records}; {failed:,} failed; {rate:.0f} pages/s; {left}"


class Progress:
    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.session: CrawlSession | None = None
        self.ticker: Any = None
        self.last = (0, time.monotonic())

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        interval = crawler.settings.getfloat("PROGRESS_INTERVAL")
        if interval < 0:
            raise NotConfigured
        extension = cls(crawler, interval or (10.0 if sys.stderr.isatty() else 60.0))
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.archive_opened, signal=portal_signals.archive_opened)
        return extension

    def archive_opened(self, session: CrawlSession) -> None:
        self.session = session

    def opened(self) -> None:
        from twisted.internet import task  # here, not at import: Scrapy installs the reactor first

        self.ticker = task.LoopingCall(self.tick)
        self.ticker.start(self.interval, now=False)

    def tick(self) -> None:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        done, now = stats.get("downloader/response_count", 0), time.monotonic()
        rate = (done - self.last[0]) / max(now - self.last[1], 1e-3)
        self.last = (done, now)
        counts = self.session.writer.counts if self.session is not None else None
        logger.info("%s", progress_line(stats, counts, rate))

    def closed(self) -> None:
        if self.ticker is not None and self.ticker.running:
            self.ticker.stop()


def show_progress() -> None:
    """The progress lines on standard error as they are, whatever the log level (the demo's log is
    at WARNING: its progress and what goes wrong). A handler of the progress logger's own, which
    Scrapy's log set-up leaves alone."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
