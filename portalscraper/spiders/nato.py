"""The NATO portal: homepage blocks, item pages, the paginated news archive, NATO Review editions."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse

from portalscraper.extract.listing import next_page_url
from portalscraper.extract.urls import record_id
from portalscraper.spiders.base import PortalSpider, page_selector
from portalscraper.wayback import cdx_query, parse_cdx, replay_url

_REVIEW_EDITION = re.compile(r"^(?P<root>.*/docu/review/\d{4}/[\w-]+/)[\w-]+/EN/index\.htm$", re.I)


class NatoSpider(PortalSpider):
    name = "nato"
    profile_name = "nato"

    async def start(self) -> AsyncIterator[Any]:
        homepage = self.profile.start_url("homepage", self.base_url, self.lang)
        if homepage is None:
            raise ValueError(f"profile {self.profile.name!r} names no homepage in [start]")
        if self.wayback:  # the homepage's captures in the window, from the archive's CDX index
            query = cdx_query(self.wayback, homepage, self.wb_from, self.wb_to)
            yield scrapy.Request(query, self.parse_cdx, errback=self.listing_failed, meta={"start": True},
                                 cb_kwargs={"homepage": homepage})
        else:
            yield scrapy.Request(homepage, self.parse_homepage, errback=self.listing_failed, meta={"start": True})
        for request in self.retry_failed_items():
            yield request

    def parse_cdx(self, response: Response, homepage: str) -> Iterator[Any]:
        """One request per capture of the homepage (its original bytes); the next page of the index."""
        captures, resume = parse_cdx(response.text)
        self.logger.info("%d captures of %s in the archive", len(captures), homepage)
        for capture in captures:
            yield scrapy.Request(replay_url(self.wayback or "", capture.timestamp, capture.original),
                                 self.parse_homepage, errback=self.listing_failed)
        if resume:
            query = cdx_query(self.wayback or "", homepage, self.wb_from, self.wb_to, resume_key=resume)
            yield scrapy.Request(query, self.parse_cdx, errback=self.listing_failed,
                                 cb_kwargs={"homepage": homepage})

    def parse_homepage(self, response: Response) -> Iterator[Any]:
        entries = self.listing_entries(response)
        yield from self.follow_entries(response, entries)
        if self.wayback:
            return  # a web-archive crawl walks the captured homepages and the items they link to
        # NATO Review editions: each edition's index lists all its articles.
        editions = {m["root"] + "EN/index.htm" for e in entries if (m := _REVIEW_EDITION.match(e.url))}
        for url in sorted(editions):
            if record_id(self.canonical(url)) in self.requested:
                continue  # listed as an item itself: read as a listing when its page arrives
            yield response.follow(url, self.parse_listing, errback=self.listing_failed)
        # The archive after the homepage, so that homepage items keep the homepage's listing data.
        archive = self.profile.start_url("archive", self.base_url, self.lang)
        if archive:
            yield scrapy.Request(archive, self.parse_archive, errback=self.listing_failed, cb_kwargs={"page": 1})

    def parse_listing(self, response: Response) -> Iterator[Any]:
        yield from self.follow_entries(response, self.listing_entries(response))

    def parse_archive(self, response: Response, page: int) -> Iterator[Any]:
        entries = self.listing_entries(response)
        yield from self.follow_entries(response, entries)
        next_url = None
        if isinstance(response, TextResponse):
            next_url = next_page_url(page_selector(response).root, response.url)
        if next_url is None:
            self.listings_ended.add("archive")
            return
        if self.max_pages and page >= self.max_pages:
            self.logger.info("Stopping the archive at page %d (max_pages)", page)
        elif self.older_than_window(entries):
            self.logger.info("Stopping the archive at page %d: past since=%s", page, self.since)
        elif self.max_items and len(self.requested) >= self.max_items:
            self.logger.info("Stopping the archive at page %d: max_items reached", page)
        elif not self.full and self.all_unchanged(entries):
            self.logger.info("Stopping the archive at page %d: it lists only archived, unchanged items", page)
        else:
            yield response.follow(next_url, self.parse_archive, errback=self.listing_failed,
                                  cb_kwargs={"page": page + 1})

    def listings_complete(self) -> bool:
        return self.profile.start_url("archive", self.base_url, self.lang) is None or "archive" in self.listings_ended
