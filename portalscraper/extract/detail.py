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
from functools import lru_cache
from itertools import zip_longest
from typing import Any

from lxml import etree
from lxml.etree import _Element
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

from portalscraper.extract.dates import DATE_TEXT_RE, WEEKDAY, find_updated_text
from portalscraper.extract.listing import HEADINGS, drop_scripts, parse_html, repair_markup
from portalscraper.extract.text import clean_text, drop_boilerplate, fold

_PUBLISHED_RE = re.compile(
    rf"(?:published|publié\s+le|posted\s+on|date)\s*:?\s*({DATE_TEXT_RE.pattern})", re.IGNORECASE
)
# A date line: the date first (after an optional "BRUSSELS," dateline place or a weekday), then
# nothing, a separator, or the dash of a press release's dateline.
_DATE_LINE_RE = re.compile(
    rf"^\s*(?:[A-Z][\w.'’\- ]{{1,40}},\s*)?{WEEKDAY}({DATE_TEXT_RE.pattern})\s*(?:[|·•–—]|-\s|$)", re.IGNORECASE)


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


def _meta_tags(sel: Selector) -> dict[str, str]:
    """Every `meta` tag's content by its property or name (lower case; the first of each wins)."""
    tags: dict[str, str] = {}
    for el in sel.root.iter("meta"):
        key = (el.get("property") or el.get("name") or "").strip().lower()
        content = el.get("content")
        if key and content and content.strip() and key not in tags:
            tags[key] = fold(content)
    return tags


def _meta(tags: dict[str, str], *names: str) -> str:
    return next((tags[name] for name in names if name in tags), "")


@lru_cache(maxsize=256)
def _compiled(css: str) -> etree.XPath:
    """A profile's CSS selector as compiled XPath, once per process."""
    return etree.XPath(HTMLTranslator().css_to_xpath(css))


def _by_selectors(root: _Element, selectors: Iterable[str]) -> _Element | None:
    for css in selectors:
        found = _compiled(css)(root)
        if found and isinstance(found, list) and isinstance(found[0], _Element):
            return found[0]
    return None


_BLOCK_TAGS = frozenset({"p", "div", "li", "blockquote", "h2", "h3", "h4", "h5", "h6", "td", "section", "article",
                         "table", "tr", "ul", "ol", "dl", "dd", "dt", "pre", "header", "footer", "aside", "nav",
                         "form", "figure", "main", "center"})
_NOT_CONTENT = frozenset({"script", "style", "noscript", "template", "head", "nav", "select", "button", "form",
                          "iframe", "svg"})
_LEAD_CLASS = re.compile(r"lead|intro|summary|teaser|standfirst|abstract|chapeau|deck|excerpt", re.I)
_FONT_SIZE = re.compile(r"font-size\s*:\s*(\d+(?:\.\d+)?)\s*(px|pt|em|rem)", re.I)
_TITLE_SEPARATORS = re.compile(r"\s+[-|–—:]\s+|\s*[|–—]\s*")


def _is_block(el: _Element) -> bool:
    return isinstance(el.tag, str) and el.tag in _BLOCK_TAGS


def _linked_or_hidden(el: _Element) -> bool:
    return any(isinstance(a.tag, str) and a.tag in ("a", *_NOT_CONTENT) for a in (el, *el.iterancestors()))


def _block_paragraphs(block: _Element) -> list[str]:
    """A block's paragraphs: each block child is one (or more), inline runs are split at <br><br>."""
    out: list[str] = []
    run: list[str] = []
    breaks = 0

    def end_run() -> None:
        text = drop_boilerplate(clean_text(" ".join(run)))
        if text:
            out.append(text)
        run.clear()

    if block.text and block.text.strip():
        run.append(block.text)
    for child in block:
        if not isinstance(child.tag, str) or child.tag in _NOT_CONTENT:
            pass
        elif child.tag == "br":
            breaks += 1
            if breaks >= 2:
                end_run()
        elif _is_block(child):
            end_run()
            if not _mostly_links(child):  # menus, related items, footers
                out.extend(_block_paragraphs(child))
        else:
            if child.tag == "a" and not run:
                pass  # a bare link between blocks is navigation
            else:
                run.append(child.text_content())
        if child.tail and child.tail.strip():
            run.append(child.tail)
            breaks = 0
        elif isinstance(child.tag, str) and child.tag != "br":
            breaks = 0
    end_run()
    return out


