"""The NATO portal: homepage blocks, item pages, the paginated news archive, NATO Review editions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse

from portalscraper.crawl.recordids import RecordIdSet
from portalscraper.extract.listing import next_page_url
from portalscraper.extract.urls import language, record_id
from portalscraper.items import ItemListing
from portalscraper.spiders.base import PortalSpider
from portalscraper.spiders.context import Crawl, Output
from portalscraper.spiders.pages import page_selector
from portalscraper.spiders.sources import SourceOptions


class NatoSpider(PortalSpider):
    name = "nato"
    profile_name = "nato"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.archive_seen = RecordIdSet()  # items of the archive's pages so far (a loop repeats them)

    def compose(self, crawl: Crawl, options: SourceOptions) -> None:
        super().compose(crawl, options)
        self.items.remember_urls()  # for take_source: a sitemap's entries the listings named as it does

    def first_requests(self) -> Iterator[scrapy.Request]:
        homepage = self.profile.start_url("homepage", self.args.base_url, self.args.lang)
        if homepage is None:
            raise ValueError(f"profile {self.profile.name!r} names no homepage in [start]")
        if self.args.wayback:  # the homepage's captures in the window, from the archive's index (Replay)
            yield self._replaying().homepage_captures(homepage)
        else:
            yield scrapy.Request(homepage, self.parse_homepage, errback=self.listing_failed, meta={"start": True})

    def parse_homepage(self, response: Response) -> Iterator[Output]:
        entries = self.listing_entries(response)
        yield from self.follow_entries(response, entries)
        if self.args.wayback:  # a web-archive crawl walks the captured homepages and the items they link to
            yield from self._replaying().next_homepage_capture(response.request)
            return
        # The listings the profile says items belong to (NATO Review editions: each edition's index
        # lists all its articles).
        for url in sorted({parent for e in entries for parent in self.scope.parent_listings(e.url)}):
            if record_id(self.scope.canonical(url)) in self.requested:
                continue  # listed as an item itself: read as a listing when its page arrives
            yield response.follow(url, self.parse_listing, errback=self.listing_failed)
        # The archive after the homepage, so that homepage items keep the homepage's listing data.
        archive = self.profile.start_url("archive", self.args.base_url, self.args.lang)
        if archive:
            yield scrapy.Request(archive, self.parse_archive, errback=self.listing_failed, cb_kwargs={"page": 1})
        else:
            yield from self.sources.requests()

    def parse_archive(self, response: Response, page: int) -> Iterator[Output]:
        entries = self.listing_entries(response)
        yield from self.follow_entries(response, entries)
        next_url = None
        if isinstance(response, TextResponse):
            next_url = next_page_url(page_selector(response).root, response.url)
        keys = [record_id(self.scope.canonical(e.url)) for e in entries]
        repeats = bool(keys) and all(k in self.archive_seen for k in keys)
        for k in keys:
            self.archive_seen.add(k)
        if next_url is None:
            self.listings_ended.add("archive")
        elif repeats:  # a "Next" link that serves the same items again: a loop, not more of the archive
            self.logger.warning("Stopping the archive at page %d: it lists only items of its earlier pages", page)
            self.crawler.stats.set_value("portal/listing_stopped", "repeats earlier pages")
            self.listings_ended.add("archive")
        elif page >= self.listing_page_limit:
            self.logger.warning("Stopping the archive at page %d: PORTAL_MAX_LISTING_PAGES (%d) reached", page,
                                self.listing_page_limit)
            self.crawler.stats.set_value("portal/listing_stopped", "PORTAL_MAX_LISTING_PAGES")
        elif self.args.max_pages and page >= self.args.max_pages:
            self.logger.info("Stopping the archive at page %d (max_pages)", page)
        elif self.scope.older_than_window(entries):
            self.logger.info("Stopping the archive at page %d: past since=%s", page, self.args.since)
        elif self.args.max_items and len(self.requested) >= self.args.max_items:
            self.logger.info("Stopping the archive at page %d: max_items reached", page)
        elif not self.crawl_pass.full and self.listings.all_unchanged(entries):
            self.logger.info("Stopping the archive at page %d: it lists only archived, unchanged items", page)
        else:
            yield response.follow(self.scope.local(next_url), self.parse_archive, errback=self.listing_failed,
                                  cb_kwargs={"page": page + 1})
            return
        # The archive ends here: the feeds and sitemaps now, for the items the listings did not name
        # (and, in an incremental crawl, those whose date there moved).
        yield from self.sources.requests()

    def take_source(self, listing: ItemListing, kind: str) -> Iterator[scrapy.Request]:
        """A feed's or sitemap's item that no listing named: asked for (listing pages are read
        as listings, not as items; another language's items are not this crawl's)."""
        if self.items.asked(listing["url"]) or record_id(self.scope.canonical(listing["url"])) in self.requested:
            return  # most of a sitemap: items the listings named, asked for already (checked first: the cheapest)
        url = self.scope.local(listing["url"])
        if not self.allows_request(url):
            return
        if not self.is_item_url(url) or self.scope.is_hub(url):
            return
        lang = language(url, self.scope.rules)
        if lang and self.args.lang and lang != self.args.lang:
            return
        entry = self.sources.complete_listing(listing, url)
        if entry["record_id"] in self.requested:
            return
        if self.sources.unchanged(entry["record_id"], listing.get("stamp")):
            self.crawler.stats.inc_value("portal/item_unchanged_by_source")
            return
        page_kind = self.scope.kind_of(self.scope.canonical(url))
        entry["section"] = entry.get("section") or self.profile.sections.get(page_kind, page_kind)
        if (request := self.items.request(entry)) is not None:
            self.crawler.stats.inc_value(f"portal/item_from_{kind}")
            yield request

    def listings_complete(self) -> bool:
        return self.profile.start_url("archive", self.args.base_url, self.args.lang) is None or \
            "archive" in self.listings_ended
