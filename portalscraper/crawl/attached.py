"""The live CrawlSession of a crawler: opened by the runner before Scrapy starts, read by the store
pipeline. It travels beside the crawler object, never in the crawler's settings (which Scrapy
copies, and which hold values, not open databases and locks)."""

from __future__ import annotations

from weakref import WeakKeyDictionary

from scrapy.crawler import Crawler

from portalscraper.archive import CrawlSession

_SESSIONS: WeakKeyDictionary[Crawler, CrawlSession] = WeakKeyDictionary()


def attach_session(crawler: Crawler, session: CrawlSession) -> None:
    """Hand `session` to the crawler's store pipeline (before the crawl starts)."""
    _SESSIONS[crawler] = session


def attached_session(crawler: Crawler) -> CrawlSession | None:
    """The session the runner opened for this crawler; None when it was run some other way."""
    return _SESSIONS.get(crawler)
