"""Item pages: each field from the best source there is, and which source that was.

Order for every field: the portal profile's selectors, then structured metadata (JSON-LD,
OpenGraph, `meta` tags, `time[datetime]`), then heuristics (the `h1`, the date line near the
title, "Last updated" lines anywhere, the main text block).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml.etree import _Element
from parsel import Selector

from portalscraper.extract.dates import DATE_TEXT_RE, find_updated_text
from portalscraper.extract.listing import HEADINGS, parse_html
from portalscraper.extract.text import clean_text, drop_boilerplate, fold

_PUBLISHED_RE = re.compile(
    rf"(?:published|publié\s+le|posted\s+on|date)\s*:?\s*({DATE_TEXT_RE.pattern})", re.IGNORECASE
)
_DATE_LINE_RE = re.compile(rf"^\s*({DATE_TEXT_RE.pattern})\s*(?:[|·•]|$)", re.IGNORECASE)
_BLOCKS = ("p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote")


@dataclass
class DetailFields:
    """The fields of an item page, as text, with `provenance[field]` naming each one's source:
    `selector`, `jsonld`, `meta`, `time`, or `heuristic`."""

    title: str = ""
    date_text: str = ""
    updated_text: str = ""
    summary: str = ""
    body: str = ""
    language: str = ""
    provenance: dict[str, str] = field(default_factory=dict)

    def set(self, name: str, value: str, source: str) -> None:
        if value and not getattr(self, name):
            setattr(self, name, value)
            self.provenance[name] = source


def _jsonld(sel: Selector) -> dict[str, Any]:
    """The first JSON-LD object of an article-like type, merged over any graph."""
    for raw in sel.css('script[type="application/ld+json"]::text').getall():
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            continue
        stack: list[Any] = [data]
        while stack:
            node = stack.pop(0)
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                if "@graph" in node:
                    stack.extend(node["@graph"])
                if any(k in node for k in ("headline", "datePublished", "dateModified")):
                    return node
    return {}


def _meta(sel: Selector, *names: str) -> str:
    for name in names:
        value = sel.xpath(f"//meta[@property='{name}' or @name='{name}']/@content").get()
        if value and value.strip():
            return fold(value)
    return ""


def _by_selectors(sel: Selector, selectors: Iterable[str]) -> Selector | None:
    for css in selectors:
        found = sel.css(css)
        if found:
            return found[0]
    return None


def _paragraphs(root: _Element) -> list[str]:
    out = []
    for el in root.iter(*_BLOCKS):
        if any(anc.tag in _BLOCKS for anc in el.iterancestors()):
            continue  # counted with its block
        text = drop_boilerplate(clean_text(el.text_content()))
        if text:
            out.append(text)
    if not out:
        text = drop_boilerplate(clean_text(root.text_content()))
        out = [text] if text else []
    return out


def _main_block(root: _Element) -> _Element | None:
    """The element whose own paragraphs hold the most text: the article body."""
    best: tuple[int, _Element] | None = None
    for el in root.iter("div", "article", "section", "main", "td", "body"):
        score = sum(len(fold(p.text_content())) for p in el if isinstance(p.tag, str) and p.tag == "p")
        if score and (best is None or score > best[0]):
            best = (score, el)
    return best[1] if best else None


def _page_text(root: _Element) -> str:
    """The page's visible text with pieces kept apart (text_content() would glue `2012</div>Body`)."""
    body = root.find(".//body")
    pieces = (t for el in (body if body is not None else root).iter()
              if isinstance(el.tag, str) and el.tag not in ("script", "style", "noscript")
              for t in (el.text, el.tail) if t)
    return fold(" ".join(pieces))


def _title_heuristic(root: _Element) -> str:
    for tag in ("h1", "h2"):
        for h in root.iter(tag):
            text = drop_boilerplate(clean_text(h.text_content()))
            if text:
                return text
    title = root.find(".//title")
    if title is not None:
        text = clean_text(title.text_content())
        return re.split(r"\s+[-|–]\s+", text)[-1] if re.search(r"\s[-|–]\s", text) else text
    return ""


