"""Item pages: a record from each, or from the archive when the page did not change or failed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from portalscraper.archive.memory import ArchiveMemory
from portalscraper.crawl.args import CrawlArgs
from portalscraper.crawl.httputil import binary_content
from portalscraper.crawl.responses import describe_failure
from portalscraper.crawl.scope import Scope
from portalscraper.extract.detail import extract_detail
from portalscraper.extract.listing import ListingEntry
from portalscraper.extract.records import Identity, merge
from portalscraper.extract.urls import language, record_id
from portalscraper.items import FetchFailure, ItemListing, Record, utc_now
from portalscraper.profiles import Profile
from portalscraper.spiders.pages import page_of, page_selector

# Item pages are asked before further listing pages.
ITEM_PRIORITY = 10


class ItemPagesMixin:
    """PortalSpider's item-page callbacks."""

    # Provided by PortalSpider and ReplayMixin.
    crawler: Crawler
    args: CrawlArgs
    scope: Scope
    profile: Profile
    memory: ArchiveMemory
    canonical: Callable[[str], str]
    is_hub_url: Callable[[str], bool]
    listing_entries: Callable[[Response], list[ListingEntry]]
    follow_entries: Callable[[Response, list[ListingEntry]], Iterator[Any]]
    capture_lookup: Callable[[Failure, str, str, int], scrapy.Request | None]
    logger: Any  # scrapy.Spider's

    # -- item pages -----------------------------------------------------------------------

    def parse_item(self, response: Response, listing: ItemListing | None = None) -> Iterator[Any]:
        """An item page's record (and, for a hub, its entries). `listing` is the entry that linked
        it; a page asked for on its own (`scrapy parse --spider nato -c parse_item URL`) is its
        own entry."""
        listing = listing or self.own_entry(response)
        stats = self.crawler.stats
        if response.status == 304:
            stats.inc_value("portal/item_page_not_modified")
            yield self.answered(self.archived_record(response.url, listing))
            return
        stats.inc_value("portal/item_page_fetched")
        stats.inc_value("portal/item_page_bytes", len(response.body))
        if not isinstance(response, TextResponse):
            self.logger.warning("Not an HTML page, kept from its listing only: %s", response.url)
            yield self.answered(self.make_record(response.url, listing, None))
            return
        if why := binary_content(response.body):
            stats.inc_value("portal/item_page_failed")
            self.logger.error("Item page failed: %s (%s)", response.url, why)
            yield self.item_failure(response.url, why, response.status, listing)
            return
        if not self.is_record(response, listing):
            return  # a page that only a sitemap named, and whose own evidence says it is no item
        page = page_of(response, self.args.wayback)
        fields = extract_detail(page_selector(response), self.profile.selectors, page.url)
        # In a web-archive crawl the record is the item as listed, whichever capture (a redirect's
        # target, the nearest good one) its page was read from.
        record = self.make_record(listing["url"] if self.args.wayback and listing.get("url") else page.url,
                                  listing, dict(vars(fields)))
        record.fetched_at = page.fetched_at or record.fetched_at
        state = self.answered(record).state
        state.capture_url, state.capture_time = page.capture_url, page.capture.time if page.capture else None
        state.warc_file, state.warc_offset = page.warc_file, page.warc_offset
        state.http_etag, state.http_last_modified = page.etag, page.last_modified
        yield record
        if self.is_hub_url(record.url or response.url):  # an edition's index, a dossier: also a listing
            yield from self.follow_entries(response, self.listing_entries(response))

    def is_record(self, response: TextResponse, listing: ItemListing) -> bool:
        """Whether an item page fetched is an item's record (spiders that ask for pages which may
        not be items say no for those that are not)."""
        return True

    def own_entry(self, response: Response) -> ItemListing:
        url = page_of(response, self.args.wayback).url
        return {"record_id": record_id(self.canonical(url)), "url": url, "request_url": response.url,
                "source_url": url}

    @staticmethod
    def answered(record: Record) -> Record:
        """A record whose page answered this crawl (200 or 304): it settles earlier failures."""
        record.state.page_fetched = True
        return record

    def item_failure(self, url: str, reason: str, status: int | None, listing: ItemListing,
                     counted: bool = True) -> FetchFailure:
        return FetchFailure(url, "item", reason, status, listing["record_id"], dict(listing), counted, utc_now(),
                            self.canonical(listing.get("url") or url))

    def item_failed(self, failure: Failure) -> Iterator[Any]:
        """The item page could not be fetched: the failure is recorded (the next run tries again), and
        an item archived before is still seen, as archived. A new item waits for a fetch that works:
        its listing entry is kept in the failure and in its appearance. In a web-archive crawl, the
        archive's nearest good capture is tried first (`ReplayMixin`)."""
        request = failure.request  # type: ignore[attr-defined]
        listing = request.meta["listing"]
        url = request.meta.get("redirect_urls", [request.url])[0]  # as listed, before any redirect
        reason, status, counted = describe_failure(failure)
        if counted and status is not None and (lookup := self.capture_lookup(failure, url, reason, status)):
            yield lookup
            return
        if failed := request.meta.get("wb_failed"):
            url, first_reason, status = failed
            reason = reason if reason == first_reason else f"{first_reason}; {reason}"
        yield from self.give_up(url, reason, status, listing, counted)

    def give_up(self, url: str, reason: str, status: int | None, listing: ItemListing,
                counted: bool = True) -> Iterator[Any]:
        self.crawler.stats.inc_value("portal/item_page_failed" if counted else "portal/item_page_skipped")
        archived = listing["record_id"] in self.memory.known
        log = self.logger.error if counted else self.logger.info
        log("Item page %s, %s: %s (%s)", "failed" if counted else "skipped",
            "kept as archived" if archived else "to be tried again next run", url, reason)
        yield self.item_failure(url, reason, status, listing, counted)
        if archived:
            yield self.archived_record(url, listing)

    def archived_record(self, url: str, listing: ItemListing) -> Record:
        """The archived record of an item whose page did not change (304) or could not be fetched,
        with what its listing says now: the same merge as for a fetched page."""
        rid = listing["record_id"]
        archived = self.memory.record(rid)
        if archived is None:  # a validator of a record since removed from the archive by hand
            self.logger.warning("No archived record for %s; kept from its listing only", url)
            return self.make_record(url, listing, None)
        record = self.make_record(url, listing, archived)
        record.fetched_at = archived.get("fetched_at")
        if (known := self.memory.known.get(rid)) is not None:
            record.state.http_etag, record.state.http_last_modified = known.etag, known.last_modified
        return record

    def make_record(self, url: str, listing: ItemListing, detail: dict[str, Any] | None) -> Record:
        """One record from an item's listing entry and its page (see records.merge)."""
        canonical = self.canonical(url)
        identity = Identity(record_id(canonical), self.args.portal, self.scope.kind_of(canonical), canonical,
                            language(url, self.scope.rules), listing.get("section"), listing.get("source_url") or url,
                            self.args.lang)
        record = merge(identity, listing, detail, self.profile.title)
        record.state.listing_hash = listing.get("listing_hash")
        return record
