"""Item pages: asked for once per record, read into a record each, or answered from the archive
when the page did not change (a 304) or could not be fetched."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from portalscraper.crawl.httputil import binary_content
from portalscraper.crawl.recordids import RecordIdSet
from portalscraper.crawl.responses import describe_failure
from portalscraper.extract.detail import extract_detail
from portalscraper.extract.records import Identity, merge
from portalscraper.extract.urls import language, record_id
from portalscraper.items import FetchFailure, ItemListing, Record, utc_now
from portalscraper.spiders.context import Callback, Crawl, CrawlPass, Errback, Output, ResponseReader
from portalscraper.spiders.pages import page_of, page_selector
from portalscraper.spiders.sources import credit_sources

if TYPE_CHECKING:
    from portalscraper.distributed.frontier import SharedRecordIds

# Item pages are asked before further listing pages.
ITEM_PRIORITY = 10

# A web archive's look-up of a failed replay's captures: the request for them, or None (see Replay).
CaptureLookup = Callable[[Failure, str, str, int], scrapy.Request | None]


class ItemHooks(NamedTuple):
    """The spider's part in reading item pages: Scrapy's callback and errback for them (methods of
    the spider, found by name when a request is persisted), its judgement of whether a page is an
    item's record, and how it reads a page that is also a listing (a hub)."""

    parse: Callback
    failed: Errback
    is_record: Callable[[TextResponse, ItemListing], bool]
    read_listing: ResponseReader


