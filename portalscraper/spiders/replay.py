"""Web-archive crawls: the homepage's captures from the archive's index, read to its end and
oldest first; each item asked once every capture is read, at the capture nearest the first
homepage capture that names it, and recorded with its best entry; an item whose nearest replay is
not a page read from the nearest capture that answered 200."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, NamedTuple

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from portalscraper.items import FetchFailure, ItemListing, utc_now
from portalscraper.spiders.context import Callback, Crawl, Errback, Output
from portalscraper.spiders.item_pages import ITEM_PRIORITY, ItemPages
from portalscraper.spiders.pages import page_of
from portalscraper.webarchive.wayback import (
    Capture,
    CdxReading,
    WaybackError,
    capture_of,
    cdx_query,
    distinct_captures,
    nearest,
    replay_url,
    worth_a_lookup,
)

if TYPE_CHECKING:
    from portalscraper.distributed.hold import SharedHold

# How well an entry names its item (`listing_rank`): the lowest first.
Rank = tuple[bool, bool, str, str, int]


@dataclass
class Entries:
    """An item's listing entries across the captures read: the best one (a block entry with a
    date and a teaser over a bare headline; then the earliest capture), whose section and teaser
    the record takes, and the first one (the earliest capture), near whose time its page is asked."""

    rank: Rank
    listing: ItemListing
    place: tuple[str, str, int]  # (capture timestamp, listing page, order offered)
    request_url: str

    def offer(self, rank: Rank, listing: ItemListing, place: tuple[str, str, int]) -> None:
        if rank < self.rank:
            self.rank, self.listing = rank, listing
        if place < self.place:
            self.place, self.request_url = place, listing["request_url"]

    @property
    def chosen(self) -> ItemListing:
        return {**self.listing, "request_url": self.request_url}


@dataclass
class ReplayState:
    """What a web-archive crawl keeps while it reads the archive."""

    homepages: list[Capture] = field(default_factory=list)  # the captures to read, oldest first
    entries: dict[str, Entries] = field(default_factory=dict)  # record id: entries offered
    offered: int = 0
    resume_keys: bool = False  # the archive gave a resume key: it says when it cuts an answer short


def listing_rank(listing: ItemListing, place: tuple[str, str, int]) -> Rank:
    """How well an entry names its item: one with a date and a teaser first (a block of the
    homepage) over a bare headline (a sidebar's "Latest news"), then the earliest capture."""
    return not listing.get("date_text"), not listing.get("summary"), *place


class ReplayHooks(NamedTuple):
    """The spider's callbacks and errbacks for what a replay asks for (methods of the spider, found
    by name): the homepage's index and its captures, and a failed item's captures."""

    homepage_index: Callback  # parse_homepage_index
    homepage_index_failed: Errback  # homepage_index_failed
    homepage: Callback  # parse_homepage
    homepage_failed: Errback  # homepage_capture_failed
    nearest: Callback  # nearest_good_capture


def capture_data(capture: Capture) -> list[str]:
    """A capture as request meta holds it (data: a shared crawl's requests travel as JSON)."""
    return [capture.timestamp, capture.original, capture.status, capture.digest]


def reading_data(reading: CdxReading) -> dict[str, Any]:
    """A CDX query's reading as request meta holds it, between two pages of the answer."""
    data = {f.name: getattr(reading, f.name) for f in fields(reading)}
    data["seen"] = sorted(capture_data(c) for c in reading.seen)
    return data


def reading_of(data: dict[str, Any]) -> CdxReading:
    return CdxReading(**{**data, "seen": {Capture(*c) for c in data["seen"]}})


class Replay:
    """A web-archive crawl's navigation: the archive's index read to its end, the homepage's
    captures walked oldest first, each item asked once every capture is read, and a failed item's
    nearest good capture looked up. `endpoint` is the archive's replay endpoint (CrawlArgs.wayback).

    What a request continues (a query's reading, the captures found so far, the homepage capture
    that comes next) travels in its meta, so that any worker of a shared crawl reads the response;
    what is kept until every capture is read is the crawl's (`hold`) in a shared crawl."""

    def __init__(self, crawl: Crawl, endpoint: str, items: ItemPages, hooks: ReplayHooks,
                 hold: SharedHold | None = None) -> None:
        self.crawl, self.endpoint, self.items, self.hooks, self.hold = crawl, endpoint, items, hooks, hold
        self.wb = ReplayState()

    def request_url(self, url: str, response: Response) -> str:
        """Where to ask for a page linked from `response`: the capture nearest in time to the page
        that links it."""
        capture = page_of(response, self.endpoint).capture
        return replay_url(self.endpoint, capture.timestamp if capture else (self.crawl.args.wb_to or "2"), url)

    # -- the archive's index ------------------------------------------------------------------

    def cdx_request(self, query: str, callback: Callback, errback: Errback | None, *,
                    meta: dict[str, Any] | None = None, cb_kwargs: dict[str, Any] | None = None,
                    priority: int = 0) -> scrapy.Request:
        """A request for a CDX query, to be read to its end page by page (`read_cdx`)."""
        keys = self.wb.resume_keys or (self.hold is not None and bool(self.hold.get("resume_keys")))
        own = {**(meta or {}), "cdx": reading_data(CdxReading(query, keys=keys))}
        own["cdx_meta"] = tuple(own)  # what the query's further pages carry
        return scrapy.Request(query, callback, errback=errback, dont_filter=True, priority=priority, meta=own,
                              cb_kwargs=cb_kwargs or {})

    def read_cdx(self, response: Response) -> tuple[list[Capture], scrapy.Request | None]:
        """A CDX answer's captures not read before, and the request for the rest of its query
        (the archive's resume key, or the next page by time), or None once it is read to its end.
        An answer cut short is said in the log; one that is no CDX answer raises WaybackError."""
        reading = reading_of(response.meta["cdx"])
        captures, more, note = reading.read(response.text if isinstance(response, TextResponse) else "")
        if reading.keys and not self.wb.resume_keys and self.hold is not None:
            self.hold.put("resume_keys", True)
        self.wb.resume_keys |= reading.keys
        stats = self.crawl.stats
        stats.inc_value("portal/archive_index_pages")
        if note is not None:
            level, text = note
            if level >= logging.WARNING:
                stats.inc_value("portal/archive_index_cut_short")
            self.crawl.logger.log(level, "Index of the archive, %s: %s", response.url[:300], text)
        if more is None:
            return captures, None
        request = response.request
        assert request is not None
        keys = request.meta["cdx_meta"]
        meta = {name: request.meta[name] for name in keys if name in request.meta and name != "start"}
        meta["cdx_meta"], meta["cdx"] = keys, reading_data(reading)
        return captures, scrapy.Request(more, request.callback, errback=request.errback, dont_filter=True,
                                        priority=request.priority, meta=meta, cb_kwargs=request.cb_kwargs)

    # -- the homepage's captures, oldest first ------------------------------------------------

    def homepage_captures(self, homepage: str) -> scrapy.Request:
        """The request for the homepage's captures in the crawl's window, from the archive's index."""
        query = cdx_query(self.endpoint, homepage, self.crawl.args.wb_from, self.crawl.args.wb_to)
        return self.cdx_request(query, self.hooks.homepage_index, self.hooks.homepage_index_failed,
                                meta={"start": True, "wb_homepages": [], "wb_digest": None},
                                cb_kwargs={"homepage": homepage})

    def read_homepage_index(self, response: Response, homepage: str) -> Iterator[Output]:
        """The homepage's captures, a page of the index at a time; once all are known, the first.

        Each change is read once: captures that are not pages (archived redirects, 404s, 5xx) and
        byte-identical repeats of the capture before (same digest: pywb ignores `collapse=digest`)
        are left out. The captures kept so far travel with the query's next page."""
        kept = [Capture(*c) for c in response.meta["wb_homepages"]]
        try:
            captures, more = self.read_cdx(response)
        except WaybackError as exc:  # the captures of the pages read before it are read
            yield self.index_unreadable(response, str(exc))
            more = None
        else:
            fresh, digest = distinct_captures(captures, response.meta["wb_digest"])
            kept.extend(fresh)
            self.crawl.stats.inc_value("portal/archive_captures_listed", len(captures))
            self.crawl.stats.inc_value("portal/archive_captures_left_out", len(captures) - len(fresh))
            self.crawl.logger.info("%d captures of %s in this page of the archive's index: %d to read",
                                   len(captures), homepage, len(fresh))
        if more is not None:
            more.meta["wb_homepages"], more.meta["wb_digest"] = [capture_data(c) for c in kept], digest
            yield more
            return
        yield from self.walk(kept)

    def index_unreadable(self, response: Response, why: str) -> FetchFailure:
        """A page of the homepage's index that is no CDX answer: a listing failure, with its reason
        (the crawl is no complete pass)."""
        stats = self.crawl.stats
        stats.inc_value("portal/listing_failed")
        self.crawl.logger.error("Listing page failed: %s (%s)", response.url, why)
        if response.meta.get("start"):
            stats.set_value("portal/start_failed", f"{response.url} ({why})")
        return FetchFailure(response.url, "listing", why, response.status, failed_at=utc_now())

    def after_index_failure(self, failure: Failure) -> Iterator[scrapy.Request]:
        """A page of the index failed (a listing failure, recorded by the spider): the captures of
        the pages read before it are read."""
        request = failure.request  # type: ignore[attr-defined]
        if not request.meta.get("start"):
            yield from self.walk([Capture(*c) for c in request.meta["wb_homepages"]])

    def walk(self, captures: list[Capture]) -> Iterator[scrapy.Request]:
        """The homepage's captures are known: kept (for every worker of a shared crawl), and the
        first asked for."""
        self.wb.homepages = sorted(captures, key=lambda c: c.timestamp)
        if self.hold is not None:
            self.hold.put("homepages", [capture_data(c) for c in self.wb.homepages])
        yield from self._homepage(0)

    def next_homepage_capture(self, after: scrapy.Request | None) -> Iterator[scrapy.Request]:
        """The homepage capture after the one `after` asked for, oldest first and one at a time."""
        yield from self._homepage((after.meta.get("wb_capture", -1) if after is not None else -1) + 1)

    def _homepage(self, number: int) -> Iterator[scrapy.Request]:
        if not self.wb.homepages and self.hold is not None:  # another worker read the index
            self.wb.homepages = [Capture(*c) for c in self.hold.get("homepages") or []]
        if number < len(self.wb.homepages):
            capture = self.wb.homepages[number]
            yield scrapy.Request(replay_url(self.endpoint, capture.timestamp, capture.original),
                                 self.hooks.homepage, errback=self.hooks.homepage_failed, dont_filter=True,
                                 meta={"wb_capture": number})

    # -- items: asked once every capture is read ----------------------------------------------

    def offer(self, listing: ItemListing, response: Response) -> None:
        """Keep an item's entry until every capture is read (`captured_items`): the record takes its
        section and teaser from the item's best entry, whichever capture was read first, and its
        page is asked at the capture nearest the earliest page naming it among those read by then
        (every homepage capture is read before any item page)."""
        page = page_of(response, self.endpoint)
        if self.hold is not None:  # the page's own count: the same whichever worker reads the page
            order = response.meta["_offered"] = response.meta.get("_offered", -1) + 1
        else:
            order, self.wb.offered = self.wb.offered, self.wb.offered + 1
        place = (page.capture.timestamp if page.capture else "", listing["source_url"], order)
        rank = listing_rank(listing, place)
        if self.hold is not None:  # kept crawl-wide, each entry under what it is
            self.hold.offer(listing["record_id"], f"{place[0]} {place[1]}", f"{place[2]:09d}", [rank, place, listing])
            return
        held = self.wb.entries.get(listing["record_id"])
        if held is None:
            self.wb.entries[listing["record_id"]] = Entries(rank, listing, place, listing["request_url"])
        else:
            held.offer(rank, listing, place)

    def captured_items(self) -> list[scrapy.Request]:
        """Once every capture so far is read: a request for each item offered, in the order they
        were first named (item pages that are listings too offer more, asked the next time). A
        shared crawl's entries are every worker's."""
        if self.hold is not None:
            for rid, offers in self.hold.offers().items():
                for rank, place, listing in offers:
                    rank, place = tuple(rank), tuple(place)
                    held = self.wb.entries.get(rid)
                    if held is None:
                        self.wb.entries[rid] = Entries(rank, listing, place, listing["request_url"])
                    else:
                        held.offer(rank, listing, place)
        entries, self.wb.entries = self.wb.entries, {}
        requests = (self.items.request(held.chosen) for held in sorted(entries.values(), key=lambda e: e.place))
        asked = [request for request in requests if request is not None]
        if asked:
            self.crawl.logger.info("Every capture read so far: requesting %d item pages", len(asked))
        return asked

    # -- an item whose replay is not a page ---------------------------------------------------

    def capture_lookup(self, failure: Failure, url: str, reason: str, status: int) -> scrapy.Request | None:
        """A replay that says the archive has no page there (a 404, or an archived error): the
        archive's index of the page's captures, of any status, is asked, once. Not for the
        archive's own refusals (429, a 5xx of its own): those stay transient failures."""
        request = failure.request  # type: ignore[attr-defined]
        if request.meta.get("wb_lookup"):
            return None
        response = getattr(failure.value, "response", None)
        if response is None or not worth_a_lookup(status, bool(response.headers.get("Memento-Datetime"))):
            return None
        original = capture_of(url, None)
        if original is None:
            return None
        self.crawl.stats.inc_value("portal/archive_lookup")
        listing = request.meta["listing"]
        query = cdx_query(self.endpoint, original.original, None, None, every=True)
        return self.cdx_request(query, self.hooks.nearest, request.errback, priority=ITEM_PRIORITY,
                                meta={"listing": listing, "wb_lookup": True, "wb_failed": [url, reason, status],
                                      "wb_captures": []},
                                cb_kwargs={"listing": listing, "around": original.timestamp})

    def nearest_good_capture(self, response: Response, listing: ItemListing, around: str) -> Iterator[Output]:
        """Once the page's captures are all known: the nearest one that answered 200 is asked for,
        else the item fails, with the first replay's reason and why ("never captured by the
        archive": no capture at all; "no capture of it answered 200": only redirects and errors)."""
        url, reason, status = response.meta["wb_failed"]
        try:
            captures, more = self.read_cdx(response)
        except WaybackError as exc:  # nothing is known of its captures: no reason to say it has none
            yield from self.items.give_up(url, f"{reason}; the archive's index of its captures could not be read "
                                               f"({exc})", status, listing)
            return
        found = [Capture(*c) for c in response.meta["wb_captures"]] + captures
        if more is not None:
            more.meta["wb_captures"] = [capture_data(c) for c in found]
            yield more
            return
        best = nearest(found, around)
        if best is None:
            why = "no capture of it answered 200 in the archive" if found else "never captured by the archive"
            yield from self.items.give_up(url, f"{reason}; {why}", status, listing)
            return
        self.crawl.stats.inc_value("portal/archive_nearest_good_capture")
        yield self.items.page(replay_url(self.endpoint, best.timestamp, best.original), listing,
                              priority=ITEM_PRIORITY, meta={"wb_lookup": True, "wb_failed": [url, reason, status]})
