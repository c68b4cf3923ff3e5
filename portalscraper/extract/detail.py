"""Item pages: each field from the best source there is, and which source that was.

Order for every field: the portal profile's selectors, then the page's own structure and
metadata, then heuristics. Title: the visible headline that a metadata title starts with, then
metadata titles without the site's name (`headline`), then the most prominent text. Dates: the
article's JSON-LD, `meta` tags of many spellings, microdata, the `time[datetime]` nearest the
headline outside comments and sidebars, the date line next to the headline, a labelled date
anywhere ("Published", "Veröffentlicht", "Mise en ligne"). Body: the block of running text
(`body`), rendered as a browser shows it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice, zip_longest

from lxml import etree
from lxml.etree import _Element
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

from portalscraper.extract import metadata as md
from portalscraper.extract.body import (
    Layout,
    body_paragraphs,
    is_off,
    lead_paragraphs,
    main_block,
    render_paragraphs,
)
from portalscraper.extract.dates import (
    DATE_TEXT_RE,
    PUBLISHED_LINE_RE,
    WEEKDAY,
    find_date_text,
    find_updated_text,
    instant,
    parse_date_range,
)
from portalscraper.extract.headline import (
    displayed_headline,
    headline_element,
    prominent_headline,
    strip_site_name,
)
from portalscraper.extract.islands import island_body, island_date
from portalscraper.extract.lexicon import PUBLISHED_LABELS, WEEKDAY_WORDS, alternation
from portalscraper.extract.listing import parse_html
from portalscraper.extract.text import ClassWords, clean_markup, clean_text, drop_boilerplate, fold
from portalscraper.extract.tree import Uncollected, parse_tree
from portalscraper.extract.vocabulary import HEADLINE_BLOCKS as BLOCKS
from portalscraper.extract.vocabulary import NOT_CONTENT as _NOT_CONTENT

# A date line: the date first (after an optional label, a "BRUSSELS," dateline place or a
# weekday), then nothing, a separator, or the dash of a press release's dateline.
_DATE_LINE_RE = re.compile(
    rf"^\s*(?:{alternation(PUBLISHED_LABELS)}(?:\s+(?:on|am|le|el|il|em|op))?\s*:?\s*)?"
    rf"(?:[A-Z][\w.'’\- ]{{1,40}},\s*)?{WEEKDAY}({DATE_TEXT_RE.pattern})\s*(?:{alternation(WEEKDAY_WORDS)}\.?\s*)?"
    r"(?:[|·•–—,]|-\s|$)", re.IGNORECASE)
_LEAD_CLASS = re.compile(r"lead|intro|summary|teaser|standfirst|abstract|chapeau|deck|excerpt", re.I)


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


# A selector led by an id and a descendant combinator ("#content .text"): the id, and what is below it.
_ID_LED = re.compile(r"#(-?[A-Za-z_][\w-]*)\s+([^\s,>+~][^,]*)")


@lru_cache(maxsize=256)
def _compiled(css: str) -> tuple[str | None, etree.XPath]:
    """A profile's CSS selector as compiled XPath, once per process. One led by an id ("#content
    h1", how most profiles anchor theirs) is the id and the XPath of the rest below that element:
    its XPath whole reads every element of the page for the id, once per selector tried."""
    css = css.strip()
    led = _ID_LED.fullmatch(css)
    if led:
        return led[1], etree.XPath(HTMLTranslator().css_to_xpath(led[2], prefix="descendant::"))
    return None, _whole(css)


@lru_cache(maxsize=64)
def _whole(css: str) -> etree.XPath:
    return etree.XPath(HTMLTranslator().css_to_xpath(css.strip()))


_WITH_ID = etree.XPath("descendant-or-self::*[@id]")


class _Ids:
    """The page's elements by id, found in one pass when an id-led selector is first tried."""

    def __init__(self, root: _Element) -> None:
        self.root = root
        self._found: dict[str, list[_Element]] | None = None

    def get(self, name: str) -> list[_Element]:
        if self._found is None:
            self._found = {}
            for el in _WITH_ID(self.root):
                self._found.setdefault(el.get("id"), []).append(el)
        return self._found.get(name, [])


