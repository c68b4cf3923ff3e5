"""Atom feeds of an archive: records new, changed (and what changed) and gone from the portal.

Pure functions over the rows of the feed queries (portalscraper.serve.config.FEEDS), as the archive gives
them (no Datasette, no Scrapy): `portalscraper serve` renders them as `<query>.atom`, and they are
tested as text. An entry's id is its record's id and version (`entry_id`), the same in every crawl
after the one that made it, so a feed reader shows each new record, change or removal once.
"""

from __future__ import annotations

import datetime as dt
import difflib
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

ATOM = "http://www.w3.org/2005/Atom"
# Schemes of an entry's categories: the listing block the record is in, and each field that changed.
SECTION_SCHEME = "urn:portalscraper:section"
CHANGED_SCHEME = "urn:portalscraper:changed"
# What each kind of feed holds.
TITLES = {"new": "New records", "changed": "Changed records", "gone": "Records gone from the portal"}
# The published content fields (items.CONTENT_FIELDS), as a reader names them.
FIELD_LABELS = {"title": "title", "date_text": "date", "updated_text": "last updated", "summary": "summary",
                "body": "body"}
# A changed body is shown as its changed passages, each with this many words around it, at most
# `_PASSAGES` passages of at most `_PASSAGE_WORDS` removed or added words each (see body_changes).
_CONTEXT_WORDS = 8
_MIN_SAME = 3
_PASSAGES = 6
_PASSAGE_WORDS = 60


@dataclass(frozen=True)
class Links:
    """Where an entry points, besides the item's own URL: pages of the served archive (absolute URLs)."""

    record: str  # the record's page
    history: str  # its current and earlier versions
    crawl: str  # the crawl that saw the entry's change


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    updated: str  # RFC 3339
    link: str  # rel="alternate": the record's page in the archive, which outlives the portal's page
    item_url: str  # rel="related": the item's own URL on the portal
    categories: tuple[tuple[str, str], ...]  # (scheme, term)
    content: str  # HTML


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    self_url: str  # the feed's own URL
    page_url: str  # the same rows as a page of the served archive
    updated: str  # RFC 3339: used when the feed has no entries (its entries' latest otherwise)


def entry_id(record_id: str, version: int, gone_in_crawl: int | None = None) -> str:
    """A stable id: the record's id and version (1: as first archived; each change adds one); a removal
    also names the crawl that found the record gone (a record can come back and go again)."""
    base = f"urn:portalscraper:record:{record_id}:v{version}"
    return base if gone_in_crawl is None else f"{base}:gone:{gone_in_crawl}"


def entry(kind: str, row: Mapping[str, Any], links: Links) -> Entry:
    """The feed entry of a row of the `kind` feed: "new", "changed" or "gone"."""
    try:
        make = _ENTRIES[kind]
    except KeyError:
        raise ValueError(f"no feed of {kind!r} records: use one of {', '.join(_ENTRIES)}") from None
    return make(row, links)


def new_entry(row: Mapping[str, Any], links: Links) -> Entry:
    when = _when(row["seen"])
    content = _about(row) + _links(row, links, f"First archived by {_crawl(row, links)} on {when}.")
    return Entry(entry_id(row["record_id"], int(row["version"])), row["title"] or row["url"], _rfc3339(row["seen"]),
                 links.record, row["url"], _section(row), content)


def changed_entry(row: Mapping[str, Any], links: Links) -> Entry:
    fields = [name for name in (row["changed"] or "").split(", ") if name]
    named = ", ".join(FIELD_LABELS.get(name, name) for name in fields) or "its content hash only"
    parts = [f"<p>Changed: {escape(named)}. Seen by {_crawl(row, links)} on {escape(_when(row['seen']))}.</p>"]
    shown = []
    for name in fields:
        before, after = row[f"before_{name}"] or "", row[name] or ""
        if name == "body":
            passages = body_changes(before, after)
            shown.append(f"<dt>Body</dt><dd>{''.join(f'<p>{p}</p>' for p in passages)}</dd>")
        else:
            shown.append(f"<dt>{escape(FIELD_LABELS.get(name, name).capitalize())}</dt>"
                         f"<dd><del>{escape(before) or '(none)'}</del><br/><ins>{escape(after) or '(none)'}</ins></dd>")
    if shown:
        parts.append("<dl>" + "".join(shown) + "</dl>")
    parts.append(_links(row, links, f'<a href="{escape(links.history)}">Every version</a>.'))
    title = f"{row['title'] or row['url']} (changed: {named})"
    categories = _section(row) + tuple((CHANGED_SCHEME, name) for name in fields)
    return Entry(entry_id(row["record_id"], int(row["version"])), title, _rfc3339(row["seen"]), links.record,
                 row["url"], categories, "".join(parts))


def gone_entry(row: Mapping[str, Any], links: Links) -> Entry:
    note = (f"<p>Gone: not listed in {_crawl(row, links)}'s complete pass of the portal on "
            f"{escape(_when(row['seen']))}; last seen on {escape(_when(row['last_seen']))}. "
            "The archive keeps the record.</p>")
    return Entry(entry_id(row["record_id"], int(row["version"]), int(row["crawl_id"])),
                 f"Gone: {row['title'] or row['url']}", _rfc3339(row["seen"]), links.record, row["url"],
                 _section(row), note + _about(row) + _links(row, links, ""))


