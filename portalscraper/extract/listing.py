"""Listing blocks found by what they are, not by class names.

An entry of a listing is a block that holds a link to an item page, and a date text or a
summary text, and no link to another item. The block is grown from the link up to the
largest ancestor that still holds only that item and no section heading; the section is the
nearest heading before it. This works on tables, HTML5 `article`s, flat paragraphs and div
soup alike, and on markups never seen before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin

import lxml.html
from lxml import etree
from lxml.etree import _Element

from portalscraper.extract.dates import DATE_TEXT_RE
from portalscraper.extract.islands import SET_ASIDE, is_data_island, set_aside
from portalscraper.extract.lexicon import PUBLISHED_LABELS, UPDATED_LABELS, alternation
from portalscraper.extract.text import clean_text, drop_boilerplate, fold

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
PSEUDO_HEADINGS = frozenset({"strong", "b", "font", "span", "div", "p", "td", "th", "dt", "legend", "caption"})
TITLE_HOLDERS = HEADINGS | {"strong", "b"}
_SKIP = frozenset({"script", "style", "noscript", "template", "head", "select", "option"})
_DATE_AT_START = re.compile(rf"^\s*[|·•:(\[]?\s*({DATE_TEXT_RE.pattern})", re.IGNORECASE)
# Titles of navigation, never of an item: pagers, bare numbers and years, language names.
_NAV_TITLE = re.compile(
    r"^\s*(?:[«‹<]+\s*)?(?:older|newer|next|previous|prev|first|last|more|earlier|later|suivant|précédent|weiter"
    r"|zurück|siguiente|anterior|\d{1,4}|page\s+\d+(?:\s+of\s+\d+)?|(?:older|newer|next|previous)\s+\w+)"
    r"(?:\s*[»›>]+)?\s*$", re.IGNORECASE)
_NEXT_WORDS = ("next", "suivant", "suivante", "next page", "older", "page suivante", "»", "›", ">", ">>")


@dataclass(frozen=True)
class ListingEntry:
    """One item as a listing shows it."""

    url: str
    title: str
    date_text: str | None
    summary: str
    section: str
    position: int  # 1-based, within its section on this page


_STRAY_END = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)


def repair_markup(html: str) -> str:
    """Markup lxml would cut short: `</body>` or `</html>` in the middle of a page ends the
    document for libxml2 (a browser reads on). Such stray end tags are dropped; a page with them
    only at its end is returned as it is."""
    if _STRAY_END.search(html, 0, max(0, len(html) - 200)) is None:
        return html
    return _STRAY_END.sub("", html)


def drop_scripts(root: _Element) -> _Element:
    """Remove scripts, styles and the like, whose text is never the page's text; JSON-LD stays,
    and data islands (an application's state) are set aside in the head (`extract.islands`)."""
    for el in list(root.iter("script", "style", "noscript", "template")):
        if el.tag == "script":
            if (el.get("type") or "").lower() == "application/ld+json" or el.get(SET_ASIDE) is not None:
                continue
            if is_data_island(el):
                set_aside(el, root)
                continue
        el.drop_tree()
    return root


def parse_html(html: str | bytes) -> _Element:
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    # lxml refuses str input that declares an encoding; the text is already decoded.
    text = repair_markup(re.sub(r"^\s*<\?xml[^>]*\?>", "", html))
    return drop_scripts(lxml.html.document_fromstring(text))


def _text(el: _Element) -> str:
    return clean_text(el.text_content())


def _chunks(el: _Element, skip: set[_Element]) -> Iterator[tuple[str, _Element]]:
    """The text pieces inside `el` in document order, each with the element it belongs to (an
    iterative walk: any depth)."""
    walker = etree.iterwalk(el, events=("start", "end"))
    for event, node in walker:
        if event == "start":
            if node in skip or not isinstance(node.tag, str) or node.tag in _SKIP:
                walker.skip_subtree()
            elif node.text and node.text.strip():
                yield node.text, node
        elif node is not el and node.tail and node.tail.strip():
            parent = node.getparent()
            if parent is not None:
                yield node.tail, parent


def join_pieces(pieces: list[str]) -> str:
    """Text pieces joined by spaces, but not before closing punctuation: `and <i>defence</i>.`
    reads `and defence.`."""
    out = ""
    for piece in pieces:
        if not piece:
            continue
        out = piece if not out else out + ("" if piece[0] in ".,;:!?)]»”’" else " ") + piece
    return out


def _absolute(href: str, page_url: str) -> str:
    return urldefrag(urljoin(page_url, href.strip()))[0]


def extract_listing(
    root: _Element | str | bytes,
    page_url: str,
    is_item_url: Callable[[str], bool],
    key: Callable[[str], str] = lambda url: url,
    is_hub_url: Callable[[str], bool] = lambda url: False,
) -> list[ListingEntry]:
    """The entries of every listing block on a page, in document order.

    `is_item_url` tells an item link from navigation; `key` maps the different URLs of one item
    (session ids, locale parameters) to one identity. A link to a hub page (`is_hub_url`: an
    edition's index, a dossier) is an entry too when it has a title and a date or a summary: such
    an item is listed like any other, and its page is also a listing.
    """
    if not isinstance(root, _Element):
        root = parse_html(root)
    links, keys_under = _item_links(root, page_url, lambda url: is_item_url(url) or is_hub_url(url), key)
    item_links = {a for a, _, _ in links}
    containers: dict[_Element, tuple[str, str]] = {}
    for a, url, k in links:
        box = _grow(a, keys_under, item_links)
        containers.setdefault(box, (url, k))
    headings = _heading_positions(root, set(containers), item_links)
    entries: list[ListingEntry] = []
    counters: dict[str, int] = {}
    order = {el: n for n, el in enumerate(root.iter())}
    heading_at = {n for n, _, _ in headings}
    for box in sorted(containers, key=order.__getitem__):
        url, k = containers[box]
        entry = _entry(box, url, k, key, page_url, lambda el: order.get(el) in heading_at)
        if entry is None:
            continue
        title, date_text, summary = entry
        if not (date_text or summary) and not is_item_url(url):
            continue  # a link to a hub with a title alone: navigation, not an item
        section = _section_before(order[box], headings)
        counters[section] = counters.get(section, 0) + 1
        entries.append(ListingEntry(url, title, date_text, summary, section, counters[section]))
    return entries


def _item_links(root: _Element, page_url: str, wanted: Callable[[str], bool], key: Callable[[str], str],
                ) -> tuple[list[tuple[_Element, str, str]], dict[_Element, set[str]]]:
    """The page's links to items and hubs (but the page itself) as (element, URL, identity), and
    for each element the identities of the links under it."""
    page_key = key(page_url)
    links: list[tuple[_Element, str, str]] = []
    keys_under: dict[_Element, set[str]] = {}
    for a in root.iter("a"):
        href = a.get("href")
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        url = _absolute(href, page_url)
        if not wanted(url):
            continue
        k = key(url)
        if k == page_key:
            continue
        links.append((a, url, k))
        node: _Element | None = a
        while node is not None:
            keys_under.setdefault(node, set()).add(k)
            node = node.getparent()
    return links, keys_under


def _has_section_heading(el: _Element, item_links: set[_Element]) -> bool:
    return any(not any(a in item_links for a in h.iter("a")) for h in el.iter(*HEADINGS))


def _grow(a: _Element, keys_under: dict[_Element, set[str]], item_links: set[_Element]) -> _Element:
    box = a
    parent = a.getparent()
    while parent is not None and parent.tag not in ("body", "html"):
        if len(keys_under.get(parent, ())) > 1 or _has_section_heading(parent, item_links):
            break
        box = parent
        parent = parent.getparent()
    return box


def _entry(
    box: _Element, url: str, k: str, key: Callable[[str], str], page_url: str,
    is_heading: Callable[[_Element], bool] = lambda el: False,
) -> tuple[str, str | None, str] | None:
    own_links = [a for a in box.iter("a") if a.get("href") and key(_absolute(a.get("href", ""), page_url)) == k]
    title_el = _title_element(own_links)
    title = drop_boilerplate(_text(title_el)) if title_el is not None else ""
    # Other links' texts (tags, menus, related items) are not the item's summary.
    skip = set(box.iter("a")) | ({title_el} if title_el is not None else set())
    date_text: str | None = None
    date_el = next(box.iter("time"), None)
    if date_el is not None and (in_time := DATE_TEXT_RE.search(fold(date_el.text_content()))):
        date_text = in_time.group(0).strip()
        skip.add(date_el)
    chunks = list(_chunks(box, skip))
    pieces = [fold(chunk) for chunk, _ in chunks]
    # A piece that is a whole line of its own (a block's only text: a venue, a place), not a word
    # set in bold at the start of the teaser ("<b>BRUSSELS</b> – ...").
    lines = [el.tag in _LINE_TAGS and fold(el.text_content()) == piece for piece, (_, el) in zip(pieces, chunks,
                                                                                                   strict=True)]
    found, rest = _date_and_rest(pieces, date_text)
    if found is None or not any(rest):  # the block alone is not the whole item: look past it
        after = _pieces_after(box, own_links, is_heading)
        found, rest = _date_and_rest(pieces + after, date_text)
        lines += [False] * len(after)
    date_text = found
    summary = drop_boilerplate(clean_text(join_pieces(_teaser(rest, lines))))
    if title_el is None:
        # A link with no text, in a block with a date and a summary: an item published without a
        # title. It is kept (its record will be rejected, with the reason, unless its page has one).
        return ("", date_text, summary) if date_text and summary else None
    headed = any(anc.tag in HEADINGS for anc in title_el.iterancestors())
    if not title or (date_text is None and not summary and not headed) or _NAV_TITLE.match(title):
        return None
    if len(summary) < 15 or len(summary.split()) < 3:  # "(8)", "·", "Page 1 of 4": not a teaser
        summary = ""
        if date_text is None and not headed:
            return None
    return title, date_text, summary


_DATE_LABEL = re.compile(rf"^\s*(?:{alternation(PUBLISHED_LABELS + UPDATED_LABELS)})\s*:?\s*$", re.IGNORECASE)
_SENTENCE = re.compile(r"[.!?…:;)\"”»]$")


_LINE_TAGS = frozenset({"p", "div", "li", "dd", "dt", "span", "td", "address"})


def _teaser(pieces: list[str], lines: list[bool]) -> list[str]:
    """The pieces that are the teaser: labels of a date ("Posted:", "Published", "Date:") belong to
    the date, and a short line of its own before the teaser (a venue, a place, a category:
    "Panama City, Panama") is a field of its own, not the teaser's start."""
    kept = [(p, line) for p, line in zip(pieces, lines, strict=True) if p and not _DATE_LABEL.match(p)]
    while len(kept) >= 2 and kept[0][1] and len(kept[0][0]) < 60 and len(kept[0][0].split()) <= 6 \
            and not _SENTENCE.search(kept[0][0]) and len(kept[1][0]) >= 40:
        kept = kept[1:]
    return [p for p, _ in kept]


def _date_and_rest(pieces: list[str], date_text: str | None) -> tuple[str | None, list[str]]:
    """The entry's date (from a piece that starts with one, else from a short line holding one)
    and the pieces left for the summary."""
    rest: list[str] = []
    for piece in pieces:
        if date_text is None and (m := _DATE_AT_START.match(piece)):
            date_text = fold(m.group(1))
            piece = piece[m.end() :].lstrip(" -|·•:)]")
        rest.append(piece)
    if date_text is None:  # a date inside a short line: "Posted by the press office on 13 September 2012"
        for n, piece in enumerate(rest):
            if len(piece) <= 80 and (m := DATE_TEXT_RE.search(piece)):
                date_text = fold(m.group(0))
                rest[n] = ""
                break
    return date_text, rest


def _pieces_after(box: _Element, own_links: list[_Element], is_heading: Callable[[_Element], bool]) -> list[str]:
    """Texts that follow an item's block among its siblings, up to the next item, heading or link:
    the date and summary of flat lists (`<h3><a/></h3><p>date</p><p>summary</p><h3>...`) and of
    items spread over two table rows."""
    out = [fold(box.tail)] if box.tail and box.tail.strip() else []
    own = set(own_links)
    for sib in box.itersiblings():
        if not isinstance(sib.tag, str):
            continue
        if sib.tag in HEADINGS or sib.tag == "hr" or any(is_heading(x) for x in sib.iter()) or \
                any(a not in own for a in sib.iter("a")):
            break
        out.extend(fold(chunk) for chunk, _ in _chunks(sib, own))
        if sib.tail and sib.tail.strip():
            out.append(fold(sib.tail))
        if len(out) > 6:
            break
    return out


def _title_element(own_links: list[_Element]) -> _Element | None:
    """The link (or the heading around it) that carries the item's title: not an image link,
    not a "Read more", preferably inside a heading or bold."""
    best: tuple[int, int, _Element] | None = None
    for a in own_links:
        text = drop_boilerplate(_text(a))
        if not text:
            continue
        in_heading = any(anc.tag in TITLE_HOLDERS for anc in a.iterancestors()) or any(
            el.tag in TITLE_HOLDERS for el in a.iter()
        )
        rank = (int(in_heading), len(text))
        if best is None or rank > best[:2]:
            best = (*rank, a)
    return best[2] if best else None


def _all_link(el: _Element, text: str) -> bool:
    """A heading that is itself a link is an item's title (or a menu's), never a section's."""
    linked = sum(len(fold(a.text_content())) for a in el.iter("a"))
    return linked > 0 and linked >= len(fold(text)) * 0.8


_HIDDEN_CLASS = re.compile(r"(?:^|\s)(?:visually-hidden|sr-only|screen-reader-text|element-invisible|hidden|"
                           r"offscreen|a11y-hidden)(?:\s|$)", re.IGNORECASE)


def _hidden(el: _Element) -> bool:
    for node in (el, *el.iterancestors()):
        if _HIDDEN_CLASS.search(node.get("class") or "") or node.get("hidden") is not None or \
                re.search(r"display\s*:\s*none", node.get("style") or "", re.IGNORECASE):
            return True
    return False


def _heading_positions(
    root: _Element, containers: set[_Element], item_links: set[_Element]
) -> list[tuple[int, str, bool]]:
    """(document position, text, is a real heading) of every heading-like element outside items,
    that is not a link."""
    out: list[tuple[int, str, bool]] = []
    inside: set[_Element] = set()
    for box in containers:
        inside.update(box.iter())
    for n, el in enumerate(root.iter()):
        if not isinstance(el.tag, str) or el in inside:
            continue
        if _hidden(el):
            continue  # a heading only screen readers get ("Main menu", "Pages") names nothing shown
        if el.tag in HEADINGS:
            if any(a in item_links for a in el.iter("a")) or any(anc.tag == "a" for anc in el.iterancestors()):
                continue
            text = drop_boilerplate(_text(el))
            if text and not _all_link(el, text):
                out.append((n, text, True))
        elif el.tag in PSEUDO_HEADINGS and len(el) <= 1 and not any(True for _ in el.iter("a", "img")) \
                and not any(anc.tag == "a" for anc in el.iterancestors()):
            text = drop_boilerplate(_text(el))
            if text and len(text) <= 60 and len(text.split()) <= 8 and not re.search(r"\d", text) \
                    and not text.endswith((".", ":", "?", "!")):
                out.append((n, text, False))
    return out


def _section_before(position: int, headings: list[tuple[int, str, bool]]) -> str:
    """The heading that leads an entry's block: the nearest heading-like element before it, a
    block header in a `font` or `span` as much as a real heading further up (which then heads
    some earlier block)."""
    before = [h for h in headings if h[0] < position]
    return before[-1][1] if before else ""


def next_page_url(root: _Element | str | bytes, page_url: str) -> str | None:
    """The link to the next page of a paginated listing: rel=next, or a "Next"/"Suivant" link."""
    if not isinstance(root, _Element):
        root = parse_html(root)
    for el in root.iter("a", "link"):
        if "next" in (el.get("rel") or "").lower().split() and el.get("href"):
            return _absolute(el.get("href", ""), page_url)
    for a in root.iter("a"):
        text = _text(a).lower().rstrip(" »›>").strip() or _text(a).lower()
        if a.get("href") and (text in _NEXT_WORDS or text.startswith(("next ", "suivant"))):
            return _absolute(a.get("href", ""), page_url)
    return None