def _by_selectors(root: _Element, selectors: Iterable[str], ids: _Ids) -> _Element | None:
    for css in selectors:
        id_, xpath = _compiled(css)
        if id_ is None:
            found = xpath(root)
        else:
            anchors = ids.get(id_)
            # Below the one element of that id; an id the page gives twice, read whole as CSS reads it.
            found = xpath(anchors[0]) if len(anchors) == 1 else _whole(css)(root) if anchors else []
        if found and isinstance(found, list) and isinstance(found[0], _Element):
            return found[0]
    return None


def _is_block(el: _Element) -> bool:
    return isinstance(el.tag, str) and el.tag in BLOCKS


def _linked_or_hidden(el: _Element) -> bool:
    return any(isinstance(a.tag, str) and a.tag in ("a", *_NOT_CONTENT) for a in (el, *el.iterancestors()))


def _is_date(text: str) -> bool:
    return bool(text) and parse_date_range(text).start is not None


def _texts_after(el: _Element, limit: int = 12) -> list[str]:
    """Text pieces following `el` in document order (its tail, then what comes after), walking
    forward from it."""
    out: list[str] = []
    node: _Element | None = el
    while node is not None and len(out) < limit:
        if node.tail and node.tail.strip():
            out.append(fold(node.tail))
        for sib in node.itersiblings():
            if not isinstance(sib.tag, str):
                continue
            out.extend(islice((fold(t) for t in sib.itertext() if t and not t.isspace()), limit - len(out)))
            if len(out) >= limit:
                break  # never the whole article's text: a few pieces are wanted
        else:
            node = node.getparent()
            continue
        break
    return out[:limit]


def _texts_before(el: _Element, limit: int = 6) -> list[str]:
    """Text pieces before `el` in document order, nearest first (walking back from it, never
    through the whole page)."""
    pieces: list[str] = []
    node: _Element | None = el
    while node is not None and len(pieces) < limit:
        for sib in node.itersiblings(preceding=True):
            if not isinstance(sib.tag, str) or sib.tag in ("script", "style", "title", "head"):
                continue
            if sib.tail and sib.tail.strip():
                pieces.append(fold(sib.tail))
            pieces.extend(islice((fold(t) for t in _texts_backwards(sib) if t and not t.isspace()),
                                 limit - len(pieces)))
            if len(pieces) >= limit:
                break
        parent = node.getparent()
        if parent is not None and parent.text and parent.text.strip() and len(pieces) < limit:
            pieces.append(fold(parent.text))
        node = parent
    return pieces[:limit]


def _texts_backwards(el: _Element) -> Iterator[str]:
    """`el.itertext()` from its end, lazily: a preceding sibling can be a page's whole header."""
    stack: list[tuple[int, _Element]] = [(_CONTENT, el)]
    while stack:
        kind, node = stack.pop()
        if kind == _TAIL:
            if node.tail:
                yield node.tail
        elif kind == _TEXT:
            if node.text:
                yield node.text
        elif isinstance(node.tag, str):  # its text, then each child and its tail: popped from the end
            stack.append((_TEXT, node))
            for child in node:
                stack.append((_CONTENT, child))
                stack.append((_TAIL, child))


_CONTENT, _TEXT, _TAIL = range(3)


def _date_line(title_el: _Element | None) -> str:
    """The date near the title: the first text after the title that starts with a date (or a label
    and a date), else the nearest one before it (a kicker line above the headline)."""
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
        if not _DIGIT.search(piece):
            continue  # (a piece without a digit holds no date)
        m = _DATE_LINE_RE.match(piece)  # (before the search for an update line: most pieces are not date lines)
        if m and not find_updated_text(piece) and _is_date(fold(m.group(1))):
            return fold(m.group(1))
    return ""


