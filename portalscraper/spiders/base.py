"""What every portal spider shares: following listings to item pages, and what to ask again.

Spiders navigate: arguments are parsed by `portalscraper.crawl.args`, URLs judged by
`portalscraper.crawl.scope`, responses described by `portalscraper.spiders.pages`, records merged by
`portalscraper.extract.records`; the archive's memory arrives with the `archive_opened` signal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Self, cast

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from portalscraper import signals as portal_signals
from portalscraper.archive.memory import ArchiveMemory
from portalscraper.archive.session import CrawlSession
from portalscraper.crawl.args import NAMES, CrawlArgs
from portalscraper.crawl.attached import attached_args
from portalscraper.crawl.httputil import binary_content
from portalscraper.crawl.politeness import politeness
from portalscraper.crawl.recordids import RecordIdSet
from portalscraper.crawl.responses import describe_failure
from portalscraper.crawl.scope import Scope
from portalscraper.extract.listing import ListingEntry, extract_listing
from portalscraper.extract.records import entry_hash
from portalscraper.extract.urls import record_id
from portalscraper.items import Appearance, FetchFailure, ItemListing, Sightings, utc_now
from portalscraper.spiders.item_pages import ITEM_PRIORITY, ItemPagesMixin
from portalscraper.spiders.pages import page_of, page_selector
from portalscraper.spiders.replay import ReplayMixin
from portalscraper.spiders.sources import SourcesMixin

if TYPE_CHECKING:
    from portalscraper.distributed.frontier import SharedRecordIds


class PortalSpider(SourcesMixin, ItemPagesMixin, ReplayMixin, scrapy.Spider):
    """A spider for one portal profile (arguments: portalscraper.crawl.args.CrawlArgs).

    Incremental by default: item pages already archived are requested conditionally, and a
    listing's pagination stops at the first page showing only archived, unchanged items. A
    complete pass (every listing to its end, which is what finds removed items) runs when `full`
    is given, on the first crawl, and whenever the last one is older than PORTAL_FULL_PASS_DAYS.
    """

    profile_name: str | None = None  # the spider's own profile; None: any site, from a start URL
    # Spiders that read every listing before any item page (to choose each item's best listing
    # entry, whatever order responses arrive in) set this and implement `offer`.
    defer_items = False

    @classmethod
    def parse_args(cls, raw: dict[str, Any]) -> CrawlArgs:
        """The spider's arguments, checked (ArgumentError, ProfileError): no spider is built."""
        return CrawlArgs.parse(cls.name, raw, cls.profile_name)

    def __init__(self, crawl_args: CrawlArgs | None = None, **kwargs: Any) -> None:
        """`crawl_args`: the arguments the runner parsed already (portalscraper.crawl.attached);
        otherwise (scrapy shell, parse, a shared crawl's worker) they are parsed here."""
        super().__init__(**{k: v for k, v in kwargs.items() if k not in NAMES})
        self.args = crawl_args or self.parse_args(kwargs)
        self.scope = Scope(self.args)
        self.profile = self.args.profile
        self.allowed_domains = self.scope.allowed_domains()
        self.requested: RecordIdSet | SharedRecordIds = RecordIdSet()  # one request per record
        self.archive_memory: ArchiveMemory | None = None  # from the archive_opened signal
        self.memory = ArchiveMemory(None, self.args.portal)
        self.failed_before: list[tuple[str, str, dict[str, Any]]] = []
        self.crawl_id: int | None = None
        self.resumed = False
        self.full = self.args.full
        self.incremental = False
        self.full_pass_days = 7.0  # settings, read in from_crawler
        self.listing_page_limit = 20_000
        self.listing_failures = 0
        self.junk_listings: list[FetchFailure] = []  # listing pages that were not text, to record
        self.listings_ended: set[str] = set()  # listings paged through to their last page
        self.init_sources()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, crawl_args=attached_args(crawler), **kwargs)
        settings = crawler.settings
        target = spider.args.wayback or spider.args.base_url  # what is asked: the portal, or an archive of it
        for name, value in politeness(settings, target, bool(spider.args.wayback)).items():
            settings.set(name, value, priority="spider")  # not frozen yet here
        # A web archive's captures do not change: nothing to ask conditionally, and the validators
        # the archive keeps are the live portal's, not the replay's.
        spider.incremental = settings.getbool("PORTAL_INCREMENTAL") and not spider.args.wayback
        spider.full_pass_days = settings.getfloat("PORTAL_FULL_PASS_DAYS")
        spider.listing_page_limit = settings.getint("PORTAL_MAX_LISTING_PAGES")
        spider.configure_sources(settings.getbool("PORTAL_SOURCES"), settings.getint("PORTAL_MAX_SITEMAPS"),
                                 settings.getint("PORTAL_XML_MAX_BYTES"))
        crawler.signals.connect(spider.archive_opened, signal=portal_signals.archive_opened)
        if spider.args.wayback:
            crawler.signals.connect(spider.request_captured_items, signal=signals.spider_idle)
        if settings.get("FRONTIER_REDIS_URL"):  # a worker of a shared crawl: its archive is the writer's
            spider.share(settings["FRONTIER_REDIS_URL"], settings["FRONTIER_PREFIX"], settings["FRONTIER_WORKER"])
        return spider

    def share(self, url: str, prefix: str, worker: str) -> None:
        """A shared crawl's worker: one request per record for all workers, and the memory of the
        archive the writer keeps."""
        from portalscraper.distributed.frontier import Frontier, SharedRecordIds
        from portalscraper.distributed.memory import SharedMemory

        frontier = Frontier(url, prefix, worker)
        self.requested = SharedRecordIds(frontier)
        memory = SharedMemory(frontier, self.args.portal)
        self.archive_memory, self.crawl_id, self.resumed = memory, memory.crawl_id, bool(memory.meta.get("resumed"))

    # -- what earlier crawls left in the archive ----------------------------------------------

    def archive_opened(self, session: CrawlSession) -> None:
        self.crawl_id, self.resumed = session.crawl_id, session.resumed
        self.archive_memory = session.memory

    async def start(self) -> AsyncIterator[Any]:
        """The archive is open by now (Scrapy opens item pipelines before it reads start requests)."""
        self.plan()
        for request in self.first_requests():
            yield request
        for request in self.retry_failed_items():
            yield request

    def first_requests(self) -> Iterator[scrapy.Request]:
        raise NotImplementedError

    def plan(self) -> None:
        """Take the archive's memory and choose the mode: a complete pass or an incremental one."""
        if self.incremental and self.archive_memory is not None:
            self.memory = self.archive_memory
        self.failed_before = self.memory.unresolved_failures()
        if not self.full and any(kind == "listing" for kind, _, _ in self.failed_before):
            self.full = True
            self.logger.info("Complete pass: listing pages failed last time, so some items were never seen")
        if not self.full:
            last = self.memory.last_complete_pass(self.name, self.args.lang) if self.incremental else None
            if last is None or dt.datetime.now(dt.UTC) - last > dt.timedelta(days=self.full_pass_days):
                self.full = True
                self.logger.info("Complete pass: %s", "no earlier complete pass in the archive" if last is None
                                 else f"the last complete pass started {last:%Y-%m-%d %H:%M} UTC")
        self.logger.info("Crawl %s, mode %s: %d archived records known", self.crawl_id, self.mode,
                         len(self.memory.known))

    @property
    def mode(self) -> str:
        return ("full" if self.full else "incremental") + ("+resume" if self.resumed else "")

    @property
    def complete_pass(self) -> bool:
        """Did this crawl see everything the portal lists? Only then can it tell which items are gone."""
        return self.full and not self.args.scoped and not self.listing_failures and self.listings_complete()

    def listings_complete(self) -> bool:
        """Spiders that page through listings say here whether they reached every last page."""
        return True

    # -- identities (see Scope) -----------------------------------------------------------

    def canonical(self, url: str) -> str:
        return self.scope.canonical(url)

    def allows_request(self, url: str) -> bool:
        """Asked by OriginGuardMiddleware and OffsiteRedirectMiddleware for every request."""
        return self.scope.allows(url)

    def is_item_url(self, url: str) -> bool:
        return self.scope.is_item(url)

    def is_hub_url(self, url: str) -> bool:
        return self.scope.is_hub(url)

    # -- listings -------------------------------------------------------------------------

    def listing_entries(self, response: Response) -> list[ListingEntry]:
        if not self.readable_listing(response) or not isinstance(response, TextResponse):
            return []
        return extract_listing(page_selector(response).root, page_of(response, self.args.wayback).url,
                               self.is_item_url, self.canonical, self.is_hub_url)

    def readable_listing(self, response: Response) -> bool:
        """Whether a listing's response is a page to read; a junk one is a failure, kept with its reason."""
        if not isinstance(response, TextResponse):
            self.logger.warning("Not an HTML listing, skipped: %s", response.url)
            return False
        if why := binary_content(response.body):
            # A failure with its reason, handed to the next follow_entries (which every listing calls).
            self.listing_failures += 1
            self.crawler.stats.inc_value("portal/listing_failed")
            self.logger.error("Listing page failed: %s (%s)", response.url, why)
            self.junk_listings.append(FetchFailure(response.url, "listing", why, response.status, failed_at=utc_now()))
            return False
        return True

    def all_unchanged(self, entries: list[ListingEntry]) -> bool:
        """True when a listing page shows only items archived earlier with the same listing texts."""
        return bool(entries) and all(
            self.memory.unchanged(record_id(self.canonical(e.url)), entry_hash(e)) for e in entries)

    def follow_entries(self, response: Response, entries: list[ListingEntry]) -> Iterator[Any]:
        """The page's appearances (one Sightings item), and a request for each item page not yet requested."""
        while self.junk_listings:
            yield self.junk_listings.pop(0)
        page = page_of(response, self.args.wayback)
        seen_at, sightings, requests = utc_now(), Sightings(response.url), []
        page_url = self.canonical(page.url)
        for entry in entries:
            if not self.scope.in_window(entry.date_text):
                continue
            url = self.canonical(entry.url)
            rid = record_id(url)
            kind = self.scope.kind_of(url)
            section = entry.section or self.profile.sections.get(kind, kind)
            sightings.appearances.append(Appearance(rid, url, response.url, section, entry.position, entry.date_text,
                                                    entry.title, seen_at, page.capture_url,
                                                    page.capture.time if page.capture else None, page_url))
            listing: ItemListing = {"title": entry.title, "date_text": entry.date_text, "summary": entry.summary,
                       "section": section, "source_url": response.url, "listing_hash": entry_hash(entry),
                       "record_id": rid, "url": entry.url, "request_url": self.request_url(entry.url, response)}
            if self.defer_items:
                self.offer(listing, response)
            elif self.args.wayback:  # each item asked once every capture is read (ReplayMixin)
                self.offer_captured_entry(listing, response)
            elif (request := self.item_request(listing)) is not None:
                requests.append(request)
        if sightings.appearances:
            yield sightings
        yield from requests

    def offer(self, listing: ItemListing, response: Response) -> None:
        raise NotImplementedError

    def item_request(self, listing: ItemListing) -> scrapy.Request | None:
        """The request for an item's page, unless it was requested already, is over max_items, or
        was stored before an interruption (resume)."""
        rid, max_items = listing["record_id"], self.args.max_items
        if rid in self.requested:
            return None
        if max_items and len(self.requested) >= max_items:
            # Seen (its appearance is kept), not fetched: the crawl's own limit, counted and said once.
            if not self.crawler.stats.get_value("portal/item_over_max_items"):
                self.logger.info("max_items (%d) reached: further items are listed as seen, not fetched", max_items)
            self.crawler.stats.inc_value("portal/item_over_max_items")
            return None
        if not self.requested.add(rid):
            return None  # a shared crawl's other worker asked for it meanwhile
        if self.resumed and self.memory.stored_in_this_crawl(rid):
            self.crawler.stats.inc_value("portal/item_page_resumed")
            return None  # stored before the interruption
        # A hub is also a listing: always read whole, never answered by a 304.
        hub = self.is_hub_url(self.canonical(listing["url"]))
        headers = self.memory.validators(rid) if self.incremental and not hub else {}
        # A 304 confirms the capture the archived record was made from (its WARC revisit says so).
        meta = {"revalidates": self.memory.capture(rid)} if headers else {}
        # `requested` keeps one request per record, so Scrapy's duplicate filter is not needed. Item
        # pages before further listing pages: the queue holds one listing page's items at a time,
        # not the whole archive's (memory stays flat however large the portal).
        return self.item_page(listing["request_url"], listing, headers=headers, priority=ITEM_PRIORITY, meta=meta)

    def item_page(self, url: str, listing: ItemListing, **kwargs: Any) -> scrapy.Request:
        meta = {"listing": listing, "handle_httpstatus_list": [304], **kwargs.pop("meta", {}),
                "claim": listing.get("record_id")}  # a shared crawl claims the record as it queues this
        return scrapy.Request(url, self.parse_item, errback=self.item_failed, cb_kwargs={"listing": listing},
                              dont_filter=True, meta=meta, **kwargs)

    def retry_failed_items(self) -> Iterator[scrapy.Request]:
        """Item pages earlier runs could not fetch, asked for again (once per crawl, like any item)."""
        for kind, url, listing in self.failed_before:
            rid = listing.get("record_id")
            if kind != "item" or not rid or rid in self.requested:
                continue
            if not self.args.wayback and not self.allows_request(url):
                # Asked where the portal is now: the same path on this crawl's base URL, not on the
                # mirror or port an earlier run used (the failure is this archive's own record).
                url = self.scope.on_base(url)
            self.requested.add(rid)
            self.crawler.stats.inc_value("portal/item_page_retried_from_earlier_run")
            yield self.item_page(url, cast(ItemListing, listing))  # as the failure kept it

    def listing_failed(self, failure: Failure) -> Iterator[FetchFailure]:
        """A listing page could not be fetched: the crawl goes on, but is no complete pass."""
        request = failure.request  # type: ignore[attr-defined]
        url = request.meta.get("redirect_urls", [request.url])[0]
        reason, status, counted = describe_failure(failure)
        if counted:
            self.listing_failures += 1
            self.crawler.stats.inc_value("portal/listing_failed")
            self.logger.error("Listing page failed: %s (%s)", url, reason)
        if request.meta.get("start"):
            self.crawler.stats.set_value("portal/start_failed", f"{url} ({reason})")
        else:
            self.crawler.stats.inc_value("portal/listing_skipped")
            self.logger.info("Listing page skipped: %s (%s)", url, reason)
        yield FetchFailure(url, "listing", reason, status, counted=counted, failed_at=utc_now())
