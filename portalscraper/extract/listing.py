"""Listing blocks found by what they are, not by class names.

An entry of a listing is a block that holds a link to an item page, and a date text or a
summary text, and no link to another item. The block is grown from the link up to the
largest ancestor that still holds only that item, no section heading and no pager; the section
is the nearest heading before it, unless that heading is a sentence ("510 articles in the
Business category"): then it is the name the site's own navigation gives the page ("Business").
A line that every entry of the page has in the same place and that is never a sentence (a byline,
a venue) is a field of its own, never the teaser. This works on tables, HTML5 `article`s, flat
paragraphs and div soup alike, and on markups never seen before.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from urllib.parse import urldefrag, urlsplit

import lxml.html
from lxml import etree
from lxml.etree import _Element

from portalscraper.extract.dates import DATE_TEXT_RE
from portalscraper.extract.islands import SET_ASIDE, is_data_island, set_aside
from portalscraper.extract.lexicon import PUBLISHED_LABELS, UPDATED_LABELS, alternation
from portalscraper.extract.text import clean_text, drop_boilerplate, fold
from portalscraper.extract.urls import absolute_url
from portalscraper.extract.vocabulary import HEADINGS, PSEUDO_HEADINGS
from portalscraper.extract.vocabulary import LISTING_SKIP as _SKIP

TITLE_HOLDERS = HEADINGS | {"strong", "b"}
_DATE_AT_START = re.compile(rf"^\s*[|·•:(\[]?\s*({DATE_TEXT_RE.pattern})", re.IGNORECASE)
# Titles of navigation, never of an item: pagers, bare numbers and years, language names.
_NAV_TITLE = re.compile(
    r"^\s*(?:[«‹<←]+\s*)?(?:older|newer|next|previous|prev|first|last|more|earlier|later|suivant|précédent|weiter"
    r"|zurück|siguiente|anterior|\d{1,4}|page\s+\d+(?:\s+of\s+\d+)?|(?:older|newer|next|previous)\s+\w+)"
    r"(?:\s*[»›>→]+)?\s*$", re.IGNORECASE)
# A pager's text as a whole: "52 Next →", "« Previous 1 2 3", "Page 3 of 4".
_NAV_RUN = re.compile(
    r"^(?:\s*(?:[«‹<←»›>→|·…]+|\d{1,4}|older|newer|next|previous|prev|first|last|page\s+\d+(?:\s+of\s+\d+)?)"
    r"\s*)+$", re.IGNORECASE)
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
    headed: bool = False  # its title stands in a heading or in bold: a headline


# (Case spelled out, not IGNORECASE: the search then skips to each "</" as a string, a quarter
# faster over a whole page; no other character matches these letters ignoring case.)
_STRAY_END = re.compile(r"</(?:[bB][oO][dD][yY]|[hH][tT][mM][lL])\s*>")


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
    drop_scripts_finding(root, ())
    return root


_CODE = ("script", "style", "noscript", "template")


def drop_scripts_finding(root: _Element, tags: tuple[str, ...]) -> list[_Element]:
    """`drop_scripts`, and the elements of the other `tags` left in the tree once they are dropped,
    in document order, found in the same pass (with the JSON-LD scripts when `tags` names scripts)."""
    found: list[_Element] = []
    gone: set[_Element] = set()  # the elements of `tags` inside a dropped noscript or template
    json_ld = "script" in tags
    for el in list(root.iter(*_CODE, *tags)):
        tag = el.tag
        if tag == "script":
            if (el.get("type") or "").lower() == "application/ld+json":
                if json_ld:
                    found.append(el)
                continue
            if el.get(SET_ASIDE) is not None:
                continue
            if is_data_island(el):
                set_aside(el, root)
                continue
        elif tag not in _CODE:
            found.append(el)
            continue
        if tags and tag in ("noscript", "template"):
            gone.update(el.iter(*tags))
        el.drop_tree()
    return [el for el in found if el not in gone] if gone else found


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
    return absolute_url(href, page_url) or urldefrag(page_url)[0]  # an empty link is the page


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
    pager_under = _pager_ancestors(root, item_links)
    containers: dict[_Element, tuple[str, str]] = {}
    for a, url, k in links:
        box = _grow(a, keys_under, item_links, pager_under)
        containers.setdefault(box, (url, k))
    order = {el: n for n, el in enumerate(root.iter())}
    headings = _heading_positions(root, set(containers), item_links)
    heading_at = {h[0] for h in headings}
    drafts = [_draft(box, *containers[box], key, page_url, lambda el: order.get(el) in heading_at)
              for box in sorted(containers, key=order.__getitem__)]
    fields = _field_lines(drafts)
    found = []
    for draft in drafts:
        entry = _entry(draft, fields)
        if entry is None:
            continue
        if not (entry[1] or entry[2]) and not is_item_url(draft.url):
            continue  # a link to a hub with a title alone: navigation, not an item
        found.append((draft, entry))
    headings = _block_headings(headings, [order[draft.box] for draft, _ in found])
    own_name: str | None = None
    entries: list[ListingEntry] = []
    counters: dict[str, int] = {}
    for draft, (title, date_text, summary, headed) in found:
        section = _section_before(order[draft.box], headings)
        if _is_sentence(section):
            if own_name is None:
                own_name = navigation_name(root, page_url, item_links) or ""
            section = own_name or section
        counters[section] = counters.get(section, 0) + 1
        entries.append(ListingEntry(draft.url, title, date_text, summary, section, counters[section], headed))
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


def _pager_ancestors(root: _Element, item_links: set[_Element]) -> set[_Element]:
    """The elements holding a pager's or an archive's link ("2", "Next ›", "« Previous", "2013"):
    an item's block never grows over them (the only card of a last listing page would take the
    pager's "52 Next →" for its teaser)."""
    out: set[_Element] = set()
    for a in root.iter("a"):
        if a in item_links or not a.get("href"):
            continue
        text = _text(a)
        if text and (_NAV_TITLE.match(text) or _NAV_RUN.match(text)):
            out.update(a.iterancestors())
    return out


