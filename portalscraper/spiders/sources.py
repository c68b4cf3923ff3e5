"""Feeds and sitemaps as sources of a portal's items, for every portal spider.

Which ones: the profile's `[sources]`; with no sitemap named there, robots.txt's `Sitemap:` lines,
else `/sitemap.xml`; the `portal` spider adds the feeds its pages announce. A sitemap index's
sitemaps are followed, but in an incremental crawl not those whose `lastmod` is older than the
last complete pass (which read them). Each entry becomes an item's source entry (its texts,
provenance `feed` or `sitemap`, and the date it says the item last changed); the spider decides
what to do with it (`take_source`). An incremental crawl does not ask for an archived item whose
source date has not moved since the archived page.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from portalscraper.crawl.responses import describe_failure
from portalscraper.extract.records import listing_hash
from portalscraper.extract.syndication import (
    MAX_XML_BYTES,
    FeedEntry,
    SitemapEntry,
    XmlRefusedError,
    latest_moment,
    parse_feed,
    parse_sitemap,
    robots_sitemaps,
)
from portalscraper.extract.urls import record_id
from portalscraper.items import FetchFailure, ItemListing, Record, utc_now
from portalscraper.spiders.item_pages import ItemPagesMixin

FEED, SITEMAP = "feed", "sitemap"
T = TypeVar("T")
TEXTS = ("title", "date_text", "summary")


class SourcesMixin(ItemPagesMixin):
    """PortalSpider's feeds and sitemaps (and the records they take part in)."""

    # Provided by PortalSpider.
    name: str
    full: bool
    incremental: bool
    listing_failures: int
    allows_request: Callable[[str], bool]

    # An incremental crawl leaves out a sitemap whose lastmod is older than the last complete pass
    # (a spider that re-reads every listing anyway reads them all, for each item's lastmod).
    skip_unchanged_sitemaps = True

    def init_sources(self) -> None:
        self.read_sources = True  # PORTAL_SOURCES, read in from_crawler
        self.max_sitemaps = 1000
        self.xml_max_bytes = MAX_XML_BYTES
        self.sources_started = False
        self.sources_asked: set[str] = set()
        self.sitemaps_asked = 0

    def configure_sources(self, read: bool, max_sitemaps: int, xml_max_bytes: int) -> None:
        """PORTAL_SOURCES, PORTAL_MAX_SITEMAPS and PORTAL_XML_MAX_BYTES, from the crawler's settings."""
        self.read_sources, self.max_sitemaps, self.xml_max_bytes = read, max_sitemaps, xml_max_bytes

    def sources_wanted(self) -> bool:
        """Sources widen a crawl to every item they name: not for a crawl limited to part of the
        portal (dates, counts, pages), nor for a web archive's captures."""
        return self.read_sources and not self.args.wayback and not self.args.scoped

    # -- requests -----------------------------------------------------------------------------

    def source_requests(self) -> Iterator[scrapy.Request]:
        """The profile's feeds and sitemaps (or robots.txt's), once per crawl."""
        if self.sources_started or not self.sources_wanted():
            return
        self.sources_started = True
        base, lang = self.args.base_url, self.args.lang
        for url in self.profile.source_urls("feeds", base, lang):
            if (request := self.source_request(url, FEED, declared=True)) is not None:
                yield request
        sitemaps = self.profile.source_urls("sitemaps", base, lang)
        for url in sitemaps:
            if (request := self.source_request(url, SITEMAP, declared=True)) is not None:
                yield request
        if not sitemaps:
            yield scrapy.Request(base + "/robots.txt", self.parse_robots, errback=self.source_failed,
                                 meta={"declared": False}, dont_filter=True)

    def source_request(self, url: str, kind: str, declared: bool = False) -> scrapy.Request | None:
        url = self.scope.local(url)
        if url in self.sources_asked or not self.allows_request(url):
            return None
        if kind == SITEMAP:
            if self.sitemaps_asked >= self.max_sitemaps:
                if self.sitemaps_asked == self.max_sitemaps:
                    self.logger.warning("PORTAL_MAX_SITEMAPS (%d) reached: further sitemaps are not read",
                                        self.max_sitemaps)
                    self.sitemaps_asked += 1
                return None
            self.sitemaps_asked += 1
        self.sources_asked.add(url)
        callback = self.parse_feed_source if kind == FEED else self.parse_sitemap_source
        return scrapy.Request(url, callback, errback=self.source_failed, meta={"declared": declared},
                              dont_filter=True)

    def parse_robots(self, response: Response) -> Iterator[Any]:
        text = response.text if hasattr(response, "text") else response.body.decode("utf-8", "replace")
        named = robots_sitemaps(text, response.url)
        self.logger.info("robots.txt names %d sitemap(s)%s", len(named), "" if named else "; trying /sitemap.xml")
        for url in named or [self.args.base_url + "/sitemap.xml"]:
            if (request := self.source_request(url, SITEMAP, declared=bool(named))) is not None:
                yield request

    # -- responses ----------------------------------------------------------------------------

    def _read(self, response: Response, kind: str, parse: Callable[[bytes, str, int], T]) -> T | None:
        """A feed or sitemap parsed (counted in stats), or None when it is not one (logged)."""
        stats = self.crawler.stats
        stats.inc_value(f"portal/{kind}_read")
        stats.inc_value("portal/source_bytes", len(response.body))
        try:
            return parse(response.body, response.url, self.xml_max_bytes)
        except XmlRefusedError as exc:
            self.source_refused(response, str(exc))
            return None

    def parse_feed_source(self, response: Response) -> Iterator[Any]:
        entries = self._read(response, FEED, parse_feed)
        if entries is None:
            return
        self.logger.info("Feed %s: %d entries", response.url, len(entries))
        for entry in entries:
            yield from self.take_source(self.feed_listing(entry, response.url), FEED)

    def parse_sitemap_source(self, response: Response) -> Iterator[Any]:
        sitemap = self._read(response, SITEMAP, parse_sitemap)
        if sitemap is None:
            return
        if sitemap.index:
            since = self.last_pass()
            for entry in sitemap.entries:
                moment = latest_moment(entry.lastmod)
                if since is not None and moment is not None and moment <= since:
                    # Unchanged since the complete pass that read it (and asked for its items).
                    self.crawler.stats.inc_value("portal/sitemap_unchanged")
                    continue
                if (request := self.source_request(entry.url, SITEMAP)) is not None:
                    yield request
            return
        self.logger.info("Sitemap %s: %d URLs", response.url, len(sitemap.entries))
        self.crawler.stats.inc_value("portal/sitemap_urls", len(sitemap.entries))
        for entry in sitemap.entries:
            yield from self.take_source(self.sitemap_listing(entry, response.url), SITEMAP)

    def last_pass(self) -> dt.datetime | None:
        """When the last complete pass started: an incremental crawl's sitemaps older than it are
        read already. None in a complete pass, which reads every sitemap."""
        if self.full or not self.incremental or not self.skip_unchanged_sitemaps:
            return None
        return self.memory.last_complete_pass(self.name, self.args.lang)

    def source_refused(self, response: Response, why: str) -> None:
        self.crawler.stats.inc_value("portal/source_refused")
        log = self.logger.warning if response.meta.get("declared") else self.logger.info
        log("Not a feed or sitemap, not read: %s (%s)", response.url, why)

    def source_failed(self, failure: Failure) -> Iterator[FetchFailure]:
        """A feed or sitemap that is not there (404, 410) is none; one that failed otherwise is a
        listing that could not be read: the crawl is no complete pass."""
        request = failure.request  # type: ignore[attr-defined]
        url = request.meta.get("redirect_urls", [request.url])[0]
        reason, status, counted = describe_failure(failure)
        if status in (404, 410):
            self.crawler.stats.inc_value("portal/source_missing")
            log = self.logger.warning if request.meta.get("declared") else self.logger.info
            log("No feed or sitemap at %s (%s)", url, reason)
            return
        if counted:
            self.listing_failures += 1
            self.crawler.stats.inc_value("portal/listing_failed")
            self.logger.error("Feed or sitemap failed: %s (%s)", url, reason)
        yield FetchFailure(url, "listing", reason, status, counted=counted, failed_at=utc_now())

    # -- source entries -----------------------------------------------------------------------

    def feed_listing(self, entry: FeedEntry, feed_url: str) -> ItemListing:
        """A feed's entry as an item's listing entry: its title and teaser (provenance `feed`), and
        its date for an item whose page shows none (a feed's date is written for machines)."""
        title, summary = entry.title or None, entry.summary or None
        return {"title": title, "date_text": None, "summary": summary, "url": entry.url,
                "section": entry.category or None, "source_url": feed_url,
                "sources": {name: FEED for name, value in (("title", title), ("summary", summary)) if value},
                "fallback": {"date_text": [entry.date_text, FEED]} if entry.date_text else {},
                "stamp": entry.updated_text or entry.date_text, "via": FEED}

    def sitemap_listing(self, entry: SitemapEntry, sitemap_url: str) -> ItemListing:
        """A sitemap's entry as an item's listing entry: no texts of its own, but a news sitemap's
        title and date for an item whose page has none (provenance `sitemap`)."""
        fallback = {name: [value, SITEMAP] for name, value in (("title", entry.title), ("date_text", entry.published))
                    if value}
        return {"title": None, "date_text": None, "summary": None, "url": entry.url, "section": None,
                "source_url": sitemap_url, "sources": {}, "fallback": fallback,
                "stamp": entry.lastmod or entry.published, "via": SITEMAP}

    def make_record(self, url: str, listing: ItemListing, detail: dict[str, Any] | None) -> Record:
        """One record from every source that names the item: the listing entry's texts (or a feed's,
        with provenance `feed`), the page's, and where neither has one, a feed's date or a news
        sitemap's title and date (provenance `feed`, `sitemap`)."""
        record = super().make_record(url, listing, detail)
        for name, source in (listing.get("sources") or {}).items():
            if record.provenance.get(name) == "listing":
                record.provenance[name] = source
        for name, (value, source) in (listing.get("fallback") or {}).items():
            if value and not getattr(record, name, None):
                setattr(record, name, value)
                record.provenance[name] = source
        return record

    def take_source(self, listing: ItemListing, kind: str) -> Iterator[Any]:
        """What the spider does with a source's entry (a request, or keeping it for later)."""
        raise NotImplementedError

    def complete_listing(self, listing: ItemListing, request_url: str) -> ItemListing:
        """A source's entry with its identity: record id, canonical URL, the listing hash of its texts."""
        canonical = self.canonical(listing["url"])
        return {**listing, "record_id": record_id(canonical), "request_url": request_url,
                "listing_hash": listing_hash([listing.get("title"), listing.get("date_text"), listing.get("summary")])}

    def unchanged_by_source(self, rid: str, stamp: str | None) -> bool:
        """An incremental crawl's question: does a source say that an archived item has not changed
        since its archived page (the page's Last-Modified, else when it was fetched)?"""
        if self.full or not self.incremental or not stamp:
            return False
        known = self.memory.known.get(rid)
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
            record = self.memory.record(rid) or {}
            fetched = record.get("fetched_at")
            archived = dt.datetime.fromisoformat(fetched) if fetched else None
        if archived is None:
            return False
        if archived.tzinfo is None:
            archived = archived.replace(tzinfo=dt.UTC)
        return moment <= archived
