"""What a page says about itself in markup made for machines: JSON-LD, `meta` tags, microdata.

Real pages spell it in many ways, and this reads them as search engines do: JSON-LD that a strict
parser refuses (trailing text, raw control characters, trailing commas, several objects in one
script), the article found by its type inside `@graph` arrays and nested objects, `meta` names
compared without their separators (`article:published_time`, `article:published:time` and
`article_published_time` are one name), Dublin Core and microdata `itemprop` values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from lxml import etree
from lxml.etree import _Element

from portalscraper.extract.text import fold

# schema.org types of an article, a post or a report, and the page types that may carry its dates.
ARTICLE_TYPES = frozenset({
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "reviewnewsarticle", "backgroundnewsarticle", "askpublicnewsarticle", "satiricalarticle", "blogposting",
    "liveblogposting", "socialmediaposting", "discussionforumposting", "techarticle", "scholarlyarticle",
    "report", "advertisercontentarticle", "medicalscholarlyarticle", "pressrelease", "apireference", "creativework",
})
PAGE_TYPES = frozenset({"webpage", "itempage", "collectionpage", "aboutpage", "faqpage", "qapage"})
# Types whose dates and names are never the article's.
_OTHER_TYPES = frozenset({
    "website", "organization", "newsmediaorganization", "person", "breadcrumblist", "imageobject",
    "videoobject", "searchaction", "listitem", "sitenavigationelement", "wpheader", "wpfooter", "comment",
    "brand", "place", "postaladdress", "contactpoint", "offer", "product", "event", "review", "rating",
    "aggregaterating", "corporation", "localbusiness", "govermentorganization", "governmentorganization",
})

_CONTROL = re.compile(r"[\x00-\x1f]")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def _loads(raw: str) -> list[Any]:
    """Every JSON value in a script's text, as leniently as browsers' consumers read it."""
    text = raw.strip()
    for wrapper in ("<!--", "-->", "<![CDATA[", "]]>", "//<![CDATA[", "//]]>"):
        text = text.replace(wrapper, "")
    text = text.strip().rstrip(";")
    values: list[Any] = []
    decoder = json.JSONDecoder(strict=False)  # raw control characters inside strings
    for attempt in (text, _TRAILING_COMMA.sub(r"\1", _CONTROL.sub(" ", text))):
        pos, values = 0, []
        try:
            while pos < len(attempt):
                while pos < len(attempt) and attempt[pos] in " \t\r\n;,":
                    pos += 1
                if pos >= len(attempt):
                    break
                value, pos = decoder.raw_decode(attempt, pos)
                values.append(value)
        except json.JSONDecodeError:
            if values:
                return values  # what parsed before the trailing text
            continue
        return values
    return values


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).rsplit("/", 1)[-1].lower() for k in kinds if k}


def _objects(values: list[Any]) -> Iterator[dict[str, Any]]:
    """Every object in the values, breadth first (graph members, nested `mainEntity`...)."""
    queue: list[Any] = list(values)
    seen = 0
    while queue and seen < 2000:  # bounded: a page's JSON-LD is small, a hostile one is not
        node = queue.pop(0)
        seen += 1
        if isinstance(node, list):
            queue.extend(node)
        elif isinstance(node, dict):
            yield node
            for key, value in node.items():
                if key != "@context" and isinstance(value, dict | list):
                    queue.append(value)


def jsonld_objects(scripts: list[str]) -> list[dict[str, Any]]:
    """Every object of the page's JSON-LD scripts, script by script, each breadth first."""
    return [o for raw in scripts for o in _objects(_loads(raw))]


