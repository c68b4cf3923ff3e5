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
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from itertools import pairwise
from urllib.parse import urlsplit

from lxml import etree
from lxml.etree import _Element

from portalscraper.extract.dates import DATE_TEXT_RE
from portalscraper.extract.text import clean_text, drop_boilerplate, fold
from portalscraper.extract.vocabulary import HEADINGS
from portalscraper.extract.vocabulary import HEADLINE_BLOCKS as BLOCKS
from portalscraper.extract.vocabulary import HEADLINE_HIDDEN as _HIDDEN_PLACES

_FONT_SIZE = re.compile(r"font-size\s*:\s*(\d+(?:\.\d+)?)\s*(px|pt|em|rem)", re.I)
# Separators between a headline and a site name: `Headline | Site`, `Site - Headline`, `Headline » Site`.
_SEPARATOR = re.compile(r"\s+(?:[|–—·»/:~-]|::|\\)\s+|:\s+|\s*[|·»｜ㅣ︱]\s*|\s*-{2,}\s*"
                        r"|(?<=[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af])[_-](?=[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af])")
_NOT_ALNUM = re.compile(r"[\W_]+")
_TRANSLITERATE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "å": "aa"})


def _key(text: str) -> str:
    """A text compared without case, accents, quotes' shapes and punctuation."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKD", text.lower()))


def _key_transliterated(text: str) -> str:
    return _key(text.lower().translate(_TRANSLITERATE))


@lru_cache(maxsize=256)
def _host_names(url: str | None) -> tuple[str, ...]:
    """The host's distinctive labels: `www.boersen-zeitung.de` gives `boersenzeitung` and
    `boersenzeitungde`. (Once per URL: a page's titles ask for them several times.)"""
    host = (urlsplit(url).hostname or "") if url else ""
    labels = [label for label in host.split(".") if label and label not in ("www", "m", "amp", "mobile", "news")]
    if len(labels) < 2:
        return ()
    suffix_start = len(labels) - 1
    if len(labels) >= 3 and len(labels[-2]) <= 3:  # co.uk, com.au, co.jp
        suffix_start -= 1
    names = [_key(label) for label in labels[:suffix_start] if len(label) >= 3]
    names.append(_key("".join(labels[suffix_start - 1:])))
    return tuple(n for n in names if n)


def _is_site_name(part: str, names: Iterable[str], hosts: tuple[str, ...]) -> bool:
    keys = {_key(part), _key_transliterated(part)}
    if any(key and key == _key(name) for key in keys for name in names):
        return True
    if len(part) > 60:
        return False
    return any(host and len(host) >= 4 and any((host in key and len(key) <= len(host) + 10)
                                               or (key and key in host and len(key) >= 4)
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
    while end < len(pieces) and end - start > 1 and _section_label(pieces[end - 1], pieces[start]):
        end -= 1  # "Headline - Politics | Site": the section's name went with the site's
    while end - start > 1 and _is_site_name(pieces[start], names, hosts):
        start += 1
    if (start, end) == (0, len(pieces)):
        return title
    out = pieces[start]
    for sep, piece in zip(seps[start:end - 1], pieces[start + 1:end], strict=True):
        out += sep + piece
    return out.strip()


def _section_label(part: str, headline: str) -> bool:
    """A short part beside a much longer one: a section's name ("Politics", "정치", "时政")."""
    part = part.strip()
    short = len(part) <= 6 if _CJK.search(part) else len(part.split()) <= 2 and len(part) <= 20
    return bool(part) and short and len(headline) >= 3 * len(part)


def _visible(el: _Element) -> bool:
    return not any(isinstance(a.tag, str) and a.tag in _HIDDEN_PLACES for a in (el, *el.iterancestors()))


def _all_link(el: _Element, text: str) -> bool:
    return sum(len(fold(a.text_content())) for a in el.iter("a")) >= len(text)


def _home_link(el: _Element, text: str) -> bool:
    """A heading that is all one link to the site's home page: the site's name, not a headline."""
    links = list(el.iter("a"))
    return bool(links) and _all_link(el, text) and any(
        urlsplit(a.get("href") or "").path in ("", "/", "/index.html", "/index.php") for a in links)


_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


_HIDDEN_CLASS = re.compile(r"^(?:hidden|sr-only|visually-?hidden|screen-?reader-?text|offscreen)$", re.I)


def _shown(el: _Element, hides: dict[_Element, bool] | None = None) -> bool:
    """Visible, and not in navigation, a link (a logo), a list (a breadcrumb's current page) or a
    hidden block. (`hides`: what is known of elements already, when headings share ancestors.)"""
    hides = {} if hides is None else hides
    for a in (el, *el.iterancestors()):
        found = hides.get(a)
        if found is None:
            found = hides[a] = _hides(a)
        if found:
            return False
    return True


def _hides(a: _Element) -> bool:
    if not isinstance(a.tag, str) or a.tag in _HIDDEN_PLACES or a.tag in ("li", "a"):
        return True
    for name, value in a.items():  # (one call for an element's few attributes)
        if name == "hidden" or (name == "aria-hidden" and value == "true"):
            return True
        if name == "style" and _HIDDEN_STYLE.search(value):
            return True
        if name == "class" and _hidden_class(value):
            return True
    return False


_HIDDEN_CLASSES: dict[str, bool] = {}


def _hidden_class(klass: str) -> bool:
    """A class string with a word that hides its element (once per spelling: headings' ancestors
    repeat the page's few wrappers)."""
    found = _HIDDEN_CLASSES.get(klass)
    if found is None:
        found = any(_HIDDEN_CLASS.match(w) for w in klass.split())
        if len(_HIDDEN_CLASSES) < 100_000:
            _HIDDEN_CLASSES[klass] = found
    return found


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _words(text: str) -> set[str]:
    """A text's content words (four letters or more), and its pairs of CJK characters."""
    lowered = text.lower()
    words = {w for w in re.findall(r"\w{4,}", lowered) if not w.isdigit()}
    chars = _CJK.findall(lowered)
    words.update(a + b for a, b in pairwise(chars))
    return words


def _minor_title_part(text: str, page_title: str) -> bool:
    """A text that is one part of the page's <title>, beside a longer part: the site's name
    ("Site - Headline" printed as the page's h1)."""
    parts = [p for p in _SEPARATOR.split(page_title) if p.strip()]
    if len(parts) < 2:
        return False
    key = _key(text)
    longest = max(len(_key(p)) for p in parts)
    return any(_key(p) == key for p in parts) and len(key) < longest


def _parts(el: _Element) -> list[str]:
    """A heading's text in the pieces its child elements print (a kicker above the headline, the
    headline): the element's own text and each child's, in order."""
    parts = [fold(el.text or "")]
    for child in el:
        if isinstance(child.tag, str):
            parts.append(fold(child.text_content()))
        parts.append(fold(child.tail or ""))
    return [p for p in parts if p]


def _spelled(el: _Element, text: str, metas: list[str]) -> str:
    """The heading's text; a kicker and a headline printed as two pieces of one heading are joined
    as the publisher's metadata joins them ("Kicker: Headline") when a metadata title does so."""
    parts = _parts(el)
    if len(parts) < 2 or fold(text) in metas:
        return text
    kicker, rest = parts[0].rstrip(":–—-| "), " ".join(parts[1:]).lstrip(":–—-| ")
    for meta in metas:
        for sep in (": ", " – ", " — ", " - ", " | "):
            if meta.startswith(kicker + sep) and _key(meta[len(kicker) + len(sep):]) == _key(rest):
                return f"{kicker}{sep}{rest}"
    return text


class _ShownHeadings:
    """The visible headings with a text, h1s first (in document order within a level): their
    level, text as `_key`, and element; each heading read when an iteration first comes to it (the
    first pass over them mostly stops at the first few)."""

    def __init__(self, headings: Iterable[_Element]) -> None:
        self._headings = iter(sorted(headings, key=lambda el: str(el.tag)))  # (stable)
        self._hides: dict[_Element, bool] = {}  # the headings' ancestors, judged once
        self._read: list[tuple[str, str, _Element]] = []

    def __iter__(self) -> Iterator[tuple[str, str, _Element]]:
        n = 0
        while True:
            while n == len(self._read):
                el = next(self._headings, None)
                if el is None:
                    return
                key = _key(el.text_content())
                if key and _shown(el, self._hides):
                    self._read.append((str(el.tag), key, el))
            yield self._read[n]
            n += 1


def displayed_headline(root: _Element, meta_titles: Iterable[str], site_names: Iterable[str] = (),
                       url: str | None = None, page_title: str = "",
                       headings: Iterable[_Element] | None = None) -> tuple[str, _Element] | None:
    """The page's visible headline: a heading (h1, h2, h3) whose text is a metadata title; else an
    h1 that a metadata title starts or ends with (`Headline | Site`, `Site: Headline`); else the
    page's first h1 that is not the site's name (metadata titles are often a variant written for
    search engines and social networks, the h1 is what readers see); else an h2 or h3 that a
    metadata title starts or ends with. (`headings`: the page's h1, h2 and h3 in document order, when
    the caller has them already.)"""
    metas = [t for t in meta_titles if t]
    wanted = [w for w in (_key(t) for t in metas) if w]
    names = [n for n in site_names if n]
    candidates = _ShownHeadings(root.iter("h1", "h2", "h3") if headings is None else headings)

    def long_enough(key: str, whole: str) -> bool:
        return len(key) >= 12 or len(key) >= len(whole) / 2

    def starts_or_ends(k: str, w: str) -> bool:
        return (w.startswith(k) or w.endswith(k)) and long_enough(k, w)

    # What own_headline compares with, worked out when it is first asked (on most pages it never is).
    meta_words: set[str] | None = None
    hosts: tuple[str, ...] = ()

    def own_headline(el: _Element, key: str) -> bool:
        """An h1 that matches no metadata title: the page's headline if it speaks of what they
        speak of, and is not the site's name or a section's label."""
        nonlocal meta_words, hosts
        if meta_words is None:
            hosts, meta_words = _host_names(url), set().union(*(_words(t) for t in [*metas, page_title]))
        text = fold(el.text_content())
        if not 2 <= len(key) <= 300 or key in {_key(n) for n in names} or key in hosts:
            return False
        if page_title and _minor_title_part(text, page_title):
            return False
        return not meta_words or bool(_words(text) & meta_words)

    passes: tuple[Callable[[str, str, _Element], bool], ...] = (
        lambda level, key, el: key in wanted,
        lambda level, key, el: level == "h1" and any(starts_or_ends(key, w) for w in wanted),
        lambda level, key, el: level == "h1" and own_headline(el, key),
        lambda level, key, el: any(starts_or_ends(key, w) for w in wanted),
    )
    for accept in passes:
        for level, key, el in candidates:
            if accept(level, key, el):
                text = drop_boilerplate(clean_text(el.text_content()))
                if text and not _home_link(el, text):
                    return _spelled(el, text, metas), el
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
    body = _body(root)
    candidates: list[tuple[int, int, str]] = []  # (score, -position, text)
    places = _Places()
    for n, el in enumerate((body if body is not None else root).iter()):
        if not isinstance(el.tag, str) or el.tag in ("a", "li", "title", "option"):
            continue
        if el.tag not in HEADINGS and not any(isinstance(c.tag, str) for c in el) and el.tag not in (
                "b", "strong", "font", "div", "span", "p", "td"):
            continue
        heading = el.tag in HEADINGS
        if not heading and any(isinstance(c.tag, str) and c.tag in BLOCKS for c in el):
            continue  # a container, not a headline (and its text, the whole page's, never read)
        raw = el.text_content()
        if len(raw) < (2 if heading else 8):
            continue  # (cleaning never lengthens a text)
        text = drop_boilerplate(clean_text(raw))
        if not (2 if heading else 8) <= len(text) <= 250 or (not heading and len(text.split()) < 2) \
                or DATE_TEXT_RE.fullmatch(text):
            continue
        if _all_link(el, text) or places.hidden_or_linked(el):
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


def _body(root: _Element) -> _Element | None:
    """The page's body (by a walk from the top: a search in C reads the whole tree for a second one)."""
    return next((el for el in root.iter() if el.tag == "body"), None)


class _Places:
    """Whether an element is not `_visible` or stands in a link, each element's answer kept: the
    elements of a page share their ancestors."""

    def __init__(self) -> None:
        # element: whether it or an ancestor is a hidden place; whether it or an ancestor is a link
        self.known: dict[_Element, tuple[bool, bool]] = {}

    def _of(self, el: _Element | None) -> tuple[bool, bool]:
        chain = []
        while el is not None and el not in self.known:
            chain.append(el)
            el = el.getparent()
        hidden, linked = self.known[el] if el is not None else (False, False)
        for node in reversed(chain):
            tag = node.tag
            hidden = hidden or (isinstance(tag, str) and tag in _HIDDEN_PLACES)
            linked = linked or tag == "a"
            self.known[node] = (hidden, linked)
        return hidden, linked

    def hidden_or_linked(self, el: _Element) -> bool:
        """`not _visible(el)`, or an ancestor of `el` is a link."""
        return self._of(el)[0] or self._of(el.getparent())[1]


def headline_element(root: _Element, title: str) -> _Element | None:
    """The innermost visible element whose text is the title; else the heading whose text the
    title starts with (a title that kept a suffix the heading lacks)."""
    wanted = fold(title)
    found = None
    body = _body(root)
    scope = body if body is not None else root
    walker = etree.iterwalk(scope, events=("start",))
    for _, el in walker:
        raw: str | None = None
        text: str | None = None
        if isinstance(el.tag, str) and el.tag not in ("title", "script", "style"):
            raw = el.text_content()
            text = fold(raw)
        if text == wanted:
            found = el  # keep descending: the innermost match comes last in document order
        elif found is not None and not any(a is found for a in el.iterancestors()):
            break
        elif raw is not None and text is not None and wanted not in text and "\x1b" not in raw:
            # An element's folded text holds every descendant's: none of them is the title.
            # (Not past an escape sequence, which folding removes whole but not in part.)
            walker.skip_subtree()
    if found is not None:
        return found
    key = _key(title)
    for el in scope.iter("h1", "h2", "h3"):
        text_key = _key(el.text_content())
        if len(text_key) >= 8 and (key.startswith(text_key) or text_key.startswith(key)):
            return el
    return None