def _grow(a: _Element, keys_under: dict[_Element, set[str]], item_links: set[_Element],
          pager_under: AbstractSet[_Element] = frozenset()) -> _Element:
    box = a
    parent = a.getparent()
    while parent is not None and parent.tag not in ("body", "html"):
        if len(keys_under.get(parent, ())) > 1 or _has_section_heading(parent, item_links) or parent in pager_under:
            break
        box = parent
        parent = parent.getparent()
    return box


Signature = tuple[str, str]


@dataclass
class _Draft:
    """An item's block, read: its title, date and the pieces of text left for its teaser, each with
    whether it is a line of its own and what element (tag and class) holds it."""

    box: _Element
    url: str
    title: str
    title_found: bool
    in_heading: bool  # the title stands in a heading (h1-h6)
    headed: bool  # in a heading or in bold
    date_text: str | None
    pieces: list[str]
    lines: list[bool]
    signatures: list[Signature | None]


def _signature(el: _Element) -> Signature:
    return el.tag, " ".join(sorted((el.get("class") or "").split()))


def _draft(
    box: _Element, url: str, k: str, key: Callable[[str], str], page_url: str,
    is_heading: Callable[[_Element], bool] = lambda el: False,
) -> _Draft:
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
    signatures: list[Signature | None] = [_signature(el) if line else None
                                          for line, (_, el) in zip(lines, chunks, strict=True)]
    found, rest = _date_and_rest(pieces, date_text)
    if found is None or not any(rest):  # the block alone is not the whole item: look past it
        after = _pieces_after(box, own_links, is_heading)
        found, rest = _date_and_rest(pieces + after, date_text)
        lines += [False] * len(after)
        signatures += [None] * len(after)
    in_heading = title_el is not None and any(anc.tag in HEADINGS for anc in title_el.iterancestors())
    headed = title_el is not None and (any(anc.tag in TITLE_HOLDERS for anc in title_el.iterancestors())
                                       or any(el.tag in TITLE_HOLDERS for el in title_el.iter()))
    return _Draft(box, url, title, title_el is not None, in_heading, headed, found, rest, lines, signatures)