class ItemPages:
    """The item pages of one crawl: one request per record (`requested`, shared by a shared crawl's
    workers), a record from each page, and what is kept when a page does not answer."""

    def __init__(self, crawl: Crawl, crawl_pass: CrawlPass, requested: RecordIdSet | SharedRecordIds,
                 hooks: ItemHooks) -> None:
        self.crawl, self.crawl_pass, self.requested, self.hooks = crawl, crawl_pass, requested, hooks
        self.asked_urls: RecordIdSet | None = None  # see remember_urls

    def remember_urls(self) -> None:
        """Keep the ids of the URLs items are asked for under, as their listings named them (for a
        spider that asks `asked`; in one process's crawl: a shared crawl's workers check record ids)."""
        if isinstance(self.requested, RecordIdSet):
            self.asked_urls = RecordIdSet()

    def asked(self, url: str) -> bool:
        """Whether an item was asked for under exactly this URL. A sitemap read at a crawl's end names
        items the listings named already, most of them as the listings did: those are set aside by
        this look-up alone, without their canonical URLs worked out (a third of the time a URL)."""
        return self.asked_urls is not None and record_id(url) in self.asked_urls

    # -- requests -----------------------------------------------------------------------------

    def request(self, listing: ItemListing) -> scrapy.Request | None:
        """The request for an item's page, unless it was requested already, is over max_items, or
        was stored before an interruption (resume)."""
        rid, max_items, stats = listing["record_id"], self.crawl.args.max_items, self.crawl.stats
        if rid in self.requested:
            return None
        if max_items and len(self.requested) >= max_items:
            # Seen (its appearance is kept), not fetched: the crawl's own limit, counted and said once.
            if not stats.get_value("portal/item_over_max_items"):
                self.crawl.logger.info("max_items (%d) reached: further items are listed as seen, not fetched",
                                       max_items)
            stats.inc_value("portal/item_over_max_items")
            return None
        if not self.requested.add(rid):
            return None  # a shared crawl's other worker asked for it meanwhile
        if self.asked_urls is not None:
            self.asked_urls.add(record_id(listing["url"]))
        memory = self.crawl_pass.memory
        if self.crawl_pass.resumed and memory.stored_in_this_crawl(rid):
            stats.inc_value("portal/item_page_resumed")
            return None  # stored before the interruption
        # A hub is also a listing: always read whole, never answered by a 304.
        hub = self.crawl.scope.is_hub(self.crawl.canonical(listing["url"]))
        headers = memory.validators(rid) if self.crawl_pass.incremental and not hub else {}
        # A 304 confirms the capture the archived record was made from (its WARC revisit says so).
        meta = {"revalidates": memory.capture(rid)} if headers else {}
        # `requested` keeps one request per record, so Scrapy's duplicate filter is not needed. Item
        # pages before further listing pages: the queue holds one listing page's items at a time,
        # not the whole archive's (memory stays flat however large the portal).
        return self.page(listing["request_url"], listing, headers=headers, priority=ITEM_PRIORITY, meta=meta)

    def page(self, url: str, listing: ItemListing, **kwargs: Any) -> scrapy.Request:
        """A request for an item's page at `url` (keyword arguments: scrapy.Request's)."""
        meta = {"listing": listing, "handle_httpstatus_list": [304], **kwargs.pop("meta", {})}
        return scrapy.Request(url, self.hooks.parse, errback=self.hooks.failed, cb_kwargs={"listing": listing},
                              dont_filter=True, meta=meta, **kwargs)

    def retries(self, failed_before: list[tuple[str, str, dict[str, Any]]]) -> Iterator[scrapy.Request]:
        """Item pages earlier runs could not fetch, asked for again (once per crawl, like any item)."""
        for kind, url, listing in failed_before:
            rid = listing.get("record_id")
            if kind != "item" or not rid or rid in self.requested:
                continue
            if not self.crawl.args.wayback and not self.crawl.scope.allows(url):
                # Asked where the portal is now: the same path on this crawl's base URL, not on the
                # mirror or port an earlier run used (the failure is this archive's own record).
                url = self.crawl.scope.on_base(url)
            self.requested.add(rid)
            self.crawl.stats.inc_value("portal/item_page_retried_from_earlier_run")
            yield self.page(url, cast(ItemListing, listing))  # as the failure kept it

    # -- pages --------------------------------------------------------------------------------

    def read(self, response: Response, listing: ItemListing | None = None) -> Iterator[Output]:
        """An item page's record (and, for a hub, its entries). `listing` is the entry that linked
        it; a page asked for on its own (`scrapy parse --spider nato -c parse_item URL`) is its
        own entry."""
        listing = listing or self.own_entry(response)
        stats, logger = self.crawl.stats, self.crawl.logger
        if response.status == 304:
            stats.inc_value("portal/item_page_not_modified")
            yield self.answered(self.archived_record(response.url, listing))
            return
        stats.inc_value("portal/item_page_fetched")
        stats.inc_value("portal/item_page_bytes", len(response.body))
        if not isinstance(response, TextResponse):
            logger.warning("Not an HTML page, kept from its listing only: %s", response.url)
            yield self.answered(self.make_record(response.url, listing, None))
            return
        if why := binary_content(response.body):
            stats.inc_value("portal/item_page_failed")
            logger.error("Item page failed: %s (%s)", response.url, why)
            yield self.failure(response.url, why, response.status, listing)
            return
        if not self.hooks.is_record(response, listing):
            return  # a page that only a sitemap named, and whose own evidence says it is no item
        record = self.page_record(response, listing)
        yield record
        if self.crawl.scope.is_hub(record.url or response.url):
            yield from self.hooks.read_listing(response)  # an edition's index, a dossier: also a listing

    def page_record(self, response: TextResponse, listing: ItemListing) -> Record:
        """The record of an item page read (the page's fields over its listing entry's)."""
        wayback = self.crawl.args.wayback
        page = page_of(response, wayback)
        fields = extract_detail(page_selector(response), self.crawl.profile.selectors, page.url)
        # In a web-archive crawl the record is the item as listed, whichever capture (a redirect's
        # target, the nearest good one) its page was read from.
        record = self.make_record(listing["url"] if wayback and listing.get("url") else page.url,
                                  listing, dict(vars(fields)))
        record.fetched_at = page.fetched_at or record.fetched_at
        state = self.answered(record).state
        state.capture_url, state.capture_time = page.capture_url, page.capture.time if page.capture else None
        state.warc_file, state.warc_offset = page.warc_file, page.warc_offset
        state.http_etag, state.http_last_modified = page.etag, page.last_modified
        return record

    def own_entry(self, response: Response) -> ItemListing:
        url = page_of(response, self.crawl.args.wayback).url
        return {"record_id": record_id(self.crawl.canonical(url)), "url": url, "request_url": response.url,
                "source_url": url}

    @staticmethod
    def answered(record: Record) -> Record:
        """A record whose page answered this crawl (200 or 304): it settles earlier failures."""
        record.state.page_fetched = True
        return record

    # -- failures -----------------------------------------------------------------------------

    def failure(self, url: str, reason: str, status: int | None, listing: ItemListing,
                counted: bool = True) -> FetchFailure:
        return FetchFailure(url, "item", reason, status, listing["record_id"], dict(listing), counted, utc_now(),
                            self.crawl.canonical(listing.get("url") or url))

    def failed(self, failure: Failure, lookup: CaptureLookup | None = None) -> Iterator[Output]:
        """The item page could not be fetched: the failure is recorded (the next run tries again), and
        an item archived before is still seen, as archived. A new item waits for a fetch that works:
        its listing entry is kept in the failure and in its appearance. In a web-archive crawl, the
        archive's nearest good capture is tried first (`lookup`, Replay's)."""
        request = failure.request  # type: ignore[attr-defined]
        listing = request.meta["listing"]
        url = request.meta.get("redirect_urls", [request.url])[0]  # as listed, before any redirect
        reason, status, counted = describe_failure(failure)
        if counted and status is not None and lookup is not None and (found := lookup(failure, url, reason, status)):
            yield found
            return
        if failed := request.meta.get("wb_failed"):
            url, first_reason, status = failed
            reason = reason if reason == first_reason else f"{first_reason}; {reason}"
        yield from self.give_up(url, reason, status, listing, counted)

    def give_up(self, url: str, reason: str, status: int | None, listing: ItemListing,
                counted: bool = True) -> Iterator[Output]:
        self.crawl.stats.inc_value("portal/item_page_failed" if counted else "portal/item_page_skipped")
        archived = listing["record_id"] in self.crawl_pass.memory.known
        log = self.crawl.logger.error if counted else self.crawl.logger.info
        log("Item page %s, %s: %s (%s)", "failed" if counted else "skipped",
            "kept as archived" if archived else "to be tried again next run", url, reason)
        yield self.failure(url, reason, status, listing, counted)
        if archived:
            yield self.archived_record(url, listing)

    # -- records ------------------------------------------------------------------------------

    def archived_record(self, url: str, listing: ItemListing) -> Record:
        """The archived record of an item whose page did not change (304) or could not be fetched,
        with what its listing says now: the same merge as for a fetched page."""
        rid, memory = listing["record_id"], self.crawl_pass.memory
        archived = memory.record(rid)
        if archived is None:  # a validator of a record since removed from the archive by hand
            self.crawl.logger.warning("No archived record for %s; kept from its listing only", url)
            return self.make_record(url, listing, None)
        record = self.make_record(url, listing, archived)
        record.fetched_at = archived.get("fetched_at")
        if (known := memory.known.get(rid)) is not None:
            record.state.http_etag, record.state.http_last_modified = known.etag, known.last_modified
        return record

    def make_record(self, url: str, listing: ItemListing, detail: dict[str, Any] | None) -> Record:
        """One record from an item's listing entry and its page (see records.merge), with what the
        feeds and sitemaps that name it add (see sources.credit_sources)."""
        crawl = self.crawl
        canonical = crawl.canonical(url)
        identity = Identity(record_id(canonical), crawl.args.portal, crawl.scope.kind_of(canonical), canonical,
                            language(url, crawl.scope.rules), listing.get("section"), listing.get("source_url") or url,
                            crawl.args.lang)
        record = merge(identity, listing, detail, crawl.profile.title)
        record.state.listing_hash = listing.get("listing_hash")
        return credit_sources(record, listing)