def _mostly_links(el: _Element) -> bool:
    if next(el.iter("a"), None) is None:
        return False
    text = len(fold(el.text_content()))
    linked = sum(len(fold(a.text_content())) for a in el.iter("a"))
    return text > 0 and linked >= text / 2


def _is_body_paragraph(text: str, title: str, date_text: str) -> bool:
    """Not the title or date line again, not a "Last updated" line."""
    folded = fold(text)
    if folded in (fold(title), fold(date_text)) or _DATE_LINE_RE.fullmatch(folded):
        return False
    return not (len(folded) < 100 and find_updated_text(folded))


def _own_text_weight(el: _Element) -> int:
    """How much running text an element holds itself: its paragraph-like children and its own
    inline text (text split by <br>s), not what deeper containers hold."""
    weight = len(fold(el.text or "")) if el.text else 0
    for child in el:
        if not isinstance(child.tag, str):
            continue
        if child.tag in _NOT_CONTENT or child.tag == "a":
            pass
        elif child.tag in ("p", "blockquote") or (child.tag == "div" and not any(_is_block(g) for g in child)):
            text = fold(child.text_content())
            links = sum(len(fold(a.text_content())) for a in child.iter("a"))
            if len(text) >= 40 and links < len(text) / 2:
                weight += len(text)
        elif not _is_block(child):
            weight += len(fold(child.text_content()))
        if child.tail:
            weight += len(fold(child.tail))
    return weight


def _main_block(root: _Element) -> _Element | None:
    """The element holding the most running text of its own: the article body."""
    best: tuple[int, _Element] | None = None
    for el in root.iter("div", "article", "section", "main", "td", "font", "body", "span"):
        if _linked_or_hidden(el):
            continue
        weight = _own_text_weight(el)
        if weight and (best is None or weight > best[0]):
            best = (weight, el)
    return best[1] if best else None


def _page_text(root: _Element) -> str:
    """The page's visible text with pieces kept apart (text_content() would glue `2012</div>Body`)."""
    body = root.find(".//body")
    pieces = (t for el in (body if body is not None else root).iter()
              if isinstance(el.tag, str) and el.tag not in ("script", "style", "noscript")
              for t in (el.text, el.tail) if t)
    return fold(" ".join(pieces))


def _prominence(el: _Element) -> int:
    """How much an element looks like a page's headline: heading level, font size, bold."""
    heading_scores = {"h1": 100, "h2": 80, "h3": 60, "h4": 40}
    if el.tag in heading_scores:
        return heading_scores[el.tag]
    score = 0
    for node in (el, *el.iterdescendants()):
        if not isinstance(node.tag, str):
            continue
        size = node.get("size", "")
        if node.tag == "font" and size:
            try:
                number = int(size.lstrip("+")) + (3 if size.startswith("+") else 0)
            except ValueError:
                number = 0
            score = max(score, 15 * number)
        if m := _FONT_SIZE.search(node.get("style", "")):
            px = float(m[1]) * {"px": 1.0, "pt": 1.33, "em": 16.0, "rem": 16.0}[m[2].lower()]
            score = max(score, int(px * 3))
        if node.tag in ("b", "strong") and fold(node.text_content()) == fold(el.text_content()):
            score += 10
    klass = f"{el.get('class', '')} {el.get('id', '')}".lower()
    if re.search(r"title|headline|heading", klass):
        score += 40
    return score


