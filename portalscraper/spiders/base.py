"""What every portal spider shares: following listings to item pages, and what to ask again.

Spiders navigate: arguments are parsed by `portalscraper.crawl.args`, URLs judged by
`portalscraper.crawl.scope`, the archive's memory arrives with the `archive_opened` signal. The
spider holds its collaborators, each given what it needs (`spiders.context`): its listing pages,
item pages, feeds and sitemaps and, in a web-archive crawl, the archive's navigation. Scrapy finds
callbacks on the spider by name (persisted requests), so each callback here hands its response on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Self

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from portalscraper import signals as portal_signals
from portalscraper.archive.memory import ArchiveMemory
from portalscraper.archive.session import CrawlSession
from portalscraper.crawl.args import NAMES, CrawlArgs
from portalscraper.crawl.attached import attached_args
from portalscraper.crawl.politeness import politeness
from portalscraper.crawl.recordids import RecordIdSet
from portalscraper.crawl.scope import Scope
from portalscraper.extract.listing import ListingEntry, extract_listing
from portalscraper.items import FetchFailure, ItemListing, Record
from portalscraper.spiders.context import Crawl, CrawlPass, Output, schedule
from portalscraper.spiders.item_pages import ItemHooks, ItemPages
from portalscraper.spiders.listings import Listings
from portalscraper.spiders.pages import page_of, page_selector
from portalscraper.spiders.replay import Replay, ReplayHooks
from portalscraper.spiders.sources import SourceHooks, SourceOptions, Sources

if TYPE_CHECKING:
    from portalscraper.distributed.frontier import SharedRecordIds
    from portalscraper.distributed.hold import SharedHold


class PortalSpider(scrapy.Spider):
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
    skip_unchanged_sitemaps = True  # see SourceOptions
    listings: Listings  # the collaborators, built by from_crawler (from its settings)
    items: ItemPages
    sources: Sources
    replay: Replay | None  # web-archive crawls only

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
        self.crawl_pass = CrawlPass(ArchiveMemory(None, self.args.portal), self.args.full)
        self.failed_before: list[tuple[str, str, dict[str, Any]]] = []
        self.crawl_id: int | None = None
        self.full_pass_days = 7.0  # settings, read in from_crawler
        self.listing_page_limit = 100_000
        self.listings_ended: set[str] = set()  # listings paged through to their last page
        self.hold: SharedHold | None = None  # a shared crawl's held items (defer_items, web archives)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, crawl_args=attached_args(crawler), **kwargs)
        settings = crawler.settings
        wayback = spider.args.wayback
        for name, value in politeness(settings, wayback or spider.args.base_url, bool(wayback)).items():
            settings.set(name, value, priority="spider")  # not frozen yet here
        # A web archive's captures do not change: nothing to ask conditionally, and the validators
        # the archive keeps are the live portal's, not the replay's.
        spider.crawl_pass.incremental = settings.getbool("PORTAL_INCREMENTAL") and not wayback
        spider.full_pass_days = settings.getfloat("PORTAL_FULL_PASS_DAYS")
        spider.listing_page_limit = settings.getint("PORTAL_MAX_LISTING_PAGES")
        if settings.get("FRONTIER_REDIS_URL"):  # a worker of a shared crawl: its archive is the writer's
            spider.share(settings["FRONTIER_REDIS_URL"], settings["FRONTIER_PREFIX"], settings["FRONTIER_WORKER"])
        spider.compose(Crawl(spider.args, spider.scope, crawler, spider.logger),
                       SourceOptions.from_crawler(crawler, cls.skip_unchanged_sitemaps))
        crawler.signals.connect(spider.archive_opened, signal=portal_signals.archive_opened)
        crawler.signals.connect(spider.sources.request_waiting, signal=signals.spider_idle)
        if (cls.defer_items or wayback) and spider.hold is None:  # a shared crawl's are requested by a worker
            crawler.signals.connect(spider.request_held_items, signal=signals.spider_idle)
        return spider

    def compose(self, crawl: Crawl, options: SourceOptions) -> None:
        """The spider's collaborators, each with its part of the crawl and the spider's callbacks."""
        self.listings = Listings(crawl, self.crawl_pass, self.request_url)
        self.items = ItemPages(crawl, self.crawl_pass, self.requested,
                               ItemHooks(self.parse_item, self.item_failed, self.is_record, self.parse_listing))
        self.sources = Sources(crawl, self.crawl_pass, options, SourceHooks(
            self.parse_robots, self.parse_feed_source, self.parse_sitemap_source, self.source_failed, self.take_source))
        self.replay = Replay(crawl, self.args.wayback, self.items, ReplayHooks(
            self.parse_homepage_index, self.homepage_index_failed, self.parse_homepage, self.homepage_capture_failed,
            self.nearest_good_capture), self.hold) if self.args.wayback else None

    def share(self, url: str, prefix: str, worker: str) -> None:
        """A shared crawl's worker: one request per record for all workers, and the memory of the
        archive the writer keeps."""
        from portalscraper.distributed.frontier import Frontier, SharedRecordIds
        from portalscraper.distributed.hold import SharedHold
        from portalscraper.distributed.memory import SharedMemory

        frontier = Frontier(url, prefix, worker)
        self.requested = SharedRecordIds(frontier)
        self.hold = SharedHold(frontier) if self.defer_items or self.args.wayback else None  # crawl-wide
        memory = SharedMemory(frontier, self.args.portal)
        self.archive_memory, self.crawl_id = memory, memory.crawl_id
        self.crawl_pass.resumed = bool(memory.meta.get("resumed"))

    # -- what earlier crawls left in the archive ----------------------------------------------

    def archive_opened(self, session: CrawlSession) -> None:
        self.crawl_id, self.crawl_pass.resumed = session.crawl_id, session.resumed
        self.archive_memory = session.memory

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """The archive is open by now (Scrapy opens item pipelines before it reads start requests)."""
        self.plan()
        for request in self.first_requests():
            yield request
        for request in self.items.retries(self.failed_before):
            yield request

    def first_requests(self) -> Iterator[scrapy.Request]:
        raise NotImplementedError

    def plan(self) -> None:
        """Take the archive's memory and choose the mode: a complete pass or an incremental one."""
        chosen = self.crawl_pass
        if chosen.incremental and self.archive_memory is not None:
            chosen.memory = self.archive_memory
        self.failed_before = chosen.memory.unresolved_failures()
        if not chosen.full and any(kind == "listing" for kind, _, _ in self.failed_before):
            chosen.full = True
            self.logger.info("Complete pass: listing pages failed last time, so some items were never seen")
        if not chosen.full:
            last = chosen.memory.last_complete_pass(self.name, self.args.lang) if chosen.incremental else None
            if last is None or dt.datetime.now(dt.UTC) - last > dt.timedelta(days=self.full_pass_days):
                chosen.full = True
                self.logger.info("Complete pass: %s", "no earlier complete pass in the archive" if last is None
                                 else f"the last complete pass started {last:%Y-%m-%d %H:%M} UTC")
        self.logger.info("Crawl %s, mode %s: %d archived records known", self.crawl_id, self.mode,
                         len(chosen.memory.known))

    @property
    def incremental(self) -> bool:
        return self.crawl_pass.incremental

    @property
    def mode(self) -> str:
        return ("full" if self.crawl_pass.full else "incremental") + ("+resume" if self.crawl_pass.resumed else "")

    @property
    def complete_pass(self) -> bool:
        """Did this crawl see everything the portal lists? Only then can it tell which items are gone."""
        return self.crawl_pass.full and not self.args.scoped and not self.crawler.stats.get_value(
            "portal/listing_failed") and self.listings_complete()

    def listings_complete(self) -> bool:
        """Spiders that page through listings say here whether they reached every last page."""
        return True

    # -- identities (see Scope) -----------------------------------------------------------

    def allows_request(self, url: str) -> bool:
        """Asked by OriginGuardMiddleware and OffsiteRedirectMiddleware for every request."""
        return self.scope.allows(url)

    def is_item_url(self, url: str) -> bool:
        return self.scope.is_item(url)

    # -- listings -------------------------------------------------------------------------

    def parse_listing(self, response: Response) -> Iterator[Output]:
        """A listing page (or an item page that is one too: an edition's index, a dossier)."""
        yield from self.follow_entries(response, self.listing_entries(response))

    def listing_entries(self, response: Response) -> list[ListingEntry]:
        if not self.listings.readable(response) or not isinstance(response, TextResponse):
            return []
        return extract_listing(page_selector(response).root, page_of(response, self.args.wayback).url,
                               self.is_item_url, self.scope.canonical, self.scope.is_hub)

    def follow_entries(self, response: Response, entries: list[ListingEntry]) -> Iterator[Output]:
        """The page's appearances (one Sightings item), and a request for each item page not yet requested."""
        junk, sightings, listings = self.listings.read(response, entries)
        yield from junk
        requests = []
        for listing in listings:
            if self.defer_items:
                self.offer(listing, response)
            elif self.replay is not None:  # each item asked once every capture is read (Replay)
                self.replay.offer(listing, response)
            elif (request := self.items.request(listing)) is not None:
                requests.append(request)
        if sightings.appearances:
            yield sightings
        yield from requests

    def request_url(self, url: str, response: Response) -> str:
        """Where to ask for a page linked from `response`: in a web-archive crawl, the capture nearest
        in time to the page that links it; else the portal URL, on the crawled mirror if need be."""
        return self.replay.request_url(url, response) if self.replay is not None else self.scope.local(url)

    def offer(self, listing: ItemListing, response: Response) -> None:
        raise NotImplementedError

    def listing_failed(self, failure: Failure) -> Iterator[FetchFailure]:
        """A listing page could not be fetched: the crawl goes on, but is no complete pass."""
        yield from self.listings.failed(failure)

    # -- callbacks handed on: item pages (ItemPages) ------------------------------------------

    def parse_item(self, response: Response, listing: ItemListing | None = None) -> Iterator[Output]:
        """An item page's record (`scrapy parse --spider nato -c parse_item URL` reads one alone)."""
        yield from self.items.read(response, listing)

    def item_failed(self, failure: Failure) -> Iterator[Output]:
        yield from self.items.failed(failure, self.replay.capture_lookup if self.replay is not None else None)

    def is_record(self, response: TextResponse, listing: ItemListing) -> bool:
        """Whether an item page fetched is a record (spiders that ask for pages that may not be items say)."""
        return True

    # -- feeds and sitemaps (Sources) ---------------------------------------------------------

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        yield from self.sources.read_robots(response)

    def parse_feed_source(self, response: Response) -> Iterator[Output]:
        yield from self.sources.read_feed(response)

    def parse_sitemap_source(self, response: Response) -> Iterator[Output]:
        yield from self.sources.read_sitemap(response)

    def source_failed(self, failure: Failure) -> Iterator[Output]:
        yield from self.sources.failed(failure)

    def take_source(self, listing: ItemListing, kind: str) -> Iterator[Output]:
        """What the spider does with a source's entry (a request, or keeping it for later)."""
        raise NotImplementedError

    # -- a web archive's captures (Replay) ----------------------------------------------------

    def _replaying(self) -> Replay:
        if self.replay is None:
            raise RuntimeError(f"{self.name}: a web archive's callback in a crawl of the live portal")
        return self.replay

    def parse_homepage(self, response: Response) -> Iterator[Output]:
        """A homepage (a web-archive crawl reads each capture of it): spiders that read one implement this."""
        raise NotImplementedError

    def parse_homepage_index(self, response: Response, homepage: str) -> Iterator[Output]:
        yield from self._replaying().read_homepage_index(response, homepage)

    def homepage_index_failed(self, failure: Failure) -> Iterator[Output]:
        """A page of the index failed: a listing failure, and the captures already known are read."""
        yield from self.listing_failed(failure)
        yield from self._replaying().after_index_failure(failure)

    def homepage_capture_failed(self, failure: Failure) -> Iterator[Output]:
        yield from self.listing_failed(failure)
        yield from self._replaying().next_homepage_capture(failure.request)  # type: ignore[attr-defined]

    def nearest_good_capture(self, response: Response, listing: ItemListing, around: str) -> Iterator[Output]:
        yield from self._replaying().nearest_good_capture(response, listing, around)

    def held_items(self) -> tuple[list[scrapy.Request], list[Record]]:
        """Items held back until every page so far is read: their requests, and records needing none."""
        return (self.replay.captured_items() if self.replay is not None else []), []

    def request_held_items(self) -> None:
        requests, records = self.held_items()  # the spider is idle: every page so far is read
        if schedule(self.crawler, requests, records) or requests:
            raise DontCloseSpider
