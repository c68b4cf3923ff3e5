"""One record from an item's listing entry and its page: the merge, as a pure function."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from portalscraper.extract.listing import ListingEntry
from portalscraper.extract.text import fold
from portalscraper.items import Record, utc_now

# The texts a listing entry and an item page may both give; the listing's wins.
MERGED = ("title", "date_text", "summary", "updated_text", "body")


def listing_hash(texts: Iterable[str | None]) -> str:
    """A short hash of a listing entry's texts, whitespace-folded."""
    digest = hashlib.sha1()
    for text in texts:
        digest.update(fold(text or "").encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:20]


def entry_hash(entry: ListingEntry) -> str:
    return listing_hash((entry.title, entry.date_text, entry.summary))


def cut_version(listed: str, headline: str | None) -> bool:
    """A listing's title that is the page's headline cut short ("Record number of applications
    for…", or a prefix of it): the page's full headline is the item's title."""
    if not headline:
        return False
    stem = listed.rstrip().removesuffix("…").removesuffix("...").rstrip(" ,;:-–—")
    return len(headline) > len(stem) and fold(headline).lower().startswith(fold(stem).lower()) and (
        listed.rstrip().endswith(("…", "...")) or len(stem) >= 20)


@dataclass(frozen=True)
class Identity:
    """Who a record is, whatever its texts: worked out by the spider from the item's URL."""

    id: str
    portal: str
    kind: str
    url: str  # canonical
    language: str | None  # from the URL, by the profile's rules
    section: str | None
    source_url: str
    crawl_language: str = ""  # the crawl's: for an item whose URL and page say none


def merge(identity: Identity, listing: Mapping[str, Any], detail: Mapping[str, Any] | None,
          site_title: str = "") -> Record:
    """The record of an item, field by field: its listing entry's text first, then its page's
    (`detail`: the extracted fields with their `provenance`), each with where it came from. A
    title that is only the site's name (`site_title`) found by a heuristic is no title."""
    detail = detail or {}
    provenance: dict[str, str] = {}
    merged: dict[str, Any] = {}
    for name in MERGED:
        if listing.get(name) and not (name == "title" and cut_version(listing[name], detail.get("title"))):
            merged[name], provenance[name] = listing[name], "listing"
        elif detail.get(name):
            merged[name], provenance[name] = detail[name], (detail.get("provenance") or {}).get(name, "page")
    site = fold(site_title).lower()
    if provenance.get("title") == "heuristic" and site and fold(merged["title"]).lower() in site:
        del merged["title"], provenance["title"]  # the site's name from <title>: the item has none
    return Record(
        id=identity.id, portal=identity.portal, section=identity.section, kind=identity.kind, url=identity.url,
        language=identity.language or detail.get("language") or identity.crawl_language or None,
        source_url=identity.source_url, fetched_at=utc_now() if detail else None,
        provenance=provenance, **merged,
    )