# Class words of a block that is not the body but is where an article's date stands.
_BYLINE_WORDS = re.compile(r"byline|author|credit|meta|date|time|info|footer|header|caption", re.IGNORECASE)


def _date_off(el: _Element, wrappers: Container[_Element] = ()) -> bool:
    """Inside a block whose dates are some other item's: comments, related stories, sidebars,
    navigation (`is_off`; but a byline or an article's footer is where its date is)."""
    for a in el.iterancestors():
        if a.tag in ("nav", "aside", "menu"):
            return True
        words = f"{a.get('class', '')} {a.get('id', '')}"
        if a.tag != "footer" and a not in wrappers and is_off(a) and not _BYLINE_WORDS.search(words):
            return True
    return False


# The parents of the attributes: the same elements as `//*[@datetime]`, found in a third less time.
_TIMES = etree.XPath("//@datetime/.. | //time")
# The elements with an itemprop and the times, in one search: a page whose microdata is read has its
# times read next, nearly always (both at once take two thirds of the time of the two searches).
_ITEMPROPS_AND_TIMES = etree.XPath("//@itemprop/.. | //@datetime/.. | //time")


def _time_texts(root: _Element, wrappers: Container[_Element] = (),
                times: list[_Element] | None = None) -> list[tuple[_Element, str]]:
    """Machine-readable times (`datetime` on `time` or a custom element such as `relative-time`)
    and `time` elements without one (their text), outside other items' blocks. (`times`: the
    page's `_TIMES`, when the caller has them already.)"""
    found = []
    for el in _TIMES(root) if times is None else times:
        if el.tag in ("ins", "del"):
            continue
        value = fold(el.get("datetime") or "") or fold(el.text_content())
        if _is_date(value) and not _date_off(el, wrappers):
            found.append((el, value))
    return found


def _time_element(found: list[tuple[_Element, str]], layout: Layout, near: _Element | None) -> str:
    """The time nearest the headline (after it first) of those `_time_texts` found."""
    if not found:
        return ""
    at = layout.order.get(near, (0, 0))[0] if near is not None else 0
    after = [(el, v) for el, v in found if layout.order.get(el, (0, 0))[0] >= at]
    chosen = after[0] if after else found[-1]
    return chosen[1]


_URL_DATE = re.compile(r"/((?:19|20)\d\d)[/-]([01]?\d)[/-]([0-3]?\d)(?=[/_.-]|$)"
                       r"|/((?:19|20)\d\d)/([01]\d)/(\d\d)(\d\d)(\d\d)[\w-]"  # /2015/08/150803-slug
                       r"|/((?:19|20)\d\d)([01]\d)([0-3]\d)(?=[/_-])")


_URL_MONTH = re.compile(r"/((?:19|20)\d\d)/([01]\d)/")


def url_date(url: str | None, day: bool = True) -> str:
    """The day an item's URL names (`/2019/11/19/slug`, `/2019-11-19-slug`, `/20191119/`), or ''; with
    `day=False`, the month of one that names no day (`/2019/04/slug.html`)."""
    if not url:
        return ""
    path = url.split("?", 1)[0].split("#", 1)[0]
    if not day:
        m = _URL_MONTH.search(path)
        return f"{m.group(1)}-{m.group(2)}" if m and 1 <= int(m.group(2)) <= 12 else ""
    for m in _URL_DATE.finditer(path):
        if m.group(1):
            ymd = m.group(1, 2, 3)
        elif m.group(4):
            if m.group(5) != m.group(7) or m.group(4)[2:] != m.group(6):
                continue  # /2015/08/150803-: the slug's date must repeat the folders'
            ymd = m.group(4, 5, 8)
        else:
            ymd = m.group(9, 10, 11)
        try:
            return dt.date(*(int(part) for part in ymd)).isoformat()
        except ValueError:
            continue
    return ""