def _texts_after(el: _Element, limit: int = 12) -> list[str]:
    """Text pieces following `el` in document order (its tail, then what comes after)."""
    out: list[str] = []
    started = False
    inside = set(el.iterdescendants())
    for node in el.getroottree().iter():
        if node is el:
            started = True
            if el.tail and el.tail.strip():
                out.append(fold(el.tail))
            continue
        if not started or not isinstance(node.tag, str) or node in inside:
            continue
        for piece in (node.text, node.tail):
            if piece and piece.strip():
                out.append(fold(piece))
        if len(out) >= limit:
            break
    return out


def _date_line(root: _Element, title: str) -> str:
    """The date near the title: the first text after the title heading that starts with a date."""
    heading = next((h for h in root.iter(*HEADINGS) if clean_text(h.text_content()) == title), None)
    if heading is None:
        return ""
    for piece in _texts_after(heading):
        if find_updated_text(piece):
            continue
        if m := _DATE_LINE_RE.match(piece):
            return fold(m.group(1))
    return ""


def extract_detail(
    html: str | bytes | Selector, selectors: Mapping[str, Iterable[str]] | None = None
) -> DetailFields:
    """The title, date text, updated text, summary and body of an item page."""
    sel = html if isinstance(html, Selector) else Selector(text=html if isinstance(html, str) else html.decode())
    selectors = selectors or {}
    out = DetailFields()
    for name in ("title", "date", "updated", "summary"):
        hit = _by_selectors(sel, selectors.get(name, ()))
        if hit is not None:
            text = drop_boilerplate(clean_text(" ".join(hit.css("::text").getall())))
            out.set("date_text" if name == "date" else "updated_text" if name == "updated" else name, text,
                    "selector")
    body_hit = _by_selectors(sel, selectors.get("body", ()))
    if body_hit is not None:
        out.set("body", "\n\n".join(_paragraphs(body_hit.root)), "selector")

    ld = _jsonld(sel)
    out.set("title", clean_text(str(ld.get("headline", ""))), "jsonld")
    out.set("date_text", fold(str(ld.get("datePublished", ""))), "jsonld")
    out.set("updated_text", fold(str(ld.get("dateModified", ""))), "jsonld")
    out.set("summary", clean_text(str(ld.get("description", ""))), "jsonld")
    out.set("title", _meta(sel, "og:title", "dc.title", "DC.title"), "meta")
    out.set("date_text", _meta(sel, "article:published_time", "dc.date", "DC.date", "date", "pubdate"), "meta")
    out.set("updated_text", _meta(sel, "article:modified_time", "og:updated_time", "last-modified"), "meta")
    out.set("summary", _meta(sel, "og:description", "description", "dc.description"), "meta")
    time_attr = sel.css("time[datetime]::attr(datetime)").get()
    if time_attr and not out.date_text:
        out.set("date_text", fold(time_attr), "time")

    root: _Element = sel.root if isinstance(sel.root, _Element) else parse_html(sel.get())
    out.set("title", _title_heuristic(root), "heuristic")
    if not out.date_text:
        out.set("date_text", _date_line(root, out.title), "heuristic")
    text = _page_text(root) if not (out.date_text and out.updated_text) else ""
    if not out.date_text and (m := _PUBLISHED_RE.search(text)):
        out.set("date_text", fold(m.group(1)), "heuristic")
    if not out.updated_text:
        out.set("updated_text", find_updated_text(text) or "", "heuristic")
    if not out.body and (block := _main_block(root)) is not None:
        paras = [p for p in _paragraphs(block) if p not in (out.title, out.date_text) and not find_updated_text(p)]
        out.set("body", "\n\n".join(paras), "heuristic")
    out.language = (root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or "").lower()[:2]
    return out