def _title_heuristic(root: _Element) -> str:
    """The headline: the visible text that the <title> repeats, else the most prominent text near
    the top, else the first h1/h2, else the longest part of the <title>."""
    title_el = root.find(".//title")
    page_title = fold(title_el.text_content()) if title_el is not None else ""
    body = root.find(".//body")
    candidates: list[tuple[int, int, str]] = []  # (score, -position, text)
    for n, el in enumerate((body if body is not None else root).iter()):
        if not isinstance(el.tag, str) or el.tag in ("a", "li", "title", "option") or _linked_or_hidden(el):
            continue
        if el.tag not in HEADINGS and not any(isinstance(c.tag, str) for c in el) and el.tag not in (
                "b", "strong", "font", "div", "span", "p", "td"):
            continue
        text = drop_boilerplate(clean_text(el.text_content()))
        heading = el.tag in HEADINGS
        if not (2 if heading else 8) <= len(text) <= 250 or (not heading and len(text.split()) < 2) \
                or DATE_TEXT_RE.fullmatch(text):
            continue
        if not heading and any(_is_block(c) for c in el):
            continue  # a container, not a headline
        if sum(len(fold(a.text_content())) for a in el.iter("a")) >= len(text):
            continue  # all link: a logo or a site name, not the page's headline
        in_title = bool(page_title) and fold(text) in page_title
        score = _prominence(el) + (200 + 100 * len(text) // len(page_title) if in_title else 0)
        if score:
            candidates.append((score, -n, text))
    if candidates:
        return max(candidates)[2]
    if page_title:
        parts = [p for p in _TITLE_SEPARATORS.split(page_title) if p]
        return max(parts, key=len) if parts else page_title
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


def _title_element(root: _Element, title: str) -> _Element | None:
    """The innermost visible element whose text is the title."""
    wanted = fold(title)
    found = None
    body = root.find(".//body")
    for el in (body if body is not None else root).iter():
        if isinstance(el.tag, str) and el.tag not in ("title", "script", "style") and \
                fold(el.text_content()) == wanted:
            found = el  # keep descending: the innermost match comes last in document order
        elif found is not None and el not in set(found.iterdescendants()):
            break
    return found


def _texts_before(el: _Element, limit: int = 6) -> list[str]:
    """Text pieces before `el` in document order, nearest first."""
    pieces: list[str] = []
    for node in el.getroottree().iter():
        if node is el:
            break
        if not isinstance(node.tag, str) or node.tag in ("script", "style", "title", "head"):
            continue
        if el in set(node.iterdescendants()):
            if node.text and node.text.strip():
                pieces.append(fold(node.text))
            continue
        for piece in (node.text, node.tail):
            if piece and piece.strip():
                pieces.append(fold(piece))
    return pieces[::-1][:limit]


def _date_line(title_el: _Element | None) -> str:
    """The date near the title: the first text after the title that starts with a date, else the
    nearest one before it (a kicker line above the headline)."""
    if title_el is None:
        return ""
    after: list[str] = []
    for piece in _texts_after(title_el):
        after.append(piece)
        if sum(len(p) > 150 for p in after) >= 2:
            break  # into the body: a date past its start is some other item's
    before = _texts_before(title_el)
    nearest_first = [p for pair in zip_longest(after, before) for p in pair if p is not None]
    for piece in nearest_first:
        if find_updated_text(piece):
            continue
        if m := _DATE_LINE_RE.match(piece):
            return fold(m.group(1))
    return ""


def _lead(root: _Element, title_el: _Element | None) -> str:
    """A lead paragraph: a block classed as one (lead, intro, teaser...), or a paragraph that is
    all bold or italic, after the title."""
    after_title = title_el is None
    inside_title = set(title_el.iter()) if title_el is not None else set()
    for el in root.iter():
        if not after_title:
            after_title = el is title_el
            continue
        if el in inside_title or not isinstance(el.tag, str) or el.tag not in ("p", "div", "span", "td", "h2",
                                                                               "h3", "h4"):
            continue
        if _linked_or_hidden(el):
            continue
        text = drop_boilerplate(clean_text(el.text_content()))
        if not 40 <= len(text) <= 700 or any(_is_block(c) for c in el):
            continue
        parent = el.getparent()
        only_child = parent is not None and len([c for c in parent if isinstance(c.tag, str)]) == 1
        classes = f"{el.get('class', '')} {el.get('id', '')}"
        if only_child and parent is not None:
            classes += f" {parent.get('class', '')} {parent.get('id', '')}"
        if _LEAD_CLASS.search(classes):
            return text
        children = [c for c in el if isinstance(c.tag, str)]
        if el.tag == "p" and len(children) == 1 and children[0].tag in ("strong", "b", "em", "i") \
                and fold(children[0].text_content()) == fold(text):
            return text
    return ""


def extract_detail(
    html: str | bytes | Selector, selectors: Mapping[str, Iterable[str]] | None = None
) -> DetailFields:
    """The title, date text, updated text, summary and body of an item page."""
    if not isinstance(html, Selector):
        text = html if isinstance(html, str) else html.decode("utf-8", "replace")
        html = Selector(text=repair_markup(text), type="html")
        drop_scripts(html.root)
    sel = html
    selectors = selectors or {}
    out = DetailFields()
    page: _Element = sel.root
    for name in ("title", "date", "updated", "summary"):
        hit = _by_selectors(page, selectors.get(name, ()))
        if hit is not None:
            text = drop_boilerplate(clean_text(" ".join(hit.itertext())))
            out.set("date_text" if name == "date" else "updated_text" if name == "updated" else name, text,
                    "selector")
    body_hit = _by_selectors(page, selectors.get("body", ()))
    if body_hit is not None:
        paras = [p for p in _block_paragraphs(body_hit) if _is_body_paragraph(p, out.title, out.date_text)]
        out.set("body", "\n\n".join(paras), "selector")

    ld = _jsonld(sel)
    out.set("title", clean_text(str(ld.get("headline", ""))), "jsonld")
    out.set("date_text", fold(str(ld.get("datePublished", ""))), "jsonld")
    out.set("updated_text", fold(str(ld.get("dateModified", ""))), "jsonld")
    out.set("summary", clean_text(str(ld.get("description", ""))), "jsonld")
    tags = _meta_tags(sel)
    out.set("title", _meta(tags, "og:title", "dc.title"), "meta")
    out.set("date_text", _meta(tags, "article:published_time", "dc.date", "date", "pubdate"), "meta")
    out.set("updated_text", _meta(tags, "article:modified_time", "og:updated_time", "last-modified"), "meta")
    out.set("summary", _meta(tags, "og:description", "description", "dc.description"), "meta")
    time_attr = sel.css("time[datetime]::attr(datetime)").get()
    if time_attr and not out.date_text:
        out.set("date_text", fold(time_attr), "time")

    root: _Element = sel.root if isinstance(sel.root, _Element) else parse_html(sel.get())
    if not out.title:
        out.set("title", _title_heuristic(root), "heuristic")
    title_el = _title_element(root, out.title) if out.title and not (out.date_text and out.summary) else None
    if not out.date_text:
        out.set("date_text", _date_line(title_el), "heuristic")
    text = _page_text(root) if not (out.date_text and out.updated_text) else ""
    if not out.date_text and (m := _PUBLISHED_RE.search(text)):
        out.set("date_text", fold(m.group(1)), "heuristic")
    if not out.updated_text:
        out.set("updated_text", find_updated_text(text) or "", "heuristic")
    if not out.summary:
        out.set("summary", _lead(root, title_el), "heuristic")
    if not out.body and (block := _main_block(root)) is not None:
        paras = [p for p in _block_paragraphs(block) if _is_body_paragraph(p, out.title, out.date_text)]
        out.set("body", "\n\n".join(paras), "heuristic")
    out.language = (root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or "").lower()[:2]
    return out