def _entry(draft: _Draft, fields: set[Signature]) -> tuple[str, str | None, str, bool] | None:
    """(title, date text, summary, headed) of a block, or None when it is no entry."""
    kept = [(p, line) for p, line, sig in zip(draft.pieces, draft.lines, draft.signatures, strict=True)
            if sig is None or sig not in fields]
    summary = drop_boilerplate(clean_text(join_pieces(_teaser([p for p, _ in kept], [line for _, line in kept]))))
    date_text, title = draft.date_text, draft.title
    if not draft.title_found:
        # A link with no text, in a block with a date and a summary: an item published without a
        # title. It is kept (its record will be rejected, with the reason, unless its page has one).
        return ("", date_text, summary, False) if date_text and summary else None
    in_heading = draft.in_heading
    if not title or (date_text is None and not summary and not in_heading) or _NAV_TITLE.match(title):
        return None
    if len(summary) < 15 or len(summary.split()) < 3:  # "(8)", "·", "Page 1 of 4": not a teaser
        summary = ""
        if date_text is None and not in_heading:
            return None
    return title, date_text, summary, draft.headed


def _short_line(text: str) -> bool:
    """A line that is a field rather than running text: a few words, no sentence's end."""
    return len(text) < 60 and len(text.split()) <= 6 and not _SENTENCE.search(text)


def _field_lines(drafts: list[_Draft]) -> set[Signature]:
    """The element kinds (tag and class) that hold, in two entries or more and in every entry that has
    them, a short line that is no sentence: a byline ("Alice Johnson wrote"), a venue ("The Hague,
    Netherlands"), a category. Such a line is a field of its own in this listing, never the teaser."""
    seen: dict[Signature, int] = {}
    other: set[Signature] = set()
    for draft in drafts:
        for piece, sig in zip(draft.pieces, draft.signatures, strict=True):
            if sig is None or not piece or _DATE_LABEL.match(piece):
                continue
            if _short_line(piece):
                seen[sig] = seen.get(sig, 0) + 1
            else:
                other.add(sig)
    return {sig for sig, n in seen.items() if n >= 2 and sig not in other}


_DATE_LABEL = re.compile(rf"^\s*(?:{alternation(PUBLISHED_LABELS + UPDATED_LABELS)})\s*:?\s*$", re.IGNORECASE)
_SENTENCE = re.compile(r"[.!?…:;)\"”»]$")


_LINE_TAGS = frozenset({"p", "div", "li", "dd", "dt", "span", "td", "address"})


def _teaser(pieces: list[str], lines: list[bool]) -> list[str]:
    """The pieces that are the teaser: labels of a date ("Posted:", "Published", "Date:") belong to
    the date; a pager's text ("52 Next →") is navigation; and a short line of its own before or
    after the teaser (a venue, a place, a byline: "Panama City, Panama", "Alice Johnson wrote") is
    a field of its own, not part of the teaser, when the teaser is long or ends like a sentence."""
    kept = [(p, line) for p, line in zip(pieces, lines, strict=True)
            if p and not _DATE_LABEL.match(p) and not _NAV_RUN.match(p)]
    while len(kept) >= 2 and kept[0][1] and _short_line(kept[0][0]) and _teaser_like(kept[1][0]):
        kept = kept[1:]
    while len(kept) >= 2 and kept[-1][1] and _short_line(kept[-1][0]) and _teaser_like(kept[-2][0]):
        kept = kept[:-1]
    return [p for p, _ in kept]


def _teaser_like(text: str) -> bool:
    return len(text) >= 40 or (bool(_SENTENCE.search(text)) and len(text.split()) >= 3)


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


Heading = tuple[int, str, bool, Signature]


def _heading_positions(root: _Element, containers: set[_Element], item_links: set[_Element]) -> list[Heading]:
    """(document position, text, is a real heading, element kind) of every heading-like element
    outside items, that is not a link."""
    out: list[Heading] = []
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
                out.append((n, text, True, _signature(el)))
        elif el.tag in PSEUDO_HEADINGS and len(el) <= 1 and not any(True for _ in el.iter("a", "img")) \
                and not any(anc.tag == "a" for anc in el.iterancestors()):
            text = drop_boilerplate(_text(el))
            if text and len(text) <= 60 and len(text.split()) <= 8 and not re.search(r"\d", text) \
                    and not text.endswith((".", ":", "?", "!")):
                out.append((n, text, False, _signature(el)))
    return out


