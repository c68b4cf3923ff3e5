"""Feeds and sitemaps as sources of a portal's items, for every portal spider.

Which ones: the profile's `[sources]`; with no sitemap named there, robots.txt's `Sitemap:` lines,
else `/sitemap.xml`; the `portal` spider adds the feeds its pages announce. A sitemap index's
sitemaps are followed, but in an incremental crawl not those whose `lastmod` is older than the
last complete pass (which read them). Each entry becomes an item's source entry (its texts,
provenance `feed` or `sitemap`, and the date it says the item last changed); the spider decides
what to do with it (its `take_source`). An incremental crawl does not ask for an archived item whose
source date has not moved since the archived page.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections import deque
from collections.abc import Callable, Iterator
from typing import NamedTuple, TypeVar

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from portalscraper.crawl.progress import queued_requests
from portalscraper.crawl.responses import describe_failure
from portalscraper.extract.records import listing_hash
from portalscraper.extract.syndication import (
    MAX_XML_BYTES,
    FeedEntry,
    SitemapEntry,
    SitemapStream,
    XmlRefusedError,
    latest_moment,
    parse_feed,
    read_sitemap,
    robots_sitemaps,
)
from portalscraper.extract.urls import record_id
from portalscraper.items import FetchFailure, ItemListing, Record, utc_now
from portalscraper.spiders.context import Callback, Crawl, CrawlPass, Errback, Output, schedule

FEED, SITEMAP = "feed", "sitemap"
T = TypeVar("T")
TEXTS = ("title", "date_text", "summary")


class SourceOptions(NamedTuple):
    """How a crawl reads its sources: PORTAL_SOURCES, PORTAL_MAX_SITEMAPS, PORTAL_XML_MAX_BYTES and
    PORTAL_SITEMAPS_AT_ONCE (from the crawler's settings), and the spider's `skip_unchanged_sitemaps`:
    an incremental crawl leaves out a sitemap whose lastmod is older than the last complete pass
    (a spider that re-reads every listing anyway reads them all, for each item's lastmod)."""

    read: bool = True
    max_sitemaps: int = 1000
    xml_max_bytes: int = MAX_XML_BYTES
    skip_unchanged_sitemaps: bool = True
    sitemaps_at_once: int = 2  # PORTAL_SITEMAPS_AT_ONCE; 0: every sitemap an index names at once
    sitemap_requests: int = 1000  # PORTAL_SITEMAP_REQUESTS_AT_ONCE; 0: a sitemap's requests all at once

    @classmethod
    def from_crawler(cls, crawler: Crawler, skip_unchanged_sitemaps: bool) -> SourceOptions:
        settings = crawler.settings
        # A shared crawl's workers ask for all sitemaps at once and take a sitemap's requests whole
        # (what waits, and the rest of a sitemap, would die with a worker).
        shared = bool(settings.get("FRONTIER_REDIS_URL"))
        at_once = 0 if shared else settings.getint("PORTAL_SITEMAPS_AT_ONCE")
        requests = 0 if shared else settings.getint("PORTAL_SITEMAP_REQUESTS_AT_ONCE")
        return cls(settings.getbool("PORTAL_SOURCES"), settings.getint("PORTAL_MAX_SITEMAPS"),
                   settings.getint("PORTAL_XML_MAX_BYTES"), skip_unchanged_sitemaps, at_once, requests)


class SourceHooks(NamedTuple):
    """The spider's part in reading sources: Scrapy's callbacks and errback for robots.txt, feeds
    and sitemaps (methods of the spider, found by name), and what it does with a source's entry (a
    request, or keeping it for later)."""

    robots: Callback
    feed: Callback
    sitemap: Callback
    failed: Errback
    take: Callable[[ItemListing, str], Iterator[Output]]


class Sources:
    """The feeds and sitemaps of one crawl: asked for once each, read into source entries."""

    def __init__(self, crawl: Crawl, crawl_pass: CrawlPass, options: SourceOptions, hooks: SourceHooks) -> None:
        self.crawl, self.crawl_pass, self.options, self.hooks = crawl, crawl_pass, options, hooks
        self.started = False
        self.asked: set[str] = set()
        self.sitemaps_asked = 0
        # Sitemaps asked but not yet read, and those waiting for one of them to be: a big portal's
        # index names a hundred files of 10,000 URLs (1.2 MB each), all asked at once otherwise,
        # and their responses waited in memory together (10 MB more at the peak for ten of them).
        self.sitemaps_out = 0
        self.sitemaps_waiting: deque[scrapy.Request] = deque()
        # Sitemaps read in part: a sitemap of items no listing named (a portal whose listings stop,
        # or name only the latest) gave 10,000 requests at once, and Scrapy's queue held them all
        # (+50 MB for two sitemaps at a million items). The rest of each is read once the queue is
        # short again (a response received with fewer than a quarter of a batch queued), or at idle.
        self.sitemaps_paused: deque[Iterator[Output]] = deque()
        if options.sitemap_requests:
            crawl.crawler.signals.connect(self.read_paused, signal=signals.response_received)

    def wanted(self) -> bool:
        """Sources widen a crawl to every item they name: not for a crawl limited to part of the
        portal (dates, counts, pages), nor for a web archive's captures."""
        args = self.crawl.args
        return self.options.read and not args.wayback and not args.scoped

    # -- requests -----------------------------------------------------------------------------

    def requests(self) -> Iterator[scrapy.Request]:
        """The profile's feeds and sitemaps (or robots.txt's), once per crawl."""
        if self.started or not self.wanted():
            return
        self.started = True
        base, lang, profile = self.crawl.args.base_url, self.crawl.args.lang, self.crawl.profile
        for url in profile.source_urls("feeds", base, lang):
            if (request := self.request(url, FEED, declared=True)) is not None:
                yield request
        sitemaps = profile.source_urls("sitemaps", base, lang)
        for url in sitemaps:
            yield from self.ask_sitemap(url, declared=True)
        if not sitemaps:
            yield scrapy.Request(base + "/robots.txt", self.hooks.robots, errback=self.hooks.failed,
                                 meta={"declared": False}, dont_filter=True)

    def request(self, url: str, kind: str, declared: bool = False) -> scrapy.Request | None:
        """The request for a feed or sitemap, unless it was asked for already, is not the crawl's,
        or is a sitemap over PORTAL_MAX_SITEMAPS."""
        url = self.crawl.scope.local(url)
        if url in self.asked or not self.crawl.scope.allows(url):
            return None
        if kind == SITEMAP:
            limit = self.options.max_sitemaps
            if self.sitemaps_asked >= limit:
                if self.sitemaps_asked == limit:
                    self.crawl.logger.warning("PORTAL_MAX_SITEMAPS (%d) reached: further sitemaps are not read", limit)
                    self.sitemaps_asked += 1
                return None
            self.sitemaps_asked += 1
        self.asked.add(url)
        callback = self.hooks.feed if kind == FEED else self.hooks.sitemap
        return scrapy.Request(url, callback, errback=self.hooks.failed, meta={"declared": declared, "source": kind},
                              dont_filter=True)

    def ask_sitemap(self, url: str, declared: bool = False) -> Iterator[scrapy.Request]:
        """A sitemap's request, now, or once one of those being read is done (at most
        `sitemaps_at_once` at a time)."""
        if (request := self.request(url, SITEMAP, declared)) is None:
            return
        at_once = self.options.sitemaps_at_once
        if at_once and self.sitemaps_out >= at_once:
            self.sitemaps_waiting.append(request)
            return
        self.sitemaps_out += 1
        yield request

    def sitemap_done(self) -> Iterator[scrapy.Request]:
        """A sitemap read (or failed): the next ones waiting."""
        self.sitemaps_out = max(0, self.sitemaps_out - 1)
        yield from self.sitemaps_left(self.options.sitemaps_at_once - self.sitemaps_out)

    def request_waiting(self) -> None:
        """The spider idle: the next requests of a sitemap read in part, else the sitemaps still
        waiting (one asked never came back to a callback or errback): every one of them now."""
        if self._read_paused():
            raise DontCloseSpider
        if requests := list(self.sitemaps_left(len(self.sitemaps_waiting))):
            schedule(self.crawl.crawler, requests, [])
            raise DontCloseSpider

    def sitemaps_left(self, count: int) -> Iterator[scrapy.Request]:
        """Up to `count` of the sitemaps waiting (the spider, idle, asks for every one left: a
        sitemap whose answer never came back to the spider must not hold the others)."""
        while self.sitemaps_waiting and count > 0:
            self.sitemaps_out += 1
            count -= 1
            yield self.sitemaps_waiting.popleft()

    # -- responses ----------------------------------------------------------------------------

    def read_robots(self, response: Response) -> Iterator[scrapy.Request]:
        text = response.text if hasattr(response, "text") else response.body.decode("utf-8", "replace")
        named = robots_sitemaps(text, response.url)
        self.crawl.logger.info("robots.txt names %d sitemap(s)%s", len(named),
                               "" if named else "; trying /sitemap.xml")
        for url in named or [self.crawl.args.base_url + "/sitemap.xml"]:
            yield from self.ask_sitemap(url, declared=bool(named))

    def _read(self, response: Response, kind: str, parse: Callable[[bytes, str, int], T]) -> T | None:
        """A feed or sitemap parsed (counted in stats), or None when it is not one (logged)."""
        stats = self.crawl.stats
        stats.inc_value(f"portal/{kind}_read")
        stats.inc_value("portal/source_bytes", len(response.body))
        try:
            return parse(response.body, response.url, self.options.xml_max_bytes)
        except XmlRefusedError as exc:
            self.refused(response, str(exc))
            return None

    def read_feed(self, response: Response) -> Iterator[Output]:
        entries = self._read(response, FEED, parse_feed)
        if entries is None:
            return
        self.crawl.logger.info("Feed %s: %d entries", response.url, len(entries))
        for entry in entries:
            yield from self.hooks.take(feed_listing(entry, response.url), FEED)

    def read_sitemap(self, response: Response) -> Iterator[Output]:
        """A sitemap's requests, `sitemap_requests` at a time (see sitemaps_paused), then the next
        sitemaps waiting."""
        yield from self._some(self._sitemap_outputs(response), front=False)

    def _sitemap_outputs(self, response: Response) -> Iterator[Output]:
        sitemap = self._read(response, SITEMAP, read_sitemap)
        if sitemap is not None:
            yield from self._sitemap_entries(response, sitemap)
        yield from self.sitemap_done()

    def _some(self, outputs: Iterator[Output], front: bool) -> Iterator[Output]:
        """`outputs` up to `sitemap_requests` requests; the rest paused, first in line if `front`."""
        limit, count = self.options.sitemap_requests, 0
        for output in outputs:
            yield output
            count += isinstance(output, scrapy.Request)
            if limit and count >= limit:
                (self.sitemaps_paused.appendleft if front else self.sitemaps_paused.append)(outputs)
                return

    def read_paused(self) -> None:
        """A response received: the next requests of a sitemap read in part, if the queue is short."""
        if not self.sitemaps_paused:
            return
        if queued_requests(self.crawl.stats.get_stats()) * 4 < self.options.sitemap_requests:
            self._read_paused()

    def _read_paused(self) -> bool:
        """The next requests (and anything else) of the sitemaps read in part, to the engine: True if
        there were any."""
        while self.sitemaps_paused:
            outputs = list(self._some(self.sitemaps_paused.popleft(), front=True))
            if outputs:
                requests = [o for o in outputs if isinstance(o, scrapy.Request)]
                schedule(self.crawl.crawler, requests, [o for o in outputs if not isinstance(o, scrapy.Request)])
                return True
        return False

    def _sitemap_entries(self, response: Response, sitemap: SitemapStream) -> Iterator[Output]:
        stats, urls = self.crawl.stats, 0
        since = self.last_pass() if sitemap.index else None
        try:
            for entry in sitemap.entries:  # taken as they are read: the list is never held whole
                if sitemap.index:
                    moment = latest_moment(entry.lastmod)
                    if since is not None and moment is not None and moment <= since:
                        # Unchanged since the complete pass that read it (and asked for its items).
                        stats.inc_value("portal/sitemap_unchanged")
                    else:
                        yield from self.ask_sitemap(entry.url)
                    continue
                urls += 1
                yield from self.hooks.take(sitemap_listing(entry, response.url), SITEMAP)
        except XmlRefusedError as exc:  # broken after its first entries: those were taken
            self.refused(response, str(exc))
        if not sitemap.index:
            self.crawl.logger.info("Sitemap %s: %d URLs", response.url, urls)
            stats.inc_value("portal/sitemap_urls", urls)

    def last_pass(self) -> dt.datetime | None:
        """When the last complete pass started: an incremental crawl's sitemaps older than it are
        read already. None in a complete pass, which reads every sitemap."""
        crawl_pass = self.crawl_pass
        if crawl_pass.full or not crawl_pass.incremental or not self.options.skip_unchanged_sitemaps:
            return None
        return crawl_pass.memory.last_complete_pass(self.crawl.args.spider, self.crawl.args.lang)

    def refused(self, response: Response, why: str) -> None:
        self.crawl.stats.inc_value("portal/source_refused")
        log = self.crawl.logger.warning if response.meta.get("declared") else self.crawl.logger.info
        log("Not a feed or sitemap, not read: %s (%s)", response.url, why)

    def failed(self, failure: Failure) -> Iterator[FetchFailure | scrapy.Request]:
        """A feed or sitemap that is not there (404, 410) is none; one that failed otherwise is a
        listing that could not be read: the crawl is no complete pass. (A sitemap's: the next waiting.)"""
        request = failure.request  # type: ignore[attr-defined]
        yield from self._failure(request, failure)
        if request.meta.get("source") == SITEMAP:
            yield from self.sitemap_done()

    def _failure(self, request: scrapy.Request, failure: Failure) -> Iterator[FetchFailure]:
        url = request.meta.get("redirect_urls", [request.url])[0]
        reason, status, counted = describe_failure(failure)
        stats, logger = self.crawl.stats, self.crawl.logger
        if status in (404, 410):
            stats.inc_value("portal/source_missing")
            log = logger.warning if request.meta.get("declared") else logger.info
            log("No feed or sitemap at %s (%s)", url, reason)
            return
        if counted:
            stats.inc_value("portal/listing_failed")
            logger.error("Feed or sitemap failed: %s (%s)", url, reason)
        yield FetchFailure(url, "listing", reason, status, counted=counted, failed_at=utc_now())

    # -- source entries -----------------------------------------------------------------------

    def complete_listing(self, listing: ItemListing, request_url: str) -> ItemListing:
        """A source's entry with its identity: record id, canonical URL, the listing hash of its texts."""
        canonical = self.crawl.canonical(listing["url"])
        return {**listing, "record_id": record_id(canonical), "request_url": request_url,
                "listing_hash": listing_hash([listing.get("title"), listing.get("date_text"), listing.get("summary")])}

    def unchanged(self, rid: str, stamp: str | None) -> bool:
        """An incremental crawl's question: does a source say that an archived item has not changed
        since its archived page (the page's Last-Modified, else when it was fetched)?"""
        crawl_pass = self.crawl_pass
        if crawl_pass.full or not crawl_pass.incremental or not stamp:
            return False
        known = crawl_pass.memory.known.get(rid)
        moment = latest_moment(stamp)
        if known is None or moment is None:
            return False
        archived: dt.datetime | None = None
        if known.last_modified:
            try:
                archived = email.utils.parsedate_to_datetime(known.last_modified)
            except (TypeError, ValueError):
                archived = None
        if archived is None:
            record = crawl_pass.memory.record(rid) or {}
            fetched = record.get("fetched_at")
            archived = dt.datetime.fromisoformat(fetched) if fetched else None
        if archived is None:
            return False
        if archived.tzinfo is None:
            archived = archived.replace(tzinfo=dt.UTC)
        return moment <= archived


def feed_listing(entry: FeedEntry, feed_url: str) -> ItemListing:
    """A feed's entry as an item's listing entry: its title and teaser (provenance `feed`), and
    its date for an item whose page shows none (a feed's date is written for machines)."""
    title, summary = entry.title or None, entry.summary or None
    return {"title": title, "date_text": None, "summary": summary, "url": entry.url,
            "section": entry.category or None, "source_url": feed_url,
            "sources": {name: FEED for name, value in (("title", title), ("summary", summary)) if value},
            "fallback": {"date_text": [entry.date_text, FEED]} if entry.date_text else {},
            "stamp": entry.updated_text or entry.date_text, "via": FEED}


def sitemap_listing(entry: SitemapEntry, sitemap_url: str) -> ItemListing:
    """A sitemap's entry as an item's listing entry: no texts of its own, but a news sitemap's
    title and date for an item whose page has none (provenance `sitemap`)."""
    fallback = {name: [value, SITEMAP] for name, value in (("title", entry.title), ("date_text", entry.published))
                if value}
    return {"title": None, "date_text": None, "summary": None, "url": entry.url, "section": None,
            "source_url": sitemap_url, "sources": {}, "fallback": fallback,
            "stamp": entry.lastmod or entry.published, "via": SITEMAP}


def credit_sources(record: Record, listing: ItemListing) -> Record:
    """A record with what every source that names the item adds: the listing entry's texts taken
    from a feed keep provenance `feed`, and where neither the listing nor the page has one, a
    feed's date or a news sitemap's title and date (provenance `feed`, `sitemap`)."""
    for name, source in (listing.get("sources") or {}).items():
        if record.provenance.get(name) == "listing":
            record.provenance[name] = source
    for name, (value, source) in (listing.get("fallback") or {}).items():
        if value and not getattr(record, name, None):
            setattr(record, name, value)
            record.provenance[name] = source
    return record
