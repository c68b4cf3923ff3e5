"""Listing pages: what each shows (the items' appearances, and their listing entries), junk and
failed listings kept with their reason, and whether a page shows anything new."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from portalscraper.crawl.httputil import binary_content
from portalscraper.crawl.responses import describe_failure
from portalscraper.extract.listing import ListingEntry
from portalscraper.extract.records import entry_hash
from portalscraper.extract.urls import record_id
from portalscraper.items import Appearance, FetchFailure, ItemListing, Sightings, utc_now
from portalscraper.spiders.context import Crawl, CrawlPass
from portalscraper.spiders.pages import page_of


class Listings:
    """The listing pages of one crawl. `request_url` says where to ask for an item linked from a
    page (the portal, its mirror, or a web archive's capture)."""

    def __init__(self, crawl: Crawl, crawl_pass: CrawlPass, request_url: Callable[[str, Response], str]) -> None:
        self.crawl, self.crawl_pass, self.request_url = crawl, crawl_pass, request_url
        self.junk: list[FetchFailure] = []  # listing pages that were not text, to record

    def readable(self, response: Response) -> bool:
        """Whether a listing's response is a page to read; a junk one is a failure, kept with its reason."""
        if not isinstance(response, TextResponse):
            self.crawl.logger.warning("Not an HTML listing, skipped: %s", response.url)
            return False
        if why := binary_content(response.body):
            # A failure with its reason, handed on by the next `read` (which every listing calls).
            self.crawl.stats.inc_value("portal/listing_failed")
            self.crawl.logger.error("Listing page failed: %s (%s)", response.url, why)
            self.junk.append(FetchFailure(response.url, "listing", why, response.status, failed_at=utc_now()))
            return False
        return True

    def read(self, response: Response, entries: list[ListingEntry]) -> tuple[list[FetchFailure], Sightings,
                                                                               list[ItemListing]]:
        """The junk listings met since the last page read, the page's appearances (one Sightings
        item), and the listing entry of each item it shows within the crawl's dates."""
        junk, self.junk = self.junk, []
        page = page_of(response, self.crawl.args.wayback)
        seen_at, sightings, listings = utc_now(), Sightings(response.url), list[ItemListing]()
        scope, canonical = self.crawl.scope, self.crawl.canonical
        page_url = canonical(page.url)
        for entry in entries:
            if not scope.in_window(entry.date_text):
                continue
            url = canonical(entry.url)
            rid = record_id(url)
            kind = scope.kind_of(url)
            section = entry.section or self.crawl.profile.sections.get(kind, kind)
            sightings.appearances.append(Appearance(rid, url, response.url, section, entry.position, entry.date_text,
                                                    entry.title, seen_at, page.capture_url,
                                                    page.capture.time if page.capture else None, page_url))
            listings.append({"title": entry.title, "date_text": entry.date_text, "summary": entry.summary,
                             "section": section, "source_url": response.url, "listing_hash": entry_hash(entry),
                             "record_id": rid, "url": entry.url, "request_url": self.request_url(entry.url, response)})
        return junk, sightings, listings

    def all_unchanged(self, entries: list[ListingEntry]) -> bool:
        """True when a listing page shows only items archived earlier with the same listing texts."""
        memory, canonical = self.crawl_pass.memory, self.crawl.canonical
        return bool(entries) and all(memory.unchanged(record_id(canonical(e.url)), entry_hash(e)) for e in entries)

    def failed(self, failure: Failure) -> Iterator[FetchFailure]:
        """A listing page could not be fetched: the crawl goes on, but is no complete pass."""
        request = failure.request  # type: ignore[attr-defined]
        url = request.meta.get("redirect_urls", [request.url])[0]
        reason, status, counted = describe_failure(failure)
        stats, logger = self.crawl.stats, self.crawl.logger
        if counted:
            stats.inc_value("portal/listing_failed")
            logger.error("Listing page failed: %s (%s)", url, reason)
        if request.meta.get("start"):
            stats.set_value("portal/start_failed", f"{url} ({reason})")
        else:
            stats.inc_value("portal/listing_skipped")
            logger.info("Listing page skipped: %s (%s)", url, reason)
        yield FetchFailure(url, "listing", reason, status, counted=counted, failed_at=utc_now())