def _block_headings(headings: list[Heading], entry_positions: list[int]) -> list[Heading]:
    """The headings that head blocks: a heading-like `span`, `p` or `strong` whose kind comes back
    before every entry ("Alice Johnson", "wrote" above each card) is a field of the entries, not
    the name of a block."""
    by_kind: dict[Signature, list[int]] = {}
    for n, _, real, sig in headings:
        if not real:
            by_kind.setdefault(sig, []).append(n)
    fields: set[Signature] = set()
    for sig, places in by_kind.items():
        if len(places) < 2:
            continue
        bounds = [*places, 1 << 62]
        gaps = [sum(a < p < b for p in entry_positions) for a, b in itertools.pairwise(bounds)]
        if all(g <= 1 for g in gaps) and sum(gaps) >= len(places) - 1:
            fields.add(sig)
    return [h for h in headings if h[2] or h[3] not in fields]


def _is_sentence(heading: str) -> bool:
    """A heading that is a sentence about the listing ("510 articles in the Business category",
    "Results 1-10 of 52"), not its name."""
    return bool(heading) and (bool(re.search(r"\d", heading)) or len(heading.split()) > 6
                              or heading.rstrip().endswith((".", "!", "?", ":")))


def navigation_name(root: _Element, page_url: str, item_links: AbstractSet[_Element] = frozenset()) -> str:
    """The name the site's navigation gives a page: the most frequent text of the page's links to
    itself or to the nearest listing it is a page of (`/category/business` for
    `/category/business?page=3`, `/press/` for `/press/page/2/`), but the site's root, pagers and
    links inside items. Empty when no link names it."""
    page = urlsplit(page_url)
    page_path = [s for s in page.path.split("/") if s]
    best_depth, names = 0, Counter[str]()
    first_seen: dict[str, int] = {}
    for n, a in enumerate(root.iter("a")):
        href = a.get("href")
        if not href or a in item_links or href.startswith(("#", "javascript:", "mailto:")):
            continue
        target = urlsplit(_absolute(href, page_url))
        if target.netloc != page.netloc:
            continue
        path = [s for s in target.path.split("/") if s]
        if not path or path != page_path[:len(path)]:
            continue
        text = _text(a)
        if not text or _NAV_TITLE.match(text) or _NAV_RUN.match(text) or len(text.split()) > 5 or \
                re.search(r"\d", text):
            continue
        if len(path) > best_depth:
            best_depth, names, first_seen = len(path), Counter(), {}
        if len(path) == best_depth:
            names[text] += 1
            first_seen.setdefault(text, n)
    if not names:
        return ""
    return max(names, key=lambda t: (names[t], -first_seen[t]))


def headline_links(root: _Element, page_url: str) -> set[str]:
    """The URLs of the page's links that may carry a headline: in a heading or in bold, or of three
    words or more; not a tag ("markets"), a category ("Business"), an author or a pager."""
    out = set()
    for a in root.iter("a"):
        href = a.get("href")
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        text = _text(a)
        if not text or _NAV_TITLE.match(text) or _NAV_RUN.match(text):
            continue
        headed = any(anc.tag in TITLE_HOLDERS for anc in a.iterancestors()) or \
            any(el.tag in TITLE_HOLDERS for el in a.iter())
        if headed or len(text.split()) >= 3:
            out.add(_absolute(href, page_url))
    return out


def navigation_links(root: _Element, page_url: str) -> list[str]:
    """The page's links whose text is navigation: pagers ("2", "Next ›", "« Previous", "Page 3")
    and archives by year or number ("2013")."""
    out = []
    for a in root.iter("a"):
        href = a.get("href")
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        text = _text(a)
        if text and (_NAV_TITLE.match(text) or _NAV_RUN.match(text)):
            out.append(_absolute(href, page_url))
    return out


def _section_before(position: int, headings: list[Heading]) -> str:
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
