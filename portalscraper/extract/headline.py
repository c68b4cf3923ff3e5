"""An item page's headline: the one the page shows, without the site's name.

Metadata titles (`og:title`, JSON-LD `headline`, `<title>`) are often an SEO variant of the
displayed headline, or carry the site's name ("... | The Japan Times"). The headline is the visible
heading that a metadata title starts with; else a metadata title with a site-name prefix or
suffix stripped (one that matches `og:site_name`, the publisher's name, or the host name, never a
part of the headline itself); else the most prominent text near the top.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

from lxml.etree import _Element

from portalscraper.extract.dates import DATE_TEXT_RE
from portalscraper.extract.text import clean_text, drop_boilerplate, fold

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
BLOCKS = frozenset({"p", "div", "li", "blockquote", "h2", "h3", "h4", "h5", "h6", "td", "section", "article",
                    "table", "tr", "ul", "ol", "dl", "dd", "dt", "pre", "header", "footer", "aside", "nav",
                    "form", "figure", "main", "center"})
_HIDDEN_PLACES = frozenset({"script", "style", "noscript", "template", "head", "nav", "select", "button",
                            "iframe", "svg", "footer", "aside"})
_FONT_SIZE = re.compile(r"font-size\s*:\s*(\d+(?:\.\d+)?)\s*(px|pt|em|rem)", re.I)
# Separators between a headline and a site name: `Headline | Site`, `Site - Headline`, `Headline » Site`.
_SEPARATOR = re.compile(r"\s+(?:[|–—·»/:~-]|::|\\)\s+|:\s+|\s*[|·»]\s*")
_NOT_ALNUM = re.compile(r"[\W_]+")
_TRANSLITERATE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "å": "aa"})


def _key(text: str) -> str:
    """A text compared without case, accents, quotes' shapes and punctuation."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKD", text.lower()))


def _key_transliterated(text: str) -> str:
    return _key(text.lower().translate(_TRANSLITERATE))


def _host_names(url: str | None) -> list[str]:
    """The host's distinctive labels: `www.boersen-zeitung.de` gives `boersenzeitung` and
    `boersenzeitungde`."""
    host = (urlsplit(url).hostname or "") if url else ""
    labels = [label for label in host.split(".") if label and label not in ("www", "m", "amp", "mobile", "news")]
    if len(labels) < 2:
        return []
    suffix_start = len(labels) - 1
    if len(labels) >= 3 and len(labels[-2]) <= 3:  # co.uk, com.au, co.jp
        suffix_start -= 1
    names = [_key(label) for label in labels[:suffix_start] if len(label) >= 3]
    names.append(_key("".join(labels[suffix_start - 1:])))
    return [n for n in names if n]


def _is_site_name(part: str, names: Iterable[str], hosts: list[str]) -> bool:
    keys = {_key(part), _key_transliterated(part)}
    if any(key and key == _key(name) for key in keys for name in names):
        return True
    if len(part) > 60:
        return False
    return any(host and len(host) >= 4 and any(host in key or (key and key in host and len(key) >= 4)
                                               for key in keys) for host in hosts)


def strip_site_name(title: str, site_names: Iterable[str] = (), url: str | None = None) -> str:
    """`title` without a leading or trailing part that is the site's name. Parts are split at the
    usual separators; a part is the site's name when it equals a given name or the host's."""
    names = [n for n in site_names if n]
    hosts = _host_names(url)
    if not names and not hosts:
        return title
    pieces = _SEPARATOR.split(title)
    if len(pieces) < 2:
        return title
    seps = _SEPARATOR.findall(title)
    start, end = 0, len(pieces)
    while end - start > 1 and _is_site_name(pieces[end - 1], names, hosts):
        end -= 1
    while end - start > 1 and _is_site_name(pieces[start], names, hosts):
        start += 1
    if (start, end) == (0, len(pieces)):
        return title
    out = pieces[start]
    for sep, piece in zip(seps[start:end - 1], pieces[start + 1:end], strict=True):
        out += sep + piece
    return out.strip()


def _visible(el: _Element) -> bool:
    return not any(isinstance(a.tag, str) and a.tag in _HIDDEN_PLACES for a in (el, *el.iterancestors()))


