"""What every portal spider shares: arguments, politeness, following listings, merging items."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import scrapy
from parsel import Selector
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from portalscraper.archive.memory import ArchiveMemory, http_date, listing_hash
from portalscraper.extract.dates import parse_date, parse_date_range
from portalscraper.extract.detail import extract_detail
from portalscraper.extract.listing import ListingEntry, drop_scripts, extract_listing, repair_markup
from portalscraper.extract.text import fold
from portalscraper.extract.urls import RecordIdSet, canonical_url, is_listing, language, page_kind, record_id
from portalscraper.items import Appearance, FetchFailure, Record, Sightings
from portalscraper.middlewares import status_phrase, text_header
from portalscraper.profiles import Profile, load_profile
from portalscraper.wayback import (
    Capture,
    WaybackError,
    capture_of,
    cdx_query,
    check_timestamp,
    in_archive,
    nearest,
    parse_cdx,
    replay_url,
    replayed_capture,
)


class SpiderArgumentError(ValueError):
    """A spider argument with a bad value."""


def _iso_day(value: str | None, name: str) -> str | None:
    if not value:
        return None
    parsed = parse_date(value)
    if parsed.value is None or parsed.precision != "day" or not value[:4].isdigit():
        raise SpiderArgumentError(f"{name} must be an ISO date such as 2012-09-01, not {value!r}")
    return parsed.value


def _positive(value: Any, name: str) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 1:
        raise SpiderArgumentError(f"{name} must be a positive whole number, not {value!r}")
    return number


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise SpiderArgumentError(f"{name} must be true or false, not {value!r}")


ITEM_PRIORITY = 10


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _cut_version(listed: str, headline: str | None) -> bool:
    """A listing's title that is the page's headline cut short ("Record number of applications
    for…", or a prefix of it): the page's full headline is the item's title."""
    if not headline:
        return False
    stem = listed.rstrip().removesuffix("…").removesuffix("...").rstrip(" ,;:-–—")
    return len(headline) > len(stem) and fold(headline).lower().startswith(fold(stem).lower()) and (
        listed.rstrip().endswith(("…", "...")) or len(stem) >= 20)


def describe_failure(failure: Failure) -> tuple[str, int | None, bool]:
    """Why a request finally failed: (reason, HTTP status or None, counted as an error)."""
    exc = failure.value
    if isinstance(exc, HttpError):
        response = exc.response
        return f"HTTP {response.status} {status_phrase(response.status)}".strip(), response.status, True
    message = failure.getErrorMessage()
    if isinstance(exc, IgnoreRequest):
        lowered = message.lower()
        if "robots.txt could not be read" in lowered:  # unreachable, too large, 5xx: an error
            return message, None, True
        if "robots.txt" in lowered:
            return "forbidden by robots.txt", None, False
        if "offsite" in lowered:  # counted: the item is still to be had, next run
            return f"redirected to another site, not followed ({message.removeprefix('offsite ')})", None, True
        return message or "ignored", None, True
    return f"{type(exc).__name__}: {message}"[:500], None, True


_CONTROL_BYTES = bytes(set(range(32)) - {9, 10, 12, 13})


def binary_content(body: bytes) -> str | None:
    """Why a body served as a text page is not one (control bytes, NUL among them, are more than a
    few in its first 8 KB: an image, an archive, random junk), or None. Decided by content, not by
    the header; a stray control character in a real page is stripped later, not refused here."""
    head = body[:8192]
    if not head:
        return None
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > len(head) * 0.05:
        return f"binary content served as a text page ({controls} control bytes in its first {len(head)})"
    return None


def page_selector(response: TextResponse) -> Selector:
    """The page's parsed tree, made once per response: read as HTML whatever its type says
    (`application/xml` and `text/xml` pages too), markup repaired where lxml would cut it short,
    scripts and styles removed (their text is never the page's)."""
    cached = response.meta.get("_page_selector")
    if cached is None:
        repaired = repair_markup(response.text)
        if repaired is response.text and isinstance(response, HtmlResponse):
            cached = response.selector
        else:
            cached = Selector(text=repaired, type="html")
        drop_scripts(cached.root)
        response.meta["_page_selector"] = cached
    return cached


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL; None for any other scheme or a malformed URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[parts.scheme]


def check_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SpiderArgumentError(f"base_url must be an http(s) URL such as https://www.nato.int, not {url!r}")
    return url.rstrip("/")


class PortalSpider(scrapy.Spider):
    """A spider for one portal profile.

    Arguments: base_url (the portal, a mirror or a replay root), lang, since and until (ISO
    dates), max_items (item pages at most), max_pages (listing pages at most per listing),
    full (page through every listing even when it only shows archived, unchanged items),
    resume (continue the latest interrupted crawl of the same arguments into the archive).

    Incremental by default: item pages already archived are requested conditionally, and a
    listing's pagination stops at the first page showing only archived, unchanged items. A
    complete pass (every listing to its end, which is what finds removed items) runs when `full`
    is given, on the first crawl, and whenever the last one is older than PORTAL_FULL_PASS_DAYS.
    """

    profile_name = ""

    def __init__(
        self,
        base_url: str | None = None,
        lang: str | None = None,
        since: str | None = None,
        until: str | None = None,
        max_items: str | int | None = None,
        max_pages: str | int | None = None,
        profile: str | None = None,
        full: str | bool | None = None,
        resume: str | bool | None = None,
        wayback: str | None = None,
        **kwargs: Any,
    ) -> None:
        # A web-archive replay to crawl the portal's captures from, in a window of time.
        try:
            self.wb_from = check_timestamp(kwargs.pop("from", None), "from")
            self.wb_to = check_timestamp(kwargs.pop("to", None), "to")
            if self.wb_from and self.wb_to and self.wb_from.ljust(14, "0") > self.wb_to.ljust(14, "9"):
                raise WaybackError(f"from ({self.wb_from}) is later than to ({self.wb_to})")
        except WaybackError as exc:
            raise SpiderArgumentError(str(exc)) from None
        super().__init__(**kwargs)
        self.wayback = check_base_url(wayback) if wayback else None
        self.profile: Profile = self.load_profile(profile, base_url)
        self.portal = self.profile.name
        self.base_url = check_base_url(base_url or self.profile.base_url)
        self.lang = lang or (self.profile.languages[0] if self.profile.languages else "")
        if self.profile.languages and self.lang not in self.profile.languages:
            raise SpiderArgumentError(f"lang must be one of {', '.join(self.profile.languages)}, not {self.lang!r}")
        self.since = _iso_day(since, "since")
        self.until = _iso_day(until, "until")
        if self.since and self.until and self.since > self.until:
            raise SpiderArgumentError(f"since ({self.since}) is after until ({self.until})")
        self.max_items = _positive(max_items, "max_items")
        self.max_pages = _positive(max_pages, "max_pages")
        self.rules = self.profile.urls.with_local_origin(self.base_url)
        host = urlsplit(self.base_url).hostname or ""
        self.allowed_domains = sorted({host, *self.profile.allowed_domains})
        # What is ever requested: the base URL's origin (scheme, host and port), and the portal's
        # own hosts when the base URL is the portal itself. A mirror or replica is the only origin
        # asked: links to the portal's hosts are read from the mirror (`local`).
        base_origin = origin(self.base_url)
        self.allowed_origins = {base_origin} if base_origin else set()
        self.portal_hosts = {d.lower() for d in self.profile.allowed_domains}
        if host.lower() in self.portal_hosts:
            self.allowed_origins |= {(scheme, d, port) for d in self.portal_hosts
                                     for scheme, port in _DEFAULT_PORTS.items()}
        else:
            self.allowed_domains = [host]
        self.full = _flag(full, "full")
        self.resume = _flag(resume, "resume")
        # What the crawl row records, and what a resumed crawl must match.
        self.crawl_args = {"base_url": self.base_url, "lang": self.lang, "since": self.since, "until": self.until,
                           "max_items": self.max_items, "max_pages": self.max_pages, "full": self.full}
        if self.wayback:
            self.crawl_args.update({"wayback": self.wayback, "from": self.wb_from, "to": self.wb_to})
            # Everything is read from the archive: the portal's own hosts are never asked.
            self.allowed_domains = [urlsplit(self.wayback).hostname or ""]
        self.requested = RecordIdSet()  # one request per record
        self.crawl_id: int | None = None  # set by the archive pipeline when it opens
        self.memory = ArchiveMemory(None, self.portal)
        self.incremental = True
        self.listing_failures = 0
        self.junk_listings: list[FetchFailure] = []  # listing pages that were not text, to record
        self.listings_ended: set[str] = set()  # listings paged through to their last page

    def load_profile(self, name: str | None, base_url: str | None) -> Profile:
        """The portal profile: the one named by the `profile` argument, else the spider's own."""
        return load_profile(name or self.profile_name)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        target = spider.wayback or spider.base_url  # what is actually asked: the portal, or an archive of it
        if is_loopback(target) and settings.getbool("PORTAL_LOOPBACK_FULL_SPEED"):
            # A replica or local mirror: nobody to be polite to. Settings are not frozen yet here.
            settings.set("DOWNLOAD_DELAY", 0, priority="spider")
            settings.set("AUTOTHROTTLE_ENABLED", False, priority="spider")
            settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", settings.getint("PORTAL_LOOPBACK_CONCURRENCY"),
                         priority="spider")
        elif spider.wayback:
            # A public web archive serves everyone from shared machines, and rate-limits the impolite.
            delay = max(settings.getfloat("DOWNLOAD_DELAY"), settings.getfloat("WAYBACK_DOWNLOAD_DELAY"))
            settings.set("DOWNLOAD_DELAY", delay, priority="spider")
            settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", 1, priority="spider")
        crawler.signals.connect(spider.remember, signal=signals.spider_opened)
        crawler.signals.connect(spider.forget, signal=signals.spider_closed)
        return spider

    # -- what earlier crawls left in the archive ----------------------------------------------

    def remember(self, spider: scrapy.Spider) -> None:
        """Load the archive's memory (after the archive pipeline opened the crawl) and choose the mode."""
        settings = self.crawler.settings
        # A web archive's captures do not change: nothing to ask conditionally, and the validators
        # the archive keeps are the live portal's, not the replay's.
        self.incremental = settings.getbool("PORTAL_INCREMENTAL") and not self.wayback
        if self.incremental:
            self.memory = ArchiveMemory(settings.get("ARCHIVE_SQLITE_PATH"), self.portal, self.crawl_id)
        self.failed_before = self.memory.unresolved_failures()
        if not self.full and any(kind == "listing" for kind, _, _ in self.failed_before):
            self.full = True
            self.logger.info("Complete pass: listing pages failed last time, so some items were never seen")
        if not self.full:
            last = self.memory.last_complete_pass(self.name, self.lang) if self.incremental else None
            days = settings.getfloat("PORTAL_FULL_PASS_DAYS")
            if last is None or dt.datetime.now(dt.UTC) - last > dt.timedelta(days=days):
                self.full = True
                self.logger.info("Complete pass: %s", "no earlier complete pass in the archive" if last is None
                                 else f"the last complete pass started {last:%Y-%m-%d %H:%M} UTC")
        self.logger.info("Crawl %s, mode %s: %d archived records known", self.crawl_id, self.mode,
                         len(self.memory.known))

    def forget(self, spider: scrapy.Spider) -> None:
        self.memory.close()

    @property
    def mode(self) -> str:
        return ("full" if self.full else "incremental") + ("+resume" if self.resume else "")

    @property
    def complete_pass(self) -> bool:
        """Did this crawl see everything the portal lists? Only then can it tell which items are gone."""
        scoped = self.since or self.until or self.max_items or self.max_pages
        return self.full and not scoped and not self.listing_failures and self.listings_complete()

    def listings_complete(self) -> bool:
        """Spiders that page through listings say here whether they reached every last page."""
        return True

    # -- identities -----------------------------------------------------------------------

    def canonical(self, url: str) -> str:
        return canonical_url(url, self.rules)

    def allows_request(self, url: str) -> bool:
        """Whether `url` may be requested at all: the crawled portal's origin (or, in a web-archive
        crawl, the archive), over http or https. Asked by OriginGuardMiddleware for every request."""
        if self.wayback:
            return origin(url) is not None and in_archive(url, self.wayback)
        return origin(url) in self.allowed_origins

    def on_portal(self, url: str) -> bool:
        """A link to the portal: its origin, or one of the portal's hosts (read from the mirror)."""
        found = origin(url)
        return found is not None and (found in self.allowed_origins or found[1] in self.portal_hosts)

    def local(self, url: str) -> str:
        """Where to ask for a portal URL: on the crawled mirror or replica when the link names the
        portal's own host."""
        found = origin(url)
        if self.wayback or found is None or found in self.allowed_origins or found[1] not in self.portal_hosts:
            return url
        parts = urlsplit(url)
        return urlunsplit((*urlsplit(self.base_url)[:2], parts.path, parts.query, ""))

    def is_item_url(self, url: str) -> bool:
        if not self.on_portal(url):
            return False  # another site's page (or a file:, data: URL) is never an item of this portal
        return page_kind(self.canonical(url), self.rules) is not None

    def is_hub_url(self, url: str) -> bool:
        """A listing page of the portal: linked with a title and a date or summary, it is an item too."""
        return self.on_portal(url) and is_listing(self.canonical(url), self.rules)

    def kind_of(self, canonical: str) -> str:
        """The record kind of a page: the profile's, else `hub` for a listing page listed as an item."""
        return page_kind(canonical, self.rules) or ("hub" if is_listing(canonical, self.rules) else "page")

    # -- listings -------------------------------------------------------------------------

    def in_window(self, date_text: str | None) -> bool:
        if not (self.since or self.until) or not date_text:
            return True
        dates = parse_date_range(date_text)
        start = dates.start
        if start is None:
            return True  # an unparseable date is the validator's business, not the filter's
        end = dates.end or start
        if self.since and end < self.since[: len(end)]:
            return False
        return not (self.until and start > self.until[: len(start)])

    def older_than_window(self, entries: list[ListingEntry]) -> bool:
        """True when the page's oldest dated entry is before `since`: no need to page further."""
        if not self.since:
            return False
        starts = [d.start for e in entries if (d := parse_date_range(e.date_text)).start]
        return bool(starts) and min(starts) < self.since[: len(min(starts))]

    def listing_entries(self, response: Response) -> list[ListingEntry]:
        if not isinstance(response, TextResponse):
            self.logger.warning("Not an HTML listing, skipped: %s", response.url)
            return []
        if why := binary_content(response.body):
            # A failure with its reason, handed to the next follow_entries (which every listing calls).
            self.listing_failures += 1
            self.crawler.stats.inc_value("portal/listing_failed")
            self.logger.error("Listing page failed: %s (%s)", response.url, why)
            self.junk_listings.append(FetchFailure(response.url, "listing", why, response.status, failed_at=_now()))
            return []
        return extract_listing(page_selector(response).root, self.original_url(response), self.is_item_url,
                               self.canonical, self.is_hub_url)

    # -- web-archive replays ------------------------------------------------------------------

    def replayed(self, response: Response) -> Capture | None:
        """The capture a replayed response is (the memento the archive says it served), or None."""
        if not self.wayback:
            return None
        return replayed_capture(response.url, lambda name: text_header(response, name))

    def original_url(self, response: Response) -> str:
        """The portal URL a response stands for: its capture's original URL in a web-archive crawl."""
        capture = self.replayed(response)
        return capture.original if capture is not None else response.url

    def capture(self, response: Response) -> tuple[str | None, str | None]:
        """(capture URL, capture time) of a replayed response: the memento actually served, which
        may be another than the one asked for (the nearest capture, the target of a redirect);
        (None, None) outside web-archive crawls."""
        if not self.wayback:
            return None, None
        capture = self.replayed(response)
        if capture is None:
            return response.url, None
        return replay_url(self.wayback, capture.timestamp, capture.original), capture.time

    def request_url(self, url: str, response: Response) -> str:
        """Where to ask for a page linked from `response`: in a web-archive crawl, the capture nearest
        in time to the page that links it."""
        if not self.wayback:
            return self.local(url)
        capture = self.replayed(response)
        return replay_url(self.wayback, capture.timestamp if capture else (self.wb_to or "2"), url)

    def retry_failed_items(self) -> Iterator[scrapy.Request]:
        """Item pages earlier runs could not fetch, asked for again (once per crawl, like any item)."""
        for kind, url, listing in self.failed_before:
            rid = listing.get("record_id")
            if kind != "item" or not rid or rid in self.requested:
                continue
            if not self.wayback and not self.allows_request(url):
                # Asked where the portal is now: the same path on this crawl's base URL, not on the
                # mirror or port an earlier run used (the failure is this archive's own record).
                parts = urlsplit(url)
                url = urlunsplit((*urlsplit(self.base_url)[:2], parts.path, parts.query, ""))
            self.requested.add(rid)
            self.crawler.stats.inc_value("portal/item_page_retried_from_earlier_run")
            yield scrapy.Request(url, self.parse_item, errback=self.item_failed, cb_kwargs={"listing": listing},
                                 meta={"listing": listing, "handle_httpstatus_list": [304]}, dont_filter=True)

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
        yield FetchFailure(url, "listing", reason, status, counted=counted, failed_at=_now())

    @staticmethod
    def entry_hash(entry: ListingEntry) -> str:
        return listing_hash((entry.title, entry.date_text, entry.summary))

    def all_unchanged(self, entries: list[ListingEntry]) -> bool:
        """True when a listing page shows only items archived earlier with the same listing texts."""
        return bool(entries) and all(
            self.memory.unchanged(record_id(self.canonical(e.url)), self.entry_hash(e)) for e in entries
        )

    def follow_entries(self, response: Response, entries: list[ListingEntry]) -> Iterator[Any]:
        """The page's appearances (one Sightings item), and a request for each item page not yet requested."""
        while self.junk_listings:
            yield self.junk_listings.pop(0)
        seen_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        capture_url, capture_time = self.capture(response)
        sightings = Sightings(response.url)
        requests = []
        for entry in entries:
            if not self.in_window(entry.date_text):
                continue
            url = self.canonical(entry.url)
            rid = record_id(url)
            kind = self.kind_of(url)
            section = entry.section or self.profile.sections.get(kind, kind)
            sightings.appearances.append(
                Appearance(rid, url, response.url, section, entry.position, entry.date_text, entry.title, seen_at,
                           capture_url, capture_time))
            listing = {"title": entry.title, "date_text": entry.date_text, "summary": entry.summary,
                       "section": section, "source_url": response.url, "listing_hash": self.entry_hash(entry),
                       "record_id": rid, "url": entry.url, "request_url": self.request_url(entry.url, response)}
            if self.defer_items:
                self.offer(listing, response)
            elif (request := self.item_request(listing)) is not None:
                requests.append(request)
        if sightings.appearances:
            yield sightings
        yield from requests

    # Spiders that read every listing before any item page (to choose each item's best listing
    # entry, whatever order responses arrive in) set this and call `offer` / `deferred_requests`.
    defer_items = False

    def offer(self, listing: dict[str, Any], response: Response) -> None:
        raise NotImplementedError

    def item_request(self, listing: dict[str, Any]) -> scrapy.Request | None:
        """The request for an item's page, unless it was requested already, is over max_items, or
        was stored before an interruption (resume)."""
        rid = listing["record_id"]
        if rid in self.requested:
            return None
        if self.max_items and len(self.requested) >= self.max_items:
            # Seen (its appearance is kept), not fetched: the crawl's own limit, counted and said once.
            if not self.crawler.stats.get_value("portal/item_over_max_items"):
                self.logger.info("max_items (%d) reached: further items are listed as seen, not fetched",
                                 self.max_items)
            self.crawler.stats.inc_value("portal/item_over_max_items")
            return None
        self.requested.add(rid)
        if self.resume and self.memory.stored_in_this_crawl(rid):
            self.crawler.stats.inc_value("portal/item_page_resumed")
            return None  # stored before the interruption
        url = self.canonical(listing["url"])
        # A hub is also a listing: always read whole, never answered by a 304.
        headers = self.memory.validators(rid) if self.incremental and not self.is_hub_url(url) else {}
        # `requested` already keeps one request per record, so Scrapy's duplicate filter (a URL
        # canonicalization and a hash per request) is not needed. Item pages before further listing
        # pages: the queue holds one listing page's items at a time, not the whole archive's (memory
        # stays flat however large the portal).
        return scrapy.Request(listing["request_url"], self.parse_item, errback=self.item_failed, headers=headers,
                              cb_kwargs={"listing": listing}, dont_filter=True, priority=ITEM_PRIORITY,
                              meta={"listing": listing, "handle_httpstatus_list": [304]})

    # -- item pages -----------------------------------------------------------------------

    def parse_item(self, response: Response, listing: dict[str, Any]) -> Iterator[Any]:
        stats = self.crawler.stats
        if response.status == 304:
            stats.inc_value("portal/item_page_not_modified")
            record = self.archived_record(response.url, listing)
            record.page_fetched = True
            yield record
            return
        stats.inc_value("portal/item_page_fetched")
        stats.inc_value("portal/item_page_bytes", len(response.body))
        if not isinstance(response, TextResponse):
            self.logger.warning("Not an HTML page, kept from its listing only: %s", response.url)
            record = self.make_record(response.url, listing, None)
            record.page_fetched = True
            yield record
            return
        if why := binary_content(response.body):
            self.crawler.stats.inc_value("portal/item_page_failed")
            self.logger.error("Item page failed: %s (%s)", response.url, why)
            yield FetchFailure(response.url, "item", why, response.status, listing["record_id"], listing, True, _now(),
                               self.canonical(listing.get("url") or response.url))
            return
        fields = extract_detail(page_selector(response), self.profile.selectors, self.original_url(response))
        # In a web-archive crawl the record is the item as listed, whichever capture (a redirect's
        # target, the nearest good one) its page was read from.
        page_url = str(listing["url"]) if self.wayback and listing.get("url") else self.original_url(response)
        record = self.make_record(page_url, listing, dict(vars(fields)))
        record.page_fetched = True
        record.capture_url, record.capture_time = self.capture(response)
        if record.capture_time:
            record.fetched_at = record.capture_time
        if warc := response.meta.get("warc"):
            record.warc_file, record.warc_offset = warc["file"], warc["offset"]
        if captured := response.meta.get("capture_time"):  # replayed from a capture: its time, not now
            record.fetched_at = captured
        etag = response.headers.get("ETag")
        record.http_etag = etag.decode("latin-1") if etag else None
        modified = response.headers.get("Last-Modified")
        record.http_last_modified = http_date(modified.decode("latin-1")) if modified else None
        yield record
        if self.is_hub_url(record.url or response.url):  # an edition's index, a dossier: also a listing
            yield from self.follow_entries(response, self.listing_entries(response))

    def item_failed(self, failure: Failure) -> Iterator[Any]:
        """The item page could not be fetched: the failure is recorded (the next run tries again), and
        an item archived before is still seen, as archived. A new item waits for a fetch that works:
        its listing entry is kept in the failure and in its appearance.

        In a web-archive crawl, a replay that is not a page (the nearest capture is an archived 404
        or 5xx, or the page was never captured there) is looked up in the archive's index first: the
        nearest capture that answered 200 is read instead, and only when there is none does the
        item fail."""
        request = failure.request  # type: ignore[attr-defined]
        listing = request.meta["listing"]
        url = request.meta.get("redirect_urls", [request.url])[0]  # as listed, before any redirect
        reason, status, counted = describe_failure(failure)
        if self.wayback and counted and not request.meta.get("wb_lookup") and status is not None:
            original = capture_of(url, None)
            if original is not None:
                self.crawler.stats.inc_value("portal/archive_lookup")
                yield scrapy.Request(cdx_query(self.wayback, original.original, None, None, collapse=False),
                                     self.nearest_good_capture, errback=self.item_failed, dont_filter=True,
                                     priority=ITEM_PRIORITY,
                                     meta={"listing": listing, "wb_lookup": True, "wb_failed": (url, reason, status)},
                                     cb_kwargs={"listing": listing, "around": original.timestamp})
                return
        if failed := request.meta.get("wb_failed"):
            url, first_reason, status = failed
            if reason != first_reason:
                reason = f"{first_reason}; {reason}"
        self.crawler.stats.inc_value("portal/item_page_failed" if counted else "portal/item_page_skipped")
        archived = self.memory.record(listing["record_id"])
        log = self.logger.error if counted else self.logger.info
        log("Item page %s, %s: %s (%s)", "failed" if counted else "skipped",
            "kept as archived" if archived else "to be tried again next run", url, reason)
        yield FetchFailure(url, "item", reason, status, listing["record_id"], listing, counted, _now(),
                           self.canonical(listing.get("url") or url))
        if archived:
            yield self.archived_record(url, listing)

    def nearest_good_capture(self, response: Response, listing: dict[str, Any], around: str) -> Iterator[Any]:
        """The archive's captures of an item whose nearest replay was not a page: the nearest one that
        answered 200 is asked for, else the item fails, with the first replay's reason."""
        captures, _ = parse_cdx(response.text if isinstance(response, TextResponse) else "")
        best = nearest(captures, around)
        url, reason, status = response.meta["wb_failed"]
        if best is None:
            why = f"{reason}; no capture of it answered 200 in the archive" if captures else \
                f"{reason}; never captured by the archive"
            self.crawler.stats.inc_value("portal/item_page_failed")
            self.logger.error("Item page failed: %s (%s)", url, why)
            yield FetchFailure(url, "item", why, status, listing["record_id"], listing, True, _now(),
                               self.canonical(listing.get("url") or url))
            return
        self.crawler.stats.inc_value("portal/archive_nearest_good_capture")
        yield scrapy.Request(replay_url(self.wayback or "", best.timestamp, best.original), self.parse_item,
                             errback=self.item_failed, cb_kwargs={"listing": listing}, dont_filter=True,
                             priority=ITEM_PRIORITY,
                             meta={"listing": listing, "wb_lookup": True, "wb_failed": (url, reason, status)})

    def archived_record(self, url: str, listing: dict[str, Any]) -> Record:
        """The archived record of an item whose page did not change (304) or could not be fetched,
        with what its listing says now: the same merge as for a fetched page."""
        archived = self.memory.record(listing["record_id"])
        if archived is None:  # a validator of a record since removed from the archive by hand
            self.logger.warning("No archived record for %s; kept from its listing only", url)
            return self.make_record(url, listing, None)
        provenance = archived.pop("provenance") or {}
        detail = {**archived, "provenance": provenance}
        record = self.make_record(url, listing, detail)
        record.fetched_at = archived.get("fetched_at")
        known = self.memory.known.get(listing["record_id"])
        if known is not None:
            record.http_etag, record.http_last_modified = known.etag, known.last_modified
        return record

    def is_portal_name(self, text: str) -> bool:
        site = fold(self.profile.title).lower()
        return bool(site) and fold(text).lower() in site

    def make_record(self, url: str, listing: dict[str, Any], detail: dict[str, Any] | None) -> Record:
        """One record from an item's listing entry and its page, field by field: listing first."""
        canonical = self.canonical(url)
        detail = detail or {}
        provenance: dict[str, str] = {}
        merged: dict[str, Any] = {}
        for name in ("title", "date_text", "summary", "updated_text", "body"):
            if listing.get(name) and not (name == "title" and _cut_version(listing[name], detail.get("title"))):
                merged[name], provenance[name] = listing[name], "listing"
            elif detail.get(name):
                merged[name], provenance[name] = detail[name], detail["provenance"].get(name, "page")
        if provenance.get("title") == "heuristic" and self.is_portal_name(merged["title"]):
            del merged["title"], provenance["title"]  # the site's name from <title>: the item has none
        return Record(
            listing_hash=listing.get("listing_hash"),
            id=record_id(canonical),
            portal=self.portal,
            section=listing.get("section"),
            kind=self.kind_of(canonical),
            url=canonical,
            language=language(url, self.rules) or detail.get("language") or self.lang or None,
            source_url=listing.get("source_url") or url,
            fetched_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds") if detail else None,
            provenance=provenance,
            **merged,
        )