def _byline_date(title_el: _Element | None) -> str:
    """A date inside a short line near the headline ("Written by X in Valve on 1 June 2019 at
    08:34 PM EDT."), not a "last updated" one."""
    if title_el is None:
        return ""
    for piece in _texts_after(title_el, limit=8):
        if len(piece) > 200:
            break  # into the body
        if not find_updated_text(piece) and (found := find_date_text(piece)) and _is_date(found):
            return found
    return ""


def _first_date(text: str) -> str:
    """The first full date in the page's running text, or ''."""
    for m in DATE_TEXT_RE.finditer(text):
        if _is_date(m.group(0)) and len(parse_date_range(m.group(0)).start or "") >= 10:
            return fold(m.group(0))
    return ""


def _publisher_offset(chosen: str, others: Iterable[str]) -> str:
    """A zoned time written in UTC is the day in UTC: when the page also writes the same moment in
    the publisher's own offset, that one names the day the publisher printed."""
    moment = instant(chosen)
    if moment is None or moment.utcoffset() != dt.timedelta(0):
        return chosen
    for other in others:
        there = instant(other)
        if there is not None and there.utcoffset() != dt.timedelta(0) and abs(there - moment) <= _SAME_MOMENT:
            return other
    return chosen


_SAME_MOMENT = dt.timedelta(minutes=2)
_DIGIT = re.compile(r"\d")


def _local_day(meta_date: str, visible: str) -> bool:
    """A time written in UTC one day off the date the page shows beside its headline (a local
    evening, or a UTC time just past midnight): the page's own date is the day its readers saw."""
    moment = instant(meta_date)
    if not visible or moment is None or moment.utcoffset() != dt.timedelta(0):
        return False
    shown = parse_date_range(visible).start
    if not shown or len(shown) < 10 or instant(visible) is not None:
        return False  # a visible time with its zone is compared as a moment by _publisher_offset
    return abs((moment.date() - dt.date.fromisoformat(shown[:10])).days) == 1


_LEAD_TAGS = ("p", "div", "span", "td", "h2", "h3", "h4")
_EMPHASIS = ("strong", "b", "em", "i")


def _lead(root: _Element, title_el: _Element | None) -> str:
    """A lead paragraph: a block classed as one (lead, intro, teaser...), or a paragraph that is
    all bold or italic, after the title."""
    after_title = title_el is None
    inside_title = set(title_el.iter()) if title_el is not None else set()
    for el in root.iter(*_LEAD_TAGS, *((title_el.tag,) if title_el is not None else ())):
        if not after_title:
            after_title = el is title_el
            continue
        if el in inside_title or el.tag not in _LEAD_TAGS:
            continue
        classed = _lead_classed(el)
        if not classed and el.tag != "p":
            continue  # (its children and its text are read only when its class or markup may make it a lead)
        if any(_is_block(c) for c in el):
            continue  # a container: its paragraphs are looked at one by one
        children = [c for c in el if isinstance(c.tag, str)]
        if not classed and not (len(children) == 1 and children[0].tag in _EMPHASIS):
            continue
        text = drop_boilerplate(clean_text(el.text_content()))
        if not 40 <= len(text) <= 700 or _linked_or_hidden(el):
            continue
        if classed or fold(children[0].text_content()) == fold(text):
            return text
    return ""


def _lead_classed(el: _Element) -> bool:
    """Classed as a lead: its class or id, or its parent's when it is the parent's only element."""
    if _lead_words(f"{el.get('class', '')} {el.get('id', '')}"):
        return True
    parent = el.getparent()
    return parent is not None and _lead_words(f"{parent.get('class', '')} {parent.get('id', '')}") and len(
        [c for c in parent if isinstance(c.tag, str)]) == 1


_lead_words = ClassWords(_LEAD_CLASS)


def extract_detail(
    html: str | bytes | Selector, selectors: Mapping[str, Iterable[str]] | None = None, url: str | None = None,
) -> DetailFields:
    """The title, date text, updated text, summary and body of an item page (`url`, when given,
    tells the site's name in titles by the host's)."""
    with Uncollected():  # (see there: nothing the page's reading allocates is garbage a collection finds)
        return _extract_detail(html, selectors, url)