def _all_link(el: _Element, text: str) -> bool:
    return sum(len(fold(a.text_content())) for a in el.iter("a")) >= len(text)


def _home_link(el: _Element, text: str) -> bool:
    """A heading that is all one link to the site's home page: the site's name, not a headline."""
    links = list(el.iter("a"))
    return bool(links) and _all_link(el, text) and any(
        urlsplit(a.get("href") or "").path in ("", "/", "/index.html", "/index.php") for a in links)


def displayed_headline(root: _Element, meta_titles: Iterable[str]) -> tuple[str, _Element] | None:
    """The visible heading (h1, else h2, h3) that a metadata title starts with, or is; else one
    that a metadata title ends with (`Site: Headline`)."""
    wanted = [_key(t) for t in meta_titles if t]
    wanted = [w for w in wanted if w]
    if not wanted:
        return None
    headings = [(_key(el.text_content()), el) for level in ("h1", "h2", "h3") for el in root.iter(level)]

    def long_enough(key: str, whole: str) -> bool:
        return len(key) >= 12 or len(key) >= len(whole) / 2

    def starts(k: str, w: str) -> bool:
        return w == k or (w.startswith(k) and long_enough(k, w))

    def ends(k: str, w: str) -> bool:
        return w.endswith(k) and long_enough(k, w)

    for match in (starts, ends):
        for key, el in headings:
            if key and any(match(key, w) for w in wanted):
                text = drop_boilerplate(clean_text(el.text_content()))
                if text and _visible(el) and not _home_link(el, text):
                    return text, el
    return None


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


def prominent_headline(root: _Element, page_title: str, stripped_title: str = "") -> str:
    """The visible text that the <title> repeats, else the most prominent text near the top, else
    the first h1/h2, else the <title> without the site's name (`stripped_title`), else the longest
    part of the <title>."""
    body = root.find(".//body")
    candidates: list[tuple[int, int, str]] = []  # (score, -position, text)
    for n, el in enumerate((body if body is not None else root).iter()):
        if not isinstance(el.tag, str) or el.tag in ("a", "li", "title", "option"):
            continue
        if el.tag not in HEADINGS and not any(isinstance(c.tag, str) for c in el) and el.tag not in (
                "b", "strong", "font", "div", "span", "p", "td"):
            continue
        text = drop_boilerplate(clean_text(el.text_content()))
        heading = el.tag in HEADINGS
        if not (2 if heading else 8) <= len(text) <= 250 or (not heading and len(text.split()) < 2) \
                or DATE_TEXT_RE.fullmatch(text):
            continue
        if not heading and any(isinstance(c.tag, str) and c.tag in BLOCKS for c in el):
            continue  # a container, not a headline
        if _all_link(el, text) or not _visible(el) or any(a.tag == "a" for a in el.iterancestors()):
            continue  # a link: a logo, a site name or another page's teaser, not the page's headline
        in_title = bool(page_title) and fold(text) in page_title
        score = _prominence(el) + (200 + 100 * len(text) // len(page_title) if in_title else 0)
        if score:
            candidates.append((score, -n, text))
    if candidates:
        return max(candidates)[2]
    if stripped_title and stripped_title != page_title:
        return stripped_title
    if page_title:
        parts = [p for p in _SEPARATOR.split(page_title) if p]
        return max(parts, key=len) if parts else page_title
    return ""


def headline_element(root: _Element, title: str) -> _Element | None:
    """The innermost visible element whose text is the title; else the heading whose text the
    title starts with (a title that kept a suffix the heading lacks)."""
    wanted = fold(title)
    found = None
    body = root.find(".//body")
    scope = body if body is not None else root
    for el in scope.iter():
        if isinstance(el.tag, str) and el.tag not in ("title", "script", "style") and \
                fold(el.text_content()) == wanted:
            found = el  # keep descending: the innermost match comes last in document order
        elif found is not None and el not in set(found.iterdescendants()):
            break
    if found is not None:
        return found
    key = _key(title)
    for el in scope.iter("h1", "h2", "h3"):
        text_key = _key(el.text_content())
        if len(text_key) >= 8 and (key.startswith(text_key) or text_key.startswith(key)):
            return el
    return None
