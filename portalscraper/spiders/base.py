"""What every portal spider shares: arguments, politeness, following listings, merging items."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any, Self
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from portalscraper.extract.dates import parse_date, parse_date_range
from portalscraper.extract.detail import extract_detail
from portalscraper.extract.listing import ListingEntry, extract_listing
from portalscraper.extract.urls import canonical_url, language, page_kind, record_id
from portalscraper.items import Appearance, Record
from portalscraper.profiles import Profile, load_profile


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


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SpiderArgumentError(f"base_url must be an http(s) URL such as https://www.nato.int, not {url!r}")
    return url.rstrip("/")


class PortalSpider(scrapy.Spider):
    """A spider for one portal profile.

    Arguments: base_url (the portal, a mirror or a replay root), lang, since and until (ISO
    dates), max_items (item pages at most), max_pages (listing pages at most per listing).
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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.profile: Profile = load_profile(profile or self.profile_name)
        self.portal = self.profile.name
        self.base_url = check_base_url(base_url or self.profile.base_url)
        self.lang = lang or self.profile.languages[0]
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
        self.crawl_args = {"base_url": self.base_url, "lang": self.lang, "since": self.since, "until": self.until,
                           "max_items": self.max_items, "max_pages": self.max_pages}
        self.requested: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        if is_loopback(spider.base_url) and settings.getbool("PORTAL_LOOPBACK_FULL_SPEED"):
            # A replica or local mirror: nobody to be polite to. Settings are not frozen yet here.
            settings.set("DOWNLOAD_DELAY", 0, priority="spider")
            settings.set("AUTOTHROTTLE_ENABLED", False, priority="spider")
            settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", settings.getint("PORTAL_LOOPBACK_CONCURRENCY"),
                         priority="spider")
        return spider

    # -- identities -----------------------------------------------------------------------

    def canonical(self, url: str) -> str:
        return canonical_url(url, self.rules)

    def is_item_url(self, url: str) -> bool:
        return page_kind(self.canonical(url), self.rules) is not None

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
        return extract_listing(response.selector.root, response.url, self.is_item_url, self.canonical)

    def follow_entries(self, response: Response, entries: list[ListingEntry]) -> Iterator[Any]:
        """An Appearance for every entry, and a request for each item page not yet requested."""
        seen_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        for entry in entries:
            if not self.in_window(entry.date_text):
                continue
            url = self.canonical(entry.url)
            rid = record_id(url)
            kind = page_kind(url, self.rules) or "page"
            section = entry.section or self.profile.sections.get(kind, kind)
            yield Appearance(rid, url, response.url, section, entry.position, entry.date_text, entry.title, seen_at)
            if rid in self.requested:
                continue
            if self.max_items and len(self.requested) >= self.max_items:
                continue
            self.requested.add(rid)
            listing = {"title": entry.title, "date_text": entry.date_text, "summary": entry.summary,
                       "section": section, "source_url": response.url}
            yield response.follow(entry.url, self.parse_item, errback=self.item_failed,
                                  cb_kwargs={"listing": listing}, meta={"listing": listing})

    # -- item pages -----------------------------------------------------------------------

    def parse_item(self, response: Response, listing: dict[str, Any]) -> Iterator[Record]:
        if not isinstance(response, TextResponse):
            self.logger.warning("Not an HTML page, kept from its listing only: %s", response.url)
            yield self.make_record(response.url, listing, None)
            return
        fields = extract_detail(response.selector, self.profile.selectors)
        yield self.make_record(response.url, listing, asdict(fields))

    def item_failed(self, failure: Failure) -> Iterator[Record]:
        """The item page could not be fetched: keep what its listing said."""
        request = failure.request  # type: ignore[attr-defined]
        self.logger.warning("Item page failed, kept from its listing only: %s (%s)", request.url,
                            failure.getErrorMessage())
        self.crawler.stats.inc_value("portal/item_page_failed")
        yield self.make_record(request.url, request.meta["listing"], None)

    def make_record(self, url: str, listing: dict[str, Any], detail: dict[str, Any] | None) -> Record:
        """One record from an item's listing entry and its page, field by field: listing first."""
        canonical = self.canonical(url)
        detail = detail or {}
        provenance: dict[str, str] = {}
        merged: dict[str, Any] = {}
        for name in ("title", "date_text", "summary", "updated_text", "body"):
            if listing.get(name):
                merged[name], provenance[name] = listing[name], "listing"
            elif detail.get(name):
                merged[name], provenance[name] = detail[name], detail["provenance"].get(name, "page")
        return Record(
            id=record_id(canonical),
            portal=self.portal,
            section=listing.get("section"),
            kind=page_kind(canonical, self.rules) or "page",
            url=canonical,
            language=language(url, self.rules) or detail.get("language") or self.lang,
            source_url=listing.get("source_url") or url,
            fetched_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds") if detail else None,
            provenance=provenance,
            **merged,
        )
