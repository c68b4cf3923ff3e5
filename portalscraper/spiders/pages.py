"""What a response is, worked out once per response: its parsed page, the portal URL it stands
for, the capture it was read from, its place in the crawl's WARC file, and its validators."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass

from parsel import Selector
from scrapy.http import Response, TextResponse

from portalscraper.crawl.httputil import http_date
from portalscraper.crawl.responses import text_header
from portalscraper.extract.tree import parse_page
from portalscraper.webarchive.wayback import Capture, replay_url, replayed_capture


def page_selector(response: TextResponse) -> Selector:
    """The page's parsed tree, made once per response: read as HTML whatever its type says
    (`application/xml` and `text/xml` pages too), markup repaired where lxml would cut it short,
    scripts and styles removed (their text is never the page's)."""
    cached = response.meta.get("_page_selector")
    if cached is None:
        cached = parse_page(response.text, response.url)
        response.meta["_page_selector"] = cached
    return cached


@dataclass(frozen=True)
class Page:
    """A response as the archive sees it."""

    url: str  # the portal URL it stands for: a replay's original URL, else the response's own
    capture: Capture | None = None  # the memento a web archive served (maybe not the one asked for)
    capture_url: str | None = None  # that memento's replay URL (web-archive crawls only)
    fetched_at: str | None = None  # when its bytes were captured, for a replay or a WARC re-read
    warc_file: str | None = None  # where the crawl's WARC file keeps it
    warc_offset: int | Future[int] | None = None  # a future while the WARC writer has it queued
    etag: str | None = None
    last_modified: str | None = None


def page_of(response: Response, wayback: str | None) -> Page:
    """The Page of a response (once per response: kept in its meta). `wayback` is the crawl's
    web-archive endpoint, or None outside web-archive crawls."""
    cached = response.meta.get("_page")
    if isinstance(cached, Page):
        return cached
    capture = replayed_capture(response.url, lambda name: text_header(response, name)) if wayback else None
    capture_url = None
    if wayback:
        capture_url = replay_url(wayback, capture.timestamp, capture.original) if capture else response.url
    warc = response.meta.get("warc") or {}
    page = Page(
        url=capture.original if capture else response.url,
        capture=capture,
        capture_url=capture_url,
        # A WARC re-read's time is the WARC record's; a replay's, its capture's; a live fetch's, now.
        fetched_at=response.meta.get("capture_time") or (capture.time if capture else None),
        warc_file=warc.get("file"),
        warc_offset=warc.get("offset"),
        etag=text_header(response, "ETag"),
        last_modified=http_date(text_header(response, "Last-Modified")),
    )
    response.meta["_page"] = page
    return page
