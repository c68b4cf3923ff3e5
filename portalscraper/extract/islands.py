"""Data islands: the JSON an application's page carries for its scripts (`__NEXT_DATA__`,
`window.__INITIAL_STATE__ = {...}`, a `dataLayer` push), where an app shell keeps the article's
dates and text when its markup holds neither.

Scripts are removed before a page is read (their text is never the page's), but those that hold
such data are set aside in the page's `head`, where nothing reads them as text, and read here only
when the page's markup and metadata said nothing of a field.
"""

from __future__ import annotations

import json
import re

from lxml.etree import _Element

# Keys of a publication date in applications' state, most specific first.
DATE_KEYS = ("datePublished", "publishedAt", "published_at", "publishDate", "publish_date", "publishedDate",
             "firstPublishedAt", "first_published_at", "publicationDate", "pubDate", "pub_date", "displayDate",
             "dateCreated", "createdAt", "created_at")
# Cheap tests before any pattern: a script without one of these holds none of the keys.
_HINTS = ("ublish", "ubDate", "ub_date", "ateCreated", "reated", "rticleBody", "isplayDate")
_JSON_TYPES = frozenset({"application/json", "text/json"})
_ISLAND_IDS = frozenset({"__NEXT_DATA__", "__NUXT_DATA__", "__APOLLO_STATE__"})
# `"key": "value"`, also inside a JSON text escaped once more as a JavaScript string (`\"key\":\"value\"`).
_DATE_VALUE = re.compile(
    r'\\?"(' + "|".join(DATE_KEYS) + r')\\?"\s*:\s*\\?"([0-9][0-9A-Za-z:.+\-/ ]{7,40})\\?"')
_BODY_VALUE = re.compile(r'\\?"articleBody\\?"\s*:\s*\\?"((?:[^"\\]|\\.){200,})\\?"')
SET_ASIDE = "data-island"


def is_data_island(script: _Element) -> bool:
    """A script whose text is data an article's fields may be read from."""
    if (script.get("type") or "").lower() in _JSON_TYPES or script.get("id") in _ISLAND_IDS:
        return True
    text = script.text or ""
    return any(hint in text for hint in _HINTS)


def set_aside(script: _Element, root: _Element) -> None:
    """Move a data island into the page's head (its tail text stays where it was)."""
    head = root.find("head")
    if head is None:
        script.drop_tree()
        return
    tail, script.tail = script.tail, None
    previous, parent = script.getprevious(), script.getparent()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        elif parent is not None:
            parent.text = (parent.text or "") + tail
    script.set(SET_ASIDE, "")
    head.append(script)


def _islands(root: _Element) -> list[str]:
    head = root.find("head")
    if head is None:
        return []
    return [s.text for s in head.iterchildren("script") if s.get(SET_ASIDE) is not None and s.text]


def island_date(root: _Element) -> str:
    """The publication date a data island gives, by the most specific key found; or ''."""
    best: tuple[int, str] | None = None
    for text in _islands(root):
        for m in _DATE_VALUE.finditer(text):
            rank = DATE_KEYS.index(m.group(1))
            if best is None or rank < best[0]:
                best = (rank, m.group(2))
                if rank == 0:
                    return best[1]
    return best[1] if best else ""


def island_body(root: _Element) -> str:
    """The longest `articleBody` a data island gives, as text (it may hold markup); or ''."""
    found = ""
    for text in _islands(root):
        for m in _BODY_VALUE.finditer(text):
            raw = m.group(1)
            if raw.startswith("\\\\") or "\\\\\"" in raw:
                raw = raw.replace("\\\\", "\\")  # escaped once more, as a JavaScript string
            try:
                value = json.loads(f'"{raw}"')
            except ValueError:
                continue
            if isinstance(value, str) and len(value) > len(found):
                found = value
    return found