def jsonld_article(scripts: list[str], objects: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The page's article in its JSON-LD: the first object of an article type; else a web page
    object with a headline or a date; else any object with one that is not a site, an organization,
    a person or the like. Empty when there is none. (`objects`: `jsonld_objects(scripts)`, when the
    caller has them already.)"""
    objects = jsonld_objects(scripts) if objects is None else objects
    for wanted in (ARTICLE_TYPES, PAGE_TYPES):
        for node in objects:
            if _types(node) & wanted and any(k in node for k in ("headline", "datePublished", "dateModified",
                                                                  "dateCreated", "name")):
                return node
    for node in objects:
        if not _types(node) & _OTHER_TYPES and any(k in node for k in ("headline", "datePublished")):
            return node
    return {}


def jsonld_site_names(scripts: list[str], objects: list[dict[str, Any]] | None = None) -> list[str]:
    """Names of the site and its publisher in the JSON-LD (to strip them from titles)."""
    names = []
    for node in jsonld_objects(scripts) if objects is None else objects:
        if _types(node) & {"website", "organization", "newsmediaorganization", "corporation"}:
            for key in ("name", "alternateName"):
                if isinstance(node.get(key), str):
                    names.append(fold(node[key]))
    return names


def text_of(value: Any) -> str:
    """A JSON-LD value as text: a string, the first of a list, an object's `@value` or name."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name") or ""
    return value if isinstance(value, str) else str(value) if isinstance(value, int | float) else ""


_NOT_KEY = re.compile(r"[^0-9a-z]")
_META_ATTRS = ("property", "name", "itemprop", "http-equiv")


@lru_cache(maxsize=4096)
def meta_key(name: str) -> str:
    """A meta name or property without case and separators: `og:title` is `ogtitle`."""
    return _NOT_KEY.sub("", name.lower())


def meta_tags(root: _Element, metas: Iterable[_Element] | None = None) -> dict[str, str]:
    """Every `meta` tag's content by its name, property or itemprop (as `meta_key`; the first of
    each wins). (`metas`: the page's meta tags in document order, when the caller has them already.)"""
    tags: dict[str, str] = {}
    for el in root.iter("meta") if metas is None else metas:
        attrs = dict(el.items())
        content = attrs.get("content")
        if content is None:
            content = attrs.get("value")  # pages re-serialized by some tools, and a few CMSs, spell it so
        if not content or content.isspace():
            continue
        folded = None
        for attr in _META_ATTRS:
            key = meta_key(attrs.get(attr) or "")
            if key and key not in tags:
                tags[key] = folded = folded if folded is not None else fold(content)
    return tags


# Meta names (as meta_key) of a publication date and of an update date, most specific first.
PUBLISHED_META = (
    "articlepublishedtime", "articlepublished", "ogarticlepublishedtime", "articlepublicationdate",
    "datepublished", "publishdate", "publisheddate", "publishedtime", "publishdatetime", "publicationdate",
    "pubdate", "originalpublicationdate", "firstpublisheddate", "dctermsissued", "dcdateissued", "dcissued",
    "dctermscreated", "dcdatecreated", "dccreated", "dctermsdate", "dcdate", "sailthrudate", "parselypubdate",
    "citationpublicationdate", "citationdate", "citationonlinedate", "displaydate", "datecreated", "date",
    "creationdate", "created", "published",
)
UPDATED_META = (
    "articlemodifiedtime", "articlemodified", "ogupdatedtime", "articleupdatedtime", "datemodified",
    "modifieddate", "modifiedtime", "updateddate", "updatedtime", "lastmodified", "lastupdated",
    "dctermsmodified", "dcdatemodified", "dcmodified", "dateupdated", "lastmod", "revised",
)
TITLE_META = ("ogtitle", "twittertitle", "dctitle", "dctermstitle", "citationtitle", "parselytitle", "headline",
              "title")
SITE_META = ("ogsitename", "applicationname", "twittersite", "publisher", "dcpublisher", "copyright")
SUMMARY_META = ("ogdescription", "description", "twitterdescription", "dcdescription", "dctermsdescription")


def first(tags: dict[str, str], names: tuple[str, ...]) -> str:
    return next((tags[name] for name in names if tags.get(name)), "")


# Elements with an itemprop (the attributes' parents: as `//*[@itemprop]`, in a third less time).
ITEMPROPS = etree.XPath("//@itemprop/..")


def microdata(root: _Element, prop: str, found: list[_Element] | None = None) -> list[tuple[_Element, str]]:
    """Elements (not `meta`, which `meta_tags` reads) carrying `itemprop=prop`, with their value
    (`content`, `datetime`, or text), unless they describe a comment, a review or a person.
    `found`: the page's elements with an `itemprop`, when the caller has them already."""
    out = []
    for el in ITEMPROPS(root) if found is None else found:
        if el.tag == "meta" or prop not in (el.get("itemprop") or "").split():
            continue
        scope = next((a for a in el.iterancestors() if a.get("itemscope") is not None), None)
        if scope is not None and re.search(r"Comment|Review|Person|Organization", scope.get("itemtype") or ""):
            continue
        value = el.get("content") or el.get("datetime") or fold(el.text_content())
        if value:
            out.append((el, fold(value)))
    return out
