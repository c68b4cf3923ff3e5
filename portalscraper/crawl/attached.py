"""What the runner hands a crawler before Scrapy starts: the crawl's arguments, parsed once (read by
the portal spider), and the live CrawlSession it opened (read by the store pipeline). They travel
beside the crawler object, never in the crawler's settings (which Scrapy copies, and which hold
values, not open databases and locks)."""

from __future__ import annotations

from weakref import WeakKeyDictionary

from scrapy.crawler import Crawler

from portalscraper.archive import CrawlSession
from portalscraper.crawl.args import CrawlArgs

_SESSIONS: WeakKeyDictionary[Crawler, CrawlSession] = WeakKeyDictionary()
_ARGS: WeakKeyDictionary[Crawler, CrawlArgs] = WeakKeyDictionary()


def attach_session(crawler: Crawler, session: CrawlSession) -> None:
    """Hand `session` to the crawler's store pipeline (before the crawl starts)."""
    _SESSIONS[crawler] = session


def attached_session(crawler: Crawler) -> CrawlSession | None:
    """The session the runner opened for this crawler; None when it was run some other way."""
    return _SESSIONS.get(crawler)


def attach_args(crawler: Crawler, args: CrawlArgs) -> None:
    """Hand the crawl's parsed arguments to the crawler's spider (before the crawl starts)."""
    _ARGS[crawler] = args


def attached_args(crawler: Crawler) -> CrawlArgs | None:
    """The arguments the runner parsed for this crawler; None when it was run some other way."""
    return _ARGS.get(crawler)