_ENTRIES = {"new": new_entry, "changed": changed_entry, "gone": gone_entry}


def body_changes(before: str, after: str) -> list[str]:
    """The changed passages of a text, word by word, as HTML: removed words in <del>, added ones in
    <ins>, a few unchanged words around them. Runs of fewer than `_MIN_SAME` words in common between
    two changes belong to the change (a rewritten sentence reads as one), and so does everything in a
    text rewritten through (less than half its words kept)."""
    segments = _segments(before.split(), after.split())
    if all(same for same, _, _ in segments):
        return []
    passages: list[str] = []
    pieces: list[str] = []
    context = _CONTEXT_WORDS
    for k, (same, old, new) in enumerate(segments):
        if not same:
            pieces += [f"<{tag}>{escape(_words(words))}</{tag}>" for tag, words in (("del", old), ("ins", new))
                       if words]
        elif k == 0:
            pieces.append(("… " if len(old) > context else "") + escape(" ".join(old[-context:])))
        elif k == len(segments) - 1:
            pieces.append(escape(" ".join(old[:context])) + (" …" if len(old) > context else ""))
        elif len(old) <= 2 * context:
            pieces.append(escape(" ".join(old)))
        else:
            passages.append(" ".join([*pieces, escape(" ".join(old[:context])) + " …"]))
            pieces = ["… " + escape(" ".join(old[-context:]))]
    passages.append(" ".join(pieces))
    if len(passages) > _PASSAGES:
        more = len(passages) - _PASSAGES
        passages = [*passages[:_PASSAGES], f"({more} more changed passage{'s' * (more != 1)})"]
    return passages


def _segments(old: list[str], new: list[str]) -> list[tuple[bool, list[str], list[str]]]:
    """The two texts as alternating runs of words in common (True) and changes (False, the words
    removed and added)."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    if matcher.ratio() < 0.5:
        return [(False, old, new)]
    out: list[tuple[bool, list[str], list[str]]] = []
    opcodes = matcher.get_opcodes()
    for k, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        same = tag == "equal" and not (i2 - i1 < _MIN_SAME and 0 < k < len(opcodes) - 1)
        if not same and out and not out[-1][0]:
            out[-1] = (False, out[-1][1] + old[i1:i2], out[-1][2] + new[j1:j2])
        else:
            out.append((same, old[i1:i2], new[j1:j2]))
    return out


def document(feed: Feed, entries: Sequence[Entry]) -> bytes:
    """The Atom 1.0 document (RFC 4287) of a feed, UTF-8."""
    root = ET.Element("feed", xmlns=ATOM)  # the default namespace, so that names need no prefix
    _text(root, "id", feed.id)
    _text(root, "title", feed.title)
    _text(root, "updated", max((e.updated for e in entries), default=feed.updated))
    ET.SubElement(ET.SubElement(root, "author"), "name").text = "portalscraper"
    _text(root, "generator", "portalscraper")
    ET.SubElement(root, "link", rel="self", type="application/atom+xml", href=feed.self_url)
    ET.SubElement(root, "link", rel="alternate", type="text/html", href=feed.page_url)
    for item in entries:
        node = ET.SubElement(root, "entry")
        _text(node, "id", item.id)
        _text(node, "title", item.title)
        _text(node, "updated", item.updated)
        ET.SubElement(node, "link", rel="alternate", type="text/html", href=item.link,
                      title="In the archive")
        ET.SubElement(node, "link", rel="related", type="text/html", href=item.item_url,
                      title="On the portal")
        for scheme, term in item.categories:
            ET.SubElement(node, "category", scheme=scheme, term=term)
        _text(node, "content", item.content).set("type", "html")
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def feed_title(kind: str, database: str, filters: Iterable[tuple[str, str]]) -> str:
    """The feed's title: what its entries are, then the filters it was asked with (("q", "cyber"))."""
    said = {"q": "matching {!r}", "section": "in {}"}
    shown = [said[name].format(value) for name, value in filters if value and name in said]
    return f"{TITLES[kind]}{' ' if shown else ''}{', '.join(shown)}: {database}"


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    node = ET.SubElement(parent, tag)
    node.text = text
    return node


def _about(row: Mapping[str, Any]) -> str:
    said = " · ".join(escape(row[name]) for name in ("date_text", "section") if row[name])
    summary = f"<p>{escape(row['summary'])}</p>" if row["summary"] else ""
    return (f"<p>{said}</p>" if said else "") + summary


def _links(row: Mapping[str, Any], links: Links, more: str) -> str:
    return (f'<p><a href="{escape(links.record)}">In the archive</a> · <a href="{escape(row["url"])}">On the portal'
            f"</a>{' · ' if more else ''}{more}</p>")


def _crawl(row: Mapping[str, Any], links: Links) -> str:
    return f'<a href="{escape(links.crawl)}">crawl {escape(str(row["crawl_id"]))}</a>'


def _section(row: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return ((SECTION_SCHEME, row["section"]),) if row["section"] else ()


def _words(words: list[str]) -> str:
    if len(words) <= _PASSAGE_WORDS:
        return " ".join(words)
    return " ".join(words[:_PASSAGE_WORDS]) + f" … ({len(words) - _PASSAGE_WORDS} words more)"


def _moment(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def _rfc3339(text: str) -> str:
    return _moment(text).isoformat(timespec="seconds")


def _when(text: str | None) -> str:
    if not text:
        return "an unknown date"
    return _moment(text).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
