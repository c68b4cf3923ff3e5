"""The items a crawl yields: a Record per published item, an Appearance per listing sighting."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Future
from dataclasses import dataclass, field, fields
from typing import Any, TypedDict


def utc_now() -> str:
    """Now, as the items and the archive write times: ISO 8601, UTC, to the second."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class ItemListing(TypedDict, total=False):
    """An item's entry, as a listing block (or a feed, a sitemap, the item's own page) names it:
    what the spiders carry from the entry to the item's page, and what a failure keeps to ask again."""

    record_id: str
    url: str  # the entry's link, as the page gave it
    request_url: str  # where the item's page is asked (a mirror, a capture)
    source_url: str  # the page the entry was read from
    title: str | None
    date_text: str | None
    summary: str | None
    section: str | None
    listing_hash: str  # of the entry's texts: an unchanged entry of an archived item is not asked again
    # Feeds and sitemaps (spiders/sources.py): where each text came from, what stands in for a
    # missing one ([value, source]), when the source says the item changed, and which source it is.
    sources: dict[str, str]
    fallback: dict[str, list[str]]
    stamp: str | None
    stamps: list[str]
    via: str
    template_item: bool  # the portal spider: the link's URL template is an item's


@dataclass
class PageState:
    """What the archive keeps beside a record for the next crawls: not part of the record's shape."""

    http_etag: str | None = None  # the item page's validators, for conditional requests next time
    http_last_modified: str | None = None
    listing_hash: str | None = None  # hash of the listing entry the record was made from
    page_fetched: bool = False  # the item page answered this crawl (200 or 304): settles earlier failures
    warc_file: str | None = None  # the raw capture of the item page: WARC file name and record offset
    warc_offset: int | Future[int] | None = None  # a future until the WARC writer has written it
    capture_url: str | None = None  # web-archive crawls: the item page's capture, and its time
    capture_time: str | None = None


# A field of Record that is the crawl's, not the published item's: left out of every export.
_INTERNAL = {"exported": False}


@dataclass
class Record:
    """One item the portal published. The archive keys it by `id`.

    Spiders fill the raw texts; the normalize pipeline cleans them and fills the parsed fields.
    The exported shape (archive columns, JSON Lines keys, feed fields, the JSON Schema) is this
    class's fields, in this order, except the two internal ones at the end.
    """

    id: str | None = None  # 16 hex digits of the SHA-1 of the canonical URL: stable across runs
    portal: str | None = None  # profile name, e.g. "nato"
    section: str | None = None  # the listing block it was first seen in ("People & Activities")
    kind: str | None = None  # news, review, feature, opinion, ...
    title: str | None = None
    url: str | None = None  # canonical: https://www.nato.int/cps/en/natohq/news_91112.htm
    language: str | None = None  # ISO 639-1
    date_text: str | None = None  # as published: "13 Sep. 2012 - 14 Sep. 2012"
    date_start: str | None = None  # ISO 8601 at the text's precision: 2012-09-13, 2012-09, 2012
    date_end: str | None = None  # ISO 8601; None unless the date text is a range
    updated_text: str | None = None  # as published: "Last updated: 20 Sep. 2012 14:26"
    updated_at: str | None = None  # ISO 8601 datetime, in the portal's time zone
    summary: str | None = None
    body: str | None = None  # plain text, paragraphs separated by blank lines
    source_url: str | None = None  # the page (listing or item page) the record was made from
    fetched_at: str | None = None  # ISO 8601 UTC time the item page was fetched
    content_hash: str | None = None  # SHA-256 of the published content fields
    provenance: dict[str, str] = field(default_factory=dict)  # field -> listing|selector|jsonld|meta|...
    # Set by normalize; a record with problems is rejected.
    problems: list[str] = field(default_factory=list, metadata=_INTERNAL)
    # Bookkeeping the archive stores beside the record.
    state: PageState = field(default_factory=PageState, repr=False, metadata=_INTERNAL)


@dataclass
class Appearance:
    """One sighting of an item in a listing block: what a page featured, where, and when."""

    record_id: str
    url: str  # canonical URL of the item
    source_url: str  # the listing page
    section: str
    position: int  # 1-based position in its block
    date_text: str | None = None  # the date as the listing showed it
    title: str | None = None
    seen_at: str | None = None
    capture_url: str | None = None  # web-archive crawls: the listing page's capture (replay URL)
    capture_time: str | None = None  # and when the archive captured it (ISO 8601, UTC)
    page_url: str | None = None  # the listing page's canonical portal URL: the same from a mirror or a capture


@dataclass
class Sightings:
    """The appearances of one listing page, as one item (an item each would cost more than it says)."""

    source_url: str
    appearances: list[Appearance] = field(default_factory=list)


@dataclass
class FetchFailure:
    """A page the crawl could not fetch, after its retries, and why. Item pages are tried again by
    the next run; `counted` is False for pages skipped by policy (robots.txt, another host)."""

    url: str
    kind: str  # "item" or "listing"
    reason: str  # "HTTP 503 Service Unavailable", "TimeoutError: ...", "forbidden by robots.txt"
    status: int | None = None  # the HTTP status, when there was a response
    record_id: str | None = None
    listing: dict[str, Any] | None = None  # an item's listing entry, to retry it with
    counted: bool = True
    failed_at: str | None = None
    item_url: str | None = None  # the item's canonical URL (`url` is what was asked: a replay URL, a redirect)


# The record shape as exported (the archive's columns, JSON Lines keys, feed exports), derived
# from the dataclass: the one place it is written.
RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Record) if f.metadata.get("exported", True))
# The fields whose change is a change of the published content.
CONTENT_FIELDS: tuple[str, ...] = ("title", "date_text", "updated_text", "summary", "body")
# The bookkeeping stored in the archive only.
STATE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PageState))


def record_row(record: Record) -> dict[str, Any]:
    return {name: getattr(record, name) for name in RECORD_FIELDS}


def record_state(record: Record) -> dict[str, Any]:
    return dict(vars(record.state))