def _extract_detail(html: str | bytes | Selector, selectors: Mapping[str, Iterable[str]] | None,
                    url: str | None) -> DetailFields:
    named: list[_Element] | None = None
    if isinstance(html, Selector):
        root: _Element = html.root if isinstance(html.root, _Element) else parse_html(html.get())
        etree.strip_tags(root, etree.Comment, etree.ProcessingInstruction)  # their tails are text
    else:  # parsed here, without comments (the same tree, for a walk less), its named elements found
        root, named = parse_tree(html if isinstance(html, str) else html.decode("utf-8", "replace"), url,
                                 comments=False, find=_NAMED)
    return _Reader(root, selectors or {}, url, named).read()


# The elements the reader looks up by their names: scripts (JSON-LD), meta tags, titles, headings h1 to h3.
_NAMED = ("script", "meta", "title", "h1", "h2", "h3")


class _Reader:
    """One item page read field by field: the profile's selectors, then structured metadata, then
    what the page shows."""

    def __init__(self, root: _Element, selectors: Mapping[str, Iterable[str]], url: str | None,
                 found: list[_Element] | None = None) -> None:
        """`found`: the page's `_NAMED` elements in document order, when its parse found them."""
        self.root, self.selectors, self.url = root, selectors, url
        self.out = DetailFields()
        # The elements read by their names, found in one pass (a pass over a page's tree costs as
        # much as reading its meta tags): scripts, meta tags, titles, and the headings h1 to h3.
        named: dict[str, list[_Element]] = {"script": [], "meta": [], "title": [], "h": []}
        for el in root.iter(*_NAMED) if found is None else found:
            named["h" if el.tag[0] == "h" else el.tag].append(el)
        self.scripts = [s.text or "" for s in named["script"]
                        if (s.get("type") or "").lower() == "application/ld+json"]
        self.ld_objects = md.jsonld_objects(self.scripts) if self.scripts else []  # (parsed once)
        self.ld = md.jsonld_article(self.scripts, self.ld_objects) if self.scripts else {}
        self.tags = md.meta_tags(root, named["meta"])
        self.title_tag = named["title"][0] if named["title"] else None
        self.headings = named["h"]  # in document order
        self.title_el: _Element | None = None
        self.visible = ""  # the date line next to the headline
        self._layout: Layout | None = None
        self._microdata: dict[str, list[tuple[_Element, str]]] = {}
        self._times: list[tuple[_Element, str]] | None = None
        self._itemprops: list[_Element] | None = None
        self._time_elements: list[_Element] | None = None  # found with the itemprops, when they were looked for

    def microdata(self, prop: str) -> list[tuple[_Element, str]]:
        if prop not in self._microdata:
            if self._itemprops is None:
                found = _ITEMPROPS_AND_TIMES(self.root)
                self._itemprops = [el for el in found if el.get("itemprop") is not None]
                self._time_elements = [el for el in found if el.tag == "time" or el.get("datetime") is not None]
            self._microdata[prop] = md.microdata(self.root, prop, self._itemprops)
        return self._microdata[prop]

    def times(self) -> list[tuple[_Element, str]]:
        if self._times is None:
            self._times = _time_texts(self.root, self.layout().wrappers, self._time_elements)
        return self._times

    def layout(self) -> Layout:
        """The whole page rendered, once, and only when a field needs it (not when the profile's
        selectors found them all)."""
        if self._layout is None:
            self._layout = Layout(self.root, comments=False)
        return self._layout

    def read(self) -> DetailFields:
        out, root, ids = self.out, self.root, _Ids(self.root)
        for name in ("title", "date", "updated", "summary"):
            hit = _by_selectors(root, self.selectors.get(name, ()), ids)
            if hit is not None:
                text = drop_boilerplate(clean_text(" ".join(hit.itertext())))
                out.set("date_text" if name == "date" else "updated_text" if name == "updated" else name, text,
                        "selector")
        body_hit = _by_selectors(root, self.selectors.get("body", ()), ids)
        if not out.title:
            self.title()
        # The headline's element and the date line next to it: looked for only when a field needs them
        # (not when the profile's selectors gave the date and the body, and the page its summary).
        needs_headline = not out.date_text or body_hit is None or not (
            out.summary or md.first(self.tags, md.SUMMARY_META) or self.ld.get("description"))
        if self.title_el is None and out.title and needs_headline:
            self.title_el = headline_element(root, out.title)
        self.visible = _date_line(self.title_el) if needs_headline else ""
        self.dates()
        self.summary()
        self.body(body_hit)
        out.language = (root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or "").lower()[:2]
        return out

    def title(self) -> None:
        tags, ld, root, url = self.tags, self.ld, self.root, self.url
        page_title = fold(self.title_tag.text_content()) if self.title_tag is not None else ""
        site_names = [md.first(tags, md.SITE_META), *md.jsonld_site_names(self.scripts, self.ld_objects)]
        metas = [(clean_text(md.first(tags, md.TITLE_META[:1])), "meta"),
                 (clean_markup(md.text_of(ld.get("headline") or ld.get("name"))), "jsonld"),
                 (clean_text(md.first(tags, md.TITLE_META[1:])), "meta")]
        metas = [(strip_site_name(t, site_names, url), source) for t, source in metas if t]
        if shown := displayed_headline(root, [t for t, _ in metas] + [page_title], site_names, url, page_title,
                                       self.headings):
            self.out.set("title", shown[0], "heuristic")
            self.title_el = shown[1]
        for text, source in metas:
            self.out.set("title", text, source)
        if not self.out.title:
            self.out.set("title", prominent_headline(root, page_title, strip_site_name(page_title, site_names, url)),
                         "heuristic")

    def date_candidates(self) -> Iterator[tuple[str, str]]:
        """Published dates, lazily, most reliable first: the first that parses wins."""
        ld, tags = self.ld, self.tags
        yield md.text_of(ld.get("datePublished")), "jsonld"
        yield md.text_of(ld.get("dateCreated")), "jsonld"
        yield from ((tags[name], "meta") for name in md.PUBLISHED_META if name in tags)
        yield from ((value, "meta") for _, value in self.microdata("datePublished"))
        yield _time_element(self.times(), self.layout(), self.title_el), "time"
        yield self.visible, "heuristic"
        yield island_date(self.root), "island"

    def updated_candidates(self) -> Iterator[tuple[str, str]]:
        """Dates of the last change, lazily (the page's microdata is looked for only when needed)."""
        yield md.text_of(self.ld.get("dateModified")), "jsonld"
        yield from ((self.tags[name], "meta") for name in md.UPDATED_META if name in self.tags)
        yield from ((value, "meta") for _, value in self.microdata("dateModified"))

    def zoned_alternatives(self) -> Iterator[str]:
        """Every date text of the page's metadata and times, for `_publisher_offset`."""
        ld, tags = self.ld, self.tags
        yield from (md.text_of(ld.get(key)) for key in ("datePublished", "dateCreated"))
        yield from (tags[name] for name in md.PUBLISHED_META if name in tags)
        yield from (value for _, value in self.microdata("datePublished"))
        yield from (value for _, value in self.times())
        yield self.visible

    def updated_line(self) -> str:
        """A "Last updated ..." line anywhere on the page, article or not: such lines are short,
        so the long paragraphs, most of a page's text, are not searched."""
        for p in self.layout().paragraphs:
            if len(p.text) <= 300 and _DIGIT.search(p.text) and (found := find_updated_text(p.text)):
                return found
        return ""

    def running_text(self, off: bool = False) -> str:
        return " \n ".join(p.text for p in self.layout().paragraphs if bool(p.off) == off)

    def dates(self) -> None:
        out = self.out
        if not out.date_text:
            for value, source in self.date_candidates():
                value = fold(value)
                if _is_date(value):
                    value = _publisher_offset(value, self.zoned_alternatives())
                    if _local_day(value, self.visible):
                        value, source = self.visible, "heuristic"
                    out.set("date_text", value, source)
                    break
        running = self.running_text() if not out.date_text else ""  # (joined only when a date is still wanted)
        if not out.date_text:
            for m in PUBLISHED_LINE_RE.finditer(running):
                if _is_date(fold(m.group(1))):
                    out.set("date_text", fold(m.group(1)), "heuristic")
                    break
        out.set("date_text", url_date(self.url), "url")
        if not out.date_text:
            out.set("date_text", _byline_date(self.title_el), "heuristic")
        if not out.updated_text:
            for value, source in self.updated_candidates():
                if _is_date(fold(value)):
                    out.set("updated_text", fold(value), source)
                    break
        if not out.updated_text:
            out.set("updated_text", self.updated_line(), "heuristic")
        if not out.date_text and not self.selectors.get("date"):
            # Last resorts, for a page nobody described: when it says it changed, then any date it
            # shows. A profile that says where its portal's dates are is not second-guessed.
            out.set("date_text", find_date_text(out.updated_text) or "", "updated")
            out.set("date_text", _first_date(running or self.running_text()), "heuristic")
            out.set("date_text", url_date(self.url, day=False), "url")

    def summary(self) -> None:
        self.out.set("summary", clean_markup(md.text_of(self.ld.get("description"))), "jsonld")
        self.out.set("summary", md.first(self.tags, md.SUMMARY_META), "meta")
        if not self.out.summary:
            self.out.set("summary", _lead(self.root, self.title_el), "heuristic")

    def body(self, body_hit: _Element | None) -> None:
        out = self.out
        skip = (out.title, out.date_text, self.visible)
        if body_hit is not None:  # the profile's body block alone is rendered
            layout = Layout(body_hit, comments=False)
            paras = [p for p in body_paragraphs(layout, body_hit, skip) if _is_body_paragraph(p)]
            out.set("body", "\n\n".join(paras), "selector")
        if not out.body and (block := main_block(self.layout(), self.title_el)) is not None:
            paras = [p for p in body_paragraphs(self.layout(), block, skip, self.title_el) if _is_body_paragraph(p)]
            lead = [p for p in lead_paragraphs(self.layout(), block, self.title_el) if p not in paras]
            out.set("body", "\n\n".join(lead + paras), "heuristic")
        if len(out.body) < _SHELL_BODY:  # an application's shell: its text is in its data
            data = ((md.text_of(self.ld.get("articleBody")), "jsonld"), (island_body(self.root), "island"))
            for text, source in data:
                if len(text) > max(2 * len(out.body), _SHELL_BODY):
                    out.body, out.provenance["body"] = _data_paragraphs(text), source
                    break


# A body shorter than this (characters) may be an application shell's placeholder.
_SHELL_BODY = 200


def _data_paragraphs(text: str) -> str:
    """An article's text as an application's data holds it (JSON-LD `articleBody`, a data island):
    plain text with line breaks between paragraphs, or markup."""
    if "<" in text and re.search(r"<(?:p|br|div)\b", text, re.IGNORECASE):
        return "\n\n".join(render_paragraphs(parse_html(f"<div>{text}</div>")))
    return "\n\n".join(p for p in (clean_markup(line) for line in text.splitlines()) if p)


def _is_body_paragraph(text: str) -> bool:
    """Not a date line, not a "Last updated" line (both are short, and every date has a digit)."""
    if len(text) >= 150 or not _DIGIT.search(text):
        return True
    if _DATE_LINE_RE.fullmatch(text) or DATE_TEXT_RE.fullmatch(text):
        return False
    return not (len(text) < 100 and find_updated_text(text))
