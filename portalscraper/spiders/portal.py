"""Any portal, with no profile: `scrapy crawl portal -a start_url=URL [-a allow=REGEX] [-a max_pages=N]`.

The spider walks the start URL's site breadth first and learns the site from its own evidence:

- **Items.** On every page, the links that carry an entry's headline with its date or teaser
  vote for their URL template (`/article/{n}`, `/news/item.php?id={n}`, `/{n}/{n}/{slug}/`);
  pagers' and archives' links vote for theirs as navigation (`extract.templates`). The page's
  entries are then read with its item templates as the only item links, so a tag or category
  link inside a card is neither an entry nor a cut in the card's block. No list of words or
  numbers in URLs decides what an item is.
- **Page types.** A page with an item's evidence (metadata, or running text under its headline)
  is an item and never a listing, whatever dated links its sidebar holds; a page without it that
  holds entries is a listing (`extract.pagetype`).
- **Feeds and sitemaps**: robots.txt's `Sitemap:` lines (else `/sitemap.xml`), the feeds pages
  announce, and a profile's `[sources]`. A feed's entries are items; a sitemap's URLs are items
  when their template is one of the site's item templates (or, on a site with no listing to
  learn from, when their page's evidence says so).

A listing's "next" link and the page's other links within the site are followed until
`max_pages` pages (default 50) have been visited. Items are requested once every page, feed and
sitemap is read, each with the listing entry that names it best, a feed's title and teaser where
no listing gives them, and a feed's or news sitemap's date where its page shows none; so two
crawls of the same site give the same archive whatever order responses arrive in. `allow`
restricts the pages followed and the items taken to URLs matching a regular expression. A
profile (`-a profile=nato` or a TOML path) may still lend its URL rules, selectors and sources.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse

from portalscraper.crawl.recordids import RecordIdSet
from portalscraper.distributed import wire
from portalscraper.extract.listing import (
    ListingEntry,
    extract_listing,
    headline_links,
    navigation_links,
    next_page_url,
)
from portalscraper.extract.pagetype import ITEM, LISTING, TEASER_MAX, PageType, page_type
from portalscraper.extract.syndication import feed_links
from portalscraper.extract.templates import TemplateBook
from portalscraper.extract.urls import page_kind, record_id
from portalscraper.items import ItemListing, Record
from portalscraper.spiders.base import PortalSpider
from portalscraper.spiders.context import Output
from portalscraper.spiders.pages import page_of, page_selector
from portalscraper.spiders.sources import FEED, SITEMAP, TEXTS

if TYPE_CHECKING:
    from portalscraper.distributed.frontier import SharedRecordIds

# Links that are files, never pages to read or items: documents, images, media, styles, scripts.
_NOT_PAGES = re.compile(
    r"\.(?:pdf|docx?|xlsx?|pptx?|zip|gz|rar|7z|jpe?g|png|gif|svg|webp|ico|mp[34]|avi|mov|wmv|css|js|xml|rss|json"
    r"|txt|ics)$", re.IGNORECASE)
DEFAULT_MAX_PAGES = 50
MAX_FEEDS = 10  # feeds pages announce, read at most


class PortalSpiderGeneric(PortalSpider):
    name = "portal"
    profile_name = None  # any site: a profile only when given (`-a profile=`)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_url = self.args.start_url or self.args.base_url
        self.page_budget = self.args.max_pages or DEFAULT_MAX_PAGES
        # Canonical URLs of the pages requested (not items), and of the feeds pages announce that
        # were asked for: in a shared crawl, the crawl's (`share`).
        self.pages: RecordIdSet | SharedRecordIds = RecordIdSet()
        self.feeds: RecordIdSet | SharedRecordIds = RecordIdSet()
        self.listing_pages: set[str] = set()  # canonical URLs of the pages read as listings
        self.pending: dict[str, tuple[tuple[bool, bool, int, str], ItemListing]] = {}  # record id: (rank, best listing)
        self.sourced: dict[str, list[ItemListing]] = {}  # record id: its feeds' and sitemaps' entries
        self.templates = TemplateBook()  # the site's URL templates, from every page read
        self.budget_hit = False

    def share(self, url: str, prefix: str, worker: str) -> None:
        """A shared crawl's worker: the page budget, the feeds asked for and what is held back until
        every page is read are the crawl's, in Redis."""
        from portalscraper.distributed.frontier import SharedRecordIds

        super().share(url, prefix, worker)
        assert isinstance(self.requested, SharedRecordIds)
        self.pages = SharedRecordIds(self.requested.frontier, "pages")
        self.feeds = SharedRecordIds(self.requested.frontier, "feeds")

    # -- what is a page, what is an item ------------------------------------------------------

    def in_site(self, url: str) -> bool:
        """The start URL's site: its origin (scheme, host and port), never another."""
        if not self.allows_request(url):
            return False
        parts = urlsplit(url)
        allow = self.args.allow
        return not _NOT_PAGES.search(parts.path) and parts.path not in ("", "/") and \
            (allow is None or bool(allow.search(url)))

    def is_item_url(self, url: str) -> bool:
        if not self.in_site(url):
            return False
        if self.scope.rules.kinds:
            return page_kind(self.scope.canonical(url), self.scope.rules) is not None
        return self.templates.is_item(self.scope.canonical(url))

    def listing_entries(self, response: Response) -> list[ListingEntry]:
        """The page's entries, read with the item templates the page itself shows (a profile's item
        kinds, when one is given). The page's votes join the site's."""
        if self.scope.rules.kinds:
            return super().listing_entries(response)
        cached = response.meta.get("_entries")
        if cached is not None:
            return list(cached)
        entries: list[ListingEntry] = []
        if self.listings.readable(response) and isinstance(response, TextResponse):
            root, url = page_selector(response).root, page_of(response, self.args.wayback).url
            book = TemplateBook()
            headlines = headline_links(root, url)
            for entry in extract_listing(root, url, lambda u: u in headlines and self.in_site(u), self.scope.canonical):
                if len(entry.summary) > TEASER_MAX:
                    continue  # a link whose block is a page's running text (a tag in an article): no teaser
                if (entry.headed and (entry.date_text or entry.summary)) or \
                        (entry.date_text and len(entry.title.split()) >= 3):
                    book.vote(self.scope.canonical(entry.url), item=True)  # a headline, with its date or teaser
            for link in navigation_links(root, url):
                if self.in_site(link):
                    book.vote(self.scope.canonical(link), item=False)
            if self.hold is not None:  # kept crawl-wide, read when the items are requested
                self.hold.book(("item" if "listing" in response.meta else "page") + "\x1f" + response.url, book)
            else:
                self.templates.update(book)
            response.meta["_templates"] = book
            entries = extract_listing(root, url, lambda u: self.in_site(u) and book.is_item(self.scope.canonical(u)),
                                      self.scope.canonical)
        response.meta["_entries"] = entries
        return list(entries)

    def page_type_of(self, response: TextResponse, item_template: bool = False) -> PageType:
        """What a page is by its own evidence (once per response)."""
        cached = response.meta.get("_page_type")
        if isinstance(cached, PageType):
            return cached
        found = page_type(page_selector(response).root, self.listing_entries(response), item_template)
        response.meta["_page_type"] = found
        return found

    # -- crawling ----------------------------------------------------------------------------

    def first_requests(self) -> Iterator[scrapy.Request]:
        self.pages.add(self.scope.canonical(self.start_url))
        yield scrapy.Request(self.start_url, self.parse_page, errback=self.listing_failed, cb_kwargs={"depth": 0},
                             meta={"start": True})
        yield from self.sources.requests()

    def parse_item(self, response: Response, listing: ItemListing | None = None) -> Iterator[Output]:
        """An item page, which may turn out to be a listing (a calendar, an edition's index, linked
        like an item with a title and a date or teaser): it stays an item, and is read as a listing
        too, whatever first linked to it. An article is never read as a listing, whatever its
        sidebar lists."""
        yield from super().parse_item(response, listing)
        if isinstance(response, TextResponse) and response.status == 200 and \
                self.page_type_of(response).kind == LISTING:
            self.crawler.stats.inc_value("portal/item_page_read_as_listing")
            yield from self.parse_page(response, depth=1)

    def is_record(self, response: TextResponse, listing: ItemListing) -> bool:
        """A URL that only a sitemap named is an item when its page says so."""
        if listing.get("via") != SITEMAP:
            return True
        found = self.page_type_of(response, bool(listing.get("template_item")))
        if found.kind == ITEM:
            return True
        self.crawler.stats.inc_value("portal/sitemap_page_not_an_item")
        self.logger.debug("A sitemap's page that is no item (%s): %s", found.reason, response.url)
        return False

    def parse_page(self, response: Response, depth: int) -> Iterator[Output]:
        if not isinstance(response, TextResponse):
            return
        response.meta["page_depth"] = depth
        entries = self.listing_entries(response)
        page_url = page_of(response, self.args.wayback).url
        if entries and self.page_type_of(response).kind == ITEM:
            # An article's "More news" names items; it does not make the article a listing.
            self.crawler.stats.inc_value("portal/item_page_not_read_as_listing")
            entries = []
        elif entries and self.hold is not None:
            self.hold.page_read("listing", self.scope.canonical(page_url))
        elif entries:
            self.listing_pages.add(self.scope.canonical(page_url))
        yield from self.follow_entries(response, entries)
        root = page_selector(response).root
        for feed in feed_links(root, page_url):
            if len(self.feeds) < MAX_FEEDS and self.sources.wanted() and self.in_site_source(feed) and \
                    feed not in self.feeds and (request := self.sources.request(feed, FEED)) is not None and \
                    self.feeds.add(feed):
                yield request
        listed = {self.scope.canonical(e.url) for e in entries}
        # A listing's other pages are as near the start as its first: its entries rank alike.
        pager = {self.scope.canonical(u) for u in navigation_links(root, page_url)} if entries else set()
        links = []
        if next_url := next_page_url(root, response.url):
            links.append(next_url)
            pager.add(self.scope.canonical(next_url))
        links += [response.urljoin(href) for href in page_selector(response).css("a::attr(href)").getall()]
        book = response.meta.get("_templates") or TemplateBook()
        for url in links:
            page = self.scope.canonical(url)
            if page in self.pages or page in listed or not self.in_site(url):
                continue
            if book.is_item(page):
                continue  # an item's page (a related item, a "most read" one): an item, not a page to walk
            if len(self.pages) >= self.page_budget:
                if not self.budget_hit:
                    self.budget_hit = True
                    if self.hold is not None:
                        self.hold.put("budget_hit", True)
                    self.logger.info("Requested %d pages (max_pages): following no more links", self.page_budget)
                return
            if not self.pages.add(page):
                continue  # another worker's meanwhile
            # Nearer pages first, and item pages before any of them.
            step = 0 if page in pager else 1
            yield response.follow(url, self.parse_page, errback=self.listing_failed, priority=-(depth + step),
                                  cb_kwargs={"depth": depth + step})

    def in_site_source(self, url: str) -> bool:
        """A feed or sitemap of this site (files, unlike pages)."""
        return self.allows_request(url)

    def listings_complete(self) -> bool:
        return not self.budget_hit and not (self.hold is not None and self.hold.get("budget_hit"))

    # -- each item from every source that names it ---------------------------------------------

    defer_items = True
    skip_unchanged_sitemaps = False  # every page is read again: each item's lastmod saves its request

    def offer(self, listing: ItemListing, response: Response) -> None:
        """Keep, for each item, the listing entry that names it best: one with a date and a teaser
        over one without; then one on a page nearer the start URL; then the page whose URL sorts
        first. Items are requested once every page is read (`held_items`), so the choice does
        not depend on the order responses arrive in."""
        depth = response.meta.get("page_depth", 0)
        rank = (not listing["date_text"], not listing["summary"], depth, listing["source_url"])
        rid = listing["record_id"]
        if self.hold is not None:  # kept crawl-wide: the best is chosen when the items are requested
            index = response.meta["_offered"] = response.meta.get("_offered", 0) + 1
            self.hold.offer(rid, listing["source_url"], f"{depth}:{index:09d}", [rank, listing])
            return
        best = self.pending.get(rid)
        if best is None or rank < best[0]:
            self.pending[rid] = (rank, listing)

    def take_source(self, listing: ItemListing, kind: str) -> Iterator[Output]:
        """A feed's or sitemap's entry, kept until every page is read."""
        if self.in_site(listing["url"]):
            rid = record_id(self.scope.canonical(listing["url"]))
            if self.hold is not None:  # kept crawl-wide, by what it is: a source read again writes it again
                self.hold.source(rid, listing["source_url"], hashlib.sha1(wire.dumps(listing)).hexdigest(), listing)
            else:
                self.sourced.setdefault(rid, []).append(listing)
        yield from ()

    def with_sources(self, rid: str, listed: ItemListing | None, sources: list[ItemListing],
                     ) -> ItemListing | None:
        """An item's listing entry completed by its feeds' and sitemaps' entries (feeds first, then
        by URL): texts the listing lacks, dates for a page without one, and the latest date any of
        them says the item changed. None for a URL only sitemaps name that is not the site's item."""
        sources = sorted(sources, key=lambda s: (s["via"] != FEED, s["source_url"], s["url"]))
        listing: dict[str, Any]  # filled name by name below: an ItemListing once complete
        if listed is None:
            url = sources[0]["url"]
            via = FEED if any(s["via"] == FEED for s in sources) else SITEMAP
            if via == SITEMAP and (self.scope.canonical(url) in self.listing_pages or
                                   (self.templates and not self.is_item_url(url))):
                return None
            listing = {**sources[0], "via": via, "sources": {}, "fallback": {}, "section": None,
                       "template_item": self.is_item_url(url), **dict.fromkeys(TEXTS)}
        else:
            listing = {**listed, "sources": dict(listed.get("sources") or {}),
                       "fallback": dict(listed.get("fallback") or {})}
        stamps = []
        for source in sources:
            for name in TEXTS:
                if not listing.get(name) and source.get(name):
                    listing[name] = source.get(name)
                    listing["sources"][name] = source["via"]
            for name, value in (source.get("fallback") or {}).items():
                listing["fallback"].setdefault(name, value)
            if not listing.get("section") and source.get("section"):
                listing["section"] = source["section"]
            if source.get("stamp"):
                stamps.append(source["stamp"])
        listing["stamps"] = stamps
        if "record_id" not in listing:  # named by feeds and sitemaps only
            return self.sources.complete_listing(cast(ItemListing, listing), self.scope.local(listing["url"]))
        return cast(ItemListing, listing)

    def held_items(self) -> tuple[list[scrapy.Request], list[Record]]:
        """Once every page, feed and sitemap is read: a request for each item, in record-id order,
        but for an archived item whose feed or sitemap date has not moved (an incremental crawl),
        whose record is then the archive's."""
        if self.hold is not None:
            self.take_held()
        if not self.pending and not self.sourced:
            return [], []
        pending, self.pending = self.pending, {}
        sourced, self.sourced = self.sourced, {}
        requests: list[scrapy.Request] = []
        unchanged: list[Record] = []
        for rid in sorted(pending.keys() | sourced.keys()):
            listed = pending[rid][1] if rid in pending else None
            listing = self.with_sources(rid, listed, sourced.get(rid, []))
            if listing is None:
                self.crawler.stats.inc_value("portal/sitemap_url_not_an_item")
                continue
            stamps = listing.get("stamps") or []
            if stamps and all(self.sources.unchanged(rid, stamp) for stamp in stamps) and \
                    (listed is None or self.crawl_pass.memory.unchanged(rid, listed["listing_hash"])) and \
                    rid not in self.requested and self.requested.add(rid):
                # Seen, as archived: what a 304 would have answered, without asking.
                self.crawler.stats.inc_value("portal/item_unchanged_by_source")
                unchanged.append(self.items.archived_record(listing["request_url"], listing))
                continue
            request = self.items.request(listing)
            if request is not None:
                requests.append(request)
        if unchanged:
            self.logger.info("%d archived items not asked for: their feed or sitemap date has not moved",
                             len(unchanged))
        if requests:
            self.logger.info("Every page read: requesting %d item pages", len(requests))
        return requests, unchanged

    def take_held(self) -> None:
        """A shared crawl's held entries, from every worker (`hold`): each item's best listing entry
        chosen by the rank `offer` uses (on one page, the first offered), its sources in their
        order, the pages read as listings and the site's templates from every page."""
        assert self.hold is not None
        for rid, offers in self.hold.offers().items():
            for rank, listing in offers:  # by page, then in the order the page offered them
                best = self.pending.get(rid)
                if best is None or tuple(rank) < best[0]:
                    self.pending[rid] = (tuple(rank), listing)
        self.sourced = self.hold.sources()
        self.listing_pages = self.hold.pages_read("listing")
        self.templates = self.hold.books()
