"""URL templates: the shapes a site's links share, learned from the site's own pages (pure).

`/article/1950` and `/article/2013` share the template `/article/{n}`; `/2012/09/allies-meet/`
is `/{n}/{n}/{slug}/`; `/news/item.php?id=5` is `/news/item.php?id={n}`. Which templates are a
site's items is never decided by words or numbers in the URL: the links that carry an entry's
headline with its date or teaser in a listing vote for their template (`TemplateBook.vote`), and
a URL is an item when its template won such votes. Pagers and archives ("2", "Next ›", "2013")
vote for theirs as navigation.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

N = "{n}"
SLUG = "{slug}"
_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"[^\W\d_]{2,}")
# A slug: two or more words joined by - _ or +, an extension allowed (`annual-report-2011.html`).
_SLUG = re.compile(r"^[^\W_]+(?:[-_+~.][^\W_]+)+$")


def _segment(segment: str) -> str:
    if not segment:
        return ""
    if segment.isdigit():
        return N
    stem, dot, ext = segment.rpartition(".") if re.search(r"\.[A-Za-z]{2,5}$", segment) else (segment, "", "")
    if _SLUG.match(stem) and len(_WORD.findall(stem)) >= 2:
        return SLUG + dot + ext
    return _DIGITS.sub(N, segment)


def url_template(url: str) -> str:
    """The template of a URL: its path and query (not its host), numbers as `{n}`, slugs of two words
    or more as `{slug}`, query values by the same rules."""
    parts = urlsplit(url)
    path = "/".join(_segment(s) for s in (parts.path or "/").split("/"))
    pairs = sorted((k, _segment(v) if v else "") for k, v in parse_qsl(parts.query, keep_blank_values=True))
    return path + ("?" + "&".join(f"{k}={v}" for k, v in pairs) if pairs else "")


def _split(template: str) -> tuple[list[str], str]:
    path, _, query = template.partition("?")
    return path.split("/"), query


def _segment_fits(value: str, pattern: str) -> bool:
    """A URL's segment (as its template writes it) against a learned template's: `{slug}` stands for
    any word segment (a one-word slug is a slug too), `{n}` for a number; others are literal."""
    if value == pattern:
        return True
    if pattern.startswith(SLUG):
        suffix = pattern[len(SLUG):]
        return bool(value) and value != N and value.endswith(suffix) and not value.startswith(N)
    return False


def fits(template: str, learned: str) -> bool:
    """Whether a URL's template is an instance of a learned one."""
    if template == learned:
        return True
    (path, query), (lpath, lquery) = _split(template), _split(learned)
    return query == lquery and len(path) == len(lpath) and all(
        _segment_fits(v, p) for v, p in zip(path, lpath, strict=True))


@dataclass
class TemplateBook:
    """Votes for templates: an entry's headline link (item) or a pager's or archive's link
    (navigation). A template is an item template when its item votes outnumber its navigation
    votes."""

    items: Counter[str] = field(default_factory=Counter)
    navigation: Counter[str] = field(default_factory=Counter)

    def vote(self, url: str, item: bool) -> None:
        (self.items if item else self.navigation)[url_template(url)] += 1

    def update(self, other: TemplateBook) -> None:
        self.items.update(other.items)
        self.navigation.update(other.navigation)

    def item_templates(self) -> list[str]:
        return sorted(t for t, n in self.items.items() if n > self.navigation.get(t, 0))

    def is_item(self, url: str) -> bool:
        template = url_template(url)
        if template in self.items:
            return self.items[template] > self.navigation.get(template, 0)
        if self.navigation.get(template):
            return False
        return any(fits(template, learned) for learned in self.item_templates())

    def __bool__(self) -> bool:
        return bool(self.items)
