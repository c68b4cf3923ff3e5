"""Web-archive crawls: links asked at the capture nearest the page that links them, and an item
whose nearest replay is not a page read from the nearest capture that answered 200."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse

from portalscraper.args import CrawlArgs
from portalscraper.pages import page_of
from portalscraper.scope import Scope
from portalscraper.spiders.item_pages import ITEM_PRIORITY
from portalscraper.wayback import capture_of, cdx_query, nearest, parse_cdx, replay_url


class ReplayMixin:
    """PortalSpider's web-archive navigation (all of it inert outside web-archive crawls)."""

    # Provided by PortalSpider and ItemPagesMixin.
    crawler: Crawler
    args: CrawlArgs
    scope: Scope
    logger: Any  # scrapy.Spider's
    item_page: Callable[..., scrapy.Request]
    give_up: Callable[..., Iterator[Any]]

    def request_url(self, url: str, response: Response) -> str:
        """Where to ask for a page linked from `response`: in a web-archive crawl, the capture nearest
        in time to the page that links it; else the portal URL, on the crawled mirror if need be."""
        if not self.args.wayback:
            return self.scope.local(url)
        capture = page_of(response, self.args.wayback).capture
        return replay_url(self.args.wayback, capture.timestamp if capture else (self.args.wb_to or "2"), url)

    def capture_lookup(self, request: scrapy.Request, url: str, reason: str, status: int) -> scrapy.Request | None:
        """A replay that is not a page (the nearest capture is an archived 404 or 5xx, or the page was
        never captured there): the archive's index of the page's captures is asked, once."""
        if not self.args.wayback or request.meta.get("wb_lookup"):
            return None
        original = capture_of(url, None)
        if original is None:
            return None
        self.crawler.stats.inc_value("portal/archive_lookup")
        listing = request.meta["listing"]
        return scrapy.Request(cdx_query(self.args.wayback, original.original, None, None, collapse=False),
                              self.nearest_good_capture, errback=request.errback, dont_filter=True,
                              priority=ITEM_PRIORITY,
                              meta={"listing": listing, "wb_lookup": True, "wb_failed": (url, reason, status)},
                              cb_kwargs={"listing": listing, "around": original.timestamp})

    def nearest_good_capture(self, response: Response, listing: dict[str, Any], around: str) -> Iterator[Any]:
        """The nearest capture that answered 200 is asked for, else the item fails, with the first
        replay's reason."""
        captures, _ = parse_cdx(response.text if isinstance(response, TextResponse) else "")
        best = nearest(captures, around)
        url, reason, status = response.meta["wb_failed"]
        if best is None:
            why = "no capture of it answered 200 in the archive" if captures else "never captured by the archive"
            yield from self.give_up(url, f"{reason}; {why}", status, listing)
            return
        self.crawler.stats.inc_value("portal/archive_nearest_good_capture")
        yield self.item_page(replay_url(self.args.wayback or "", best.timestamp, best.original), listing,
                             priority=ITEM_PRIORITY, meta={"wb_lookup": True, "wb_failed": (url, reason, status)})
