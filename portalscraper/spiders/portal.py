"""Any portal, with no profile: `scrapy crawl portal -a start_url=URL [-a allow=REGEX] [-a max_pages=N]`.

The spider walks the start URL's site breadth first. On every page it visits it looks for
listing blocks (content-anchored: repeated blocks each with an item link and a date or
summary); their items become records, through the same extraction and pipelines as any
profile's. A listing's "next" link and the page's other links within the site are followed
until `max_pages` pages (default 50) have been visited. `allow` restricts both the pages
followed and the items taken to URLs matching a regular expression. A profile (`-a
profile=nato` or a TOML path) may still lend its URL rules and selectors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse

from portalscraper.extract.listing import next_page_url
from portalscraper.extract.urls import page_kind
from portalscraper.pages import page_selector
from portalscraper.spiders.base import PortalSpider

# Links that are never items or listings worth visiting: files, feeds, and site furniture.
_NOT_PAGES = re.compile(
    r"\.(?:pdf|docx?|xlsx?|pptx?|zip|gz|rar|7z|jpe?g|png|gif|svg|webp|ico|mp[34]|avi|mov|wmv|css|js|xml|rss|json"
    r"|txt|ics)$", re.IGNORECASE)
_NOT_ITEMS = re.compile(
    r"/(?:tags?|category|categories|topics?/?$|search|login|logout|register|subscribe|contacts?|sitemap|print|share"
    r"|feed|rss|accessibility|privacy|cookies?|legal|disclaimer|author)(?:/|\.|$)|[?&](?:page|p|start|offset|sort)="
    # pagers (/page/2/), year and month archives (/press/2013/, /2012/09/), and a site's sections (/press/)
    r"|/page/\d+/?$|/(?:19|20)\d\d/?$|/(?:19|20)\d\d/[01]?\d/?$|^/[^/]+/$",
    re.IGNORECASE)
DEFAULT_MAX_PAGES = 50


class PortalSpiderGeneric(PortalSpider):
    name = "portal"
    profile_name = None  # any site: a profile only when given (`-a profile=`)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_url = self.args.start_url or self.args.base_url
        self.page_budget = self.args.max_pages or DEFAULT_MAX_PAGES
        self.pages: set[str] = set()  # canonical URLs of the pages requested (not items)
        self.pending: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {}  # record id: (rank, best listing)
        self.budget_hit = False

    # -- what is a page, what is an item ------------------------------------------------------

    def in_site(self, url: str) -> bool:
        """The start URL's site: its origin (scheme, host and port), never another."""
        if not self.allows_request(url):
            return False
        parts = urlsplit(url)
        allow = self.args.allow
        return not _NOT_PAGES.search(parts.path) and (allow is None or bool(allow.search(url)))

    def is_item_url(self, url: str) -> bool:
        if not self.in_site(url):
            return False
        if self.scope.rules.kinds:
            return page_kind(self.canonical(url), self.scope.rules) is not None
        parts = urlsplit(url)
        return parts.path not in ("", "/") and not _NOT_ITEMS.search(parts.path + ("?" + parts.query if parts.query
                                                                                       else ""))

    # -- crawling ----------------------------------------------------------------------------

    def first_requests(self) -> Iterator[scrapy.Request]:
        self.pages.add(self.canonical(self.start_url))
        yield scrapy.Request(self.start_url, self.parse_page, errback=self.listing_failed, cb_kwargs={"depth": 0},
                             meta={"start": True})

    def parse_item(self, response: Response, listing: dict[str, Any] | None = None) -> Iterator[Any]:
        """An item page, which may turn out to be a listing (a calendar, an edition's index, linked
        like an item with a title and a date or teaser): it stays an item, and is read as a listing
        too, whatever first linked to it."""
        yield from super().parse_item(response, listing)
        if isinstance(response, TextResponse) and response.status == 200 and \
                len(self.listing_entries(response)) >= 2:
            self.crawler.stats.inc_value("portal/item_page_read_as_listing")
            yield from self.parse_page(response, depth=1)

    def parse_page(self, response: Response, depth: int) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            return
        response.meta["page_depth"] = depth
        entries = self.listing_entries(response)
        yield from self.follow_entries(response, entries)
        listed = {self.canonical(e.url) for e in entries}
        links = []
        if next_url := next_page_url(page_selector(response).root, response.url):
            links.append(next_url)
        links += [response.urljoin(href) for href in response.css("a::attr(href)").getall()]
        for url in links:
            page = self.canonical(url)
            if page in self.pages or page in listed or not self.in_site(url):
                continue
            if len(self.pages) >= self.page_budget:
                if not self.budget_hit:
                    self.budget_hit = True
                    self.logger.info("Requested %d pages (max_pages): following no more links", self.page_budget)
                return
            self.pages.add(page)
            # Nearer pages first, and item pages before any of them.
            yield response.follow(url, self.parse_page, errback=self.listing_failed, priority=-(depth + 1),
                                  cb_kwargs={"depth": depth + 1})

    def listings_complete(self) -> bool:
        return not self.budget_hit

    # -- each item from the listing that names it best -------------------------------------------

    defer_items = True

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Any:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.request_items, signal=signals.spider_idle)
        return spider

    def offer(self, listing: dict[str, Any], response: Response) -> None:
        """Keep, for each item, the listing entry that names it best: one with a date and a teaser
        over one without; then one on a page nearer the start URL; then the page whose URL sorts
        first. Items are requested once every page is read (`request_items`), so the choice does
        not depend on the order responses arrive in."""
        depth = response.meta.get("page_depth", 0)
        rank = (not listing["date_text"], not listing["summary"], depth, listing["source_url"])
        rid = listing["record_id"]
        best = self.pending.get(rid)
        if best is None or rank < best[0]:
            self.pending[rid] = (rank, listing)

    def request_items(self, spider: Any) -> None:
        """Once every page is read: a request for each item, in record-id order."""
        if not self.pending:
            return
        pending, self.pending = self.pending, {}
        scheduled = 0
        for rid in sorted(pending):
            request = self.item_request(pending[rid][1])
            if request is not None:
                self.crawler.engine.crawl(request)
                scheduled += 1
        if scheduled:
            self.logger.info("Every page read: requesting %d item pages", scheduled)
            raise DontCloseSpider
