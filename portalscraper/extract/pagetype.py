"""Whether a page is an item, a listing or neither, from the page's own evidence (pure).

An item page says so in its metadata (`og:type` article, a JSON-LD `NewsArticle`, `BlogPosting`,
`Report`...), or shows it: running text under its headline, more of it than any list of entries
on the page holds. Dated links are no evidence: a related-items sidebar on an article names
items, it does not make the article a listing. A page without an item's evidence that holds two
entries or more is a listing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml.etree import _Element

from portalscraper.extract import metadata as md
from portalscraper.extract.listing import ListingEntry
from portalscraper.extract.text import fold

ITEM, LISTING, PAGE = "item", "listing", "page"
# Running text that makes an article: a few paragraphs' worth.
RUNNING_TEXT = 400
_PROSE_MIN = 80  # a block of running text: a sentence or more, not a label or a menu
# The longest teaser a listing entry has; an "entry" with more is a link inside running text.
TEASER_MAX = 600
_NOT_RUNNING = frozenset({"a", "nav", "header", "footer", "aside", "form", "button", "select", "option", "script",
                          "style", "noscript", "template", "head", "title", "h1", "h2", "h3", "h4", "h5", "h6",
                          "figcaption", "time", "label", "table"})
_BLOCKS = frozenset({"p", "div", "section", "article", "main", "td", "li", "dd", "blockquote"})
_ARTICLE_OG = ("article", "news", "blog", "newsarticle")
_LISTING_TYPES = frozenset({"collectionpage", "itemlist", "searchresultspage", "blog"})


@dataclass(frozen=True)
class PageType:
    kind: str  # item, listing or page
    reason: str  # the evidence, for the log


def _metadata_kind(root: _Element) -> tuple[str, str] | None:
    og = md.meta_tags(root).get("ogtype", "").lower()
    if og.startswith(_ARTICLE_OG):
        return ITEM, f"og:type {og}"
    scripts = [s.text or "" for s in root.iter("script") if (s.get("type") or "").lower() == "application/ld+json"]
    if scripts:
        node = md.jsonld_article(scripts)
        kinds = node.get("@type") if node else None
        names = {str(k).rsplit("/", 1)[-1].lower() for k in (kinds if isinstance(kinds, list) else [kinds]) if k}
        if names & (md.ARTICLE_TYPES - {"creativework"}):
            return ITEM, f"JSON-LD @type {', '.join(sorted(names))}"
        if names & _LISTING_TYPES:
            return LISTING, f"JSON-LD @type {', '.join(sorted(names))}"
    return None


def _outside(el: _Element) -> bool:
    return any(isinstance(node.tag, str) and node.tag in _NOT_RUNNING for node in (el, *el.iterancestors()))


def running_text(root: _Element, listed: Iterable[str] = ()) -> int:
    """Characters of running text on the page: blocks whose own text (not that of blocks inside
    them) reads as prose, outside links, navigation, headers, footers, asides and tables, and not
    the title or teaser of a listed entry (`listed`)."""
    listed_texts = [fold(t).lower() for t in listed if t and len(t) >= 20]
    total = 0
    body = root.find(".//body")
    for el in (body if body is not None else root).iter(*_BLOCKS):
        if _outside(el):
            continue
        own = [el.text or ""]
        for child in el:
            if isinstance(child.tag, str) and child.tag not in _BLOCKS and child.tag not in _NOT_RUNNING:
                own.append("".join(child.itertext()))
            own.append(child.tail or "")
        text = fold("".join(own))
        if len(text) < _PROSE_MIN or not any(ch in text for ch in ".!?;:"):
            continue
        lowered = text.lower()
        if any(lowered in t or t in lowered for t in listed_texts):
            continue
        total += len(text)
    return total


def page_type(root: _Element, entries: list[ListingEntry], item_template: bool = False) -> PageType:
    """What the page is, and why. `entries` are the listing entries found on it; `item_template`
    says its URL has the shape of the site's items."""
    entries = [e for e in entries if len(e.summary) <= TEASER_MAX]  # a tag's link in an article is no entry
    listed = [t for e in entries for t in (e.title, e.summary)]
    running = running_text(root, listed)
    listed_chars = sum(len(t) for t in listed)
    meta = _metadata_kind(root)
    if running >= RUNNING_TEXT and running >= listed_chars:
        return PageType(ITEM, f"{running} characters of running text" + (f", {meta[1]}" if meta else ""))
    if meta is not None and meta[0] == ITEM and not (len(entries) >= 3 and running < _PROSE_MIN):
        return PageType(ITEM, meta[1])
    if len(entries) >= 2:
        return PageType(LISTING, f"{len(entries)} entries" + (f", {meta[1]}" if meta else ""))
    if item_template and running >= _PROSE_MIN:
        return PageType(ITEM, f"the site's item URL template, {running} characters of running text")
    return PageType(PAGE, f"{running} characters of running text, {len(entries)} entries")
