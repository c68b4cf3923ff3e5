"""What a site publishes about its own items for machines: sitemaps, RSS and Atom feeds (pure).

Read as search engines and news-please read them: robots.txt `Sitemap:` lines, sitemap indexes,
URL sets with `lastmod` (Google News sitemaps' title and publication date too), plain-text
sitemaps; RSS 2.0, RSS 1.0 and Atom entries with their title, link, teaser and dates; feeds a
page announces (`<link rel="alternate" type="application/rss+xml">`).

Feeds and sitemaps are XML from the network, so they are parsed defused: a document that
declares entities is refused (no billion laughs), no entity is resolved, no DTD or anything else
is fetched, a gzip file is inflated only up to the size limit, and a document over it is refused.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass

from lxml import etree
from lxml.etree import _Element

from portalscraper.extract.dates import parse_datetime
from portalscraper.extract.text import clean_markup, fold
from portalscraper.extract.urls import absolute_url

# The sitemaps protocol's own limit for one file, uncompressed.
MAX_XML_BYTES = 50 * 1024 * 1024
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)


class XmlRefusedError(ValueError):
    """A feed or sitemap that is not read: too large, declaring entities, or not XML at all."""


def inflate(body: bytes, max_bytes: int = MAX_XML_BYTES) -> bytes:
    """A gzip file's content (`sitemap.xml.gz`), inflated to `max_bytes` at most; other bytes as they are."""
    if body[:2] != b"\x1f\x8b":
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise XmlRefusedError(f"a broken gzip file ({exc})") from None
    if len(out) > max_bytes:
        raise XmlRefusedError(f"larger than {max_bytes:,} bytes once inflated")
    return out


# How XML from the network is parsed, whole (`parse_xml`) or as a stream (`_stream_sitemap`).
_DEFUSED = {"resolve_entities": False, "no_network": True, "load_dtd": False, "dtd_validation": False,
            "huge_tree": False, "recover": True, "remove_comments": True, "remove_pis": True}


def _defused(body: bytes, max_bytes: int) -> bytes:
    """The document's bytes, inflated, once they pass the checks of the module's docstring."""
    body = inflate(body, max_bytes)
    if len(body) > max_bytes:
        raise XmlRefusedError(f"larger than {max_bytes:,} bytes")
    if _ENTITY.search(body, 0, _prolog_end(body)):
        raise XmlRefusedError("the document declares entities (refused: entity expansion)")
    return body


def parse_xml(body: bytes, max_bytes: int = MAX_XML_BYTES) -> _Element:
    """The root of an XML document from the network, parsed defused (see the module's docstring)."""
    body = _defused(body, max_bytes)
    parser = etree.XMLParser(**_DEFUSED)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise XmlRefusedError(f"not XML ({exc})") from None
    if root is None:
        raise XmlRefusedError("not XML (no root element)")
    return root


def _prolog_end(body: bytes) -> int:
    """Where the internal DTD subset ends (`]>`), or where the root element starts."""
    doctype = body.find(b"<!DOCTYPE")
    if doctype < 0:
        doctype = body.find(b"<!doctype")
    if doctype < 0:
        return min(len(body), 4096)
    end = body.find(b"]>", doctype)
    return len(body) if end < 0 else end


def _local(el: _Element) -> str:
    tag = el.tag if isinstance(el.tag, str) else ""
    return tag.rsplit("}", 1)[-1].lower()


def _child(el: _Element, *names: str) -> _Element | None:
    for name in names:
        for child in el:
            if _local(child) == name:
                return child
    return None


def _children(el: _Element) -> dict[str, _Element]:
    """An element's children by local name, the first of each (one pass, where `_child` is one per name)."""
    found: dict[str, _Element] = {}
    for child in el:
        tag = child.tag
        if isinstance(tag, str):
            found.setdefault(tag[tag.rfind("}") + 1:].lower(), child)
    return found


def _text(el: _Element | None) -> str:
    if el is None:
        return ""
    return fold(el.text or "") if not len(el) else fold("".join(el.itertext()))


# -- sitemaps --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SitemapEntry:
    """One `<url>` of a URL set (a page), or one `<sitemap>` of an index (another sitemap)."""

    url: str
    lastmod: str | None = None  # as written: 2012-09-28, 2012-09-28T13:25:24+00:00
    title: str | None = None  # a news sitemap's <news:title>
    published: str | None = None  # a news sitemap's <news:publication_date>


@dataclass(frozen=True)
class Sitemap:
    url: str
    index: bool  # a sitemap index: its entries are sitemaps
    entries: tuple[SitemapEntry, ...]


@dataclass(frozen=True)
class SitemapStream:
    """A sitemap read as its entries are used: only the entry being read is held, never the whole
    list (a 10,000-URL set held whole is about 3 MB: a crawl's last minute reads several at once).
    `entries` raises XmlRefusedError where a document turns out broken, after those before."""

    url: str
    index: bool
    entries: Iterator[SitemapEntry]


def parse_sitemap(body: bytes, url: str, max_bytes: int = MAX_XML_BYTES) -> Sitemap:
    """A sitemap (URL set or index, XML or plain text); a feed given as a sitemap counts as one
    (its entries' links, dated). Raises XmlRefusedError."""
    stream = read_sitemap(body, url, max_bytes)
    return Sitemap(url, stream.index, tuple(stream.entries))


def read_sitemap(body: bytes, url: str, max_bytes: int = MAX_XML_BYTES) -> SitemapStream:
    """`parse_sitemap`'s entries as a stream. Raises XmlRefusedError for a document that is no
    sitemap (checked before the first entry)."""
    raw = inflate(body, max_bytes)
    if not raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        lines = raw.decode("utf-8", "replace").splitlines()[:50_000]
        locs = [line.strip() for line in lines if line.strip().startswith(("http://", "https://"))]
        if not locs:
            raise XmlRefusedError("neither XML nor a list of URLs")
        return SitemapStream(url, False, (SitemapEntry(loc) for loc in locs))
    raw = _defused(raw, max_bytes)
    stream = _stream_sitemap(raw, url)
    try:
        kind = next(stream)
    except StopIteration:
        raise XmlRefusedError("not XML (no root element)") from None
    if kind in ("rss", "feed", "rdf"):
        stream.close()
        return SitemapStream(url, False, iter([SitemapEntry(e.url, e.updated_text or e.date_text, e.title)
                                               for e in _feed_entries(parse_xml(raw, max_bytes), url)]))
    if kind not in ("urlset", "sitemapindex"):
        stream.close()
        raise XmlRefusedError(f"not a sitemap (its root element is <{kind}>)")
    return SitemapStream(url, kind == "sitemapindex", (e for e in stream if isinstance(e, SitemapEntry)))


def _stream_sitemap(raw: bytes, url: str) -> Generator[str | SitemapEntry, None, None]:
    """The root element's local name, then each `<url>` or `<sitemap>` entry as it is parsed. The
    tree never holds more than the entry being read: a URL set of 50,000 entries parsed whole took
    about 2 KB of memory per entry, for a moment at the end of every crawl."""
    depth = 0
    try:
        for event, el in etree.iterparse(io.BytesIO(raw), events=("start", "end"), **_DEFUSED):
            if event == "start":
                if depth == 0:
                    yield _local(el)
                depth += 1
                continue
            depth -= 1
            if depth != 1:
                continue
            if _local(el) in ("url", "sitemap"):
                parts = _children(el)
                if loc := absolute_url(_text(parts.get("loc")), url):
                    news = parts.get("news")
                    title = _text(_child(news, "title")) if news is not None else ""
                    published = _text(_child(news, "publication_date")) if news is not None else ""
                    yield SitemapEntry(loc, _text(parts.get("lastmod")) or None, title or None, published or None)
            el.clear(keep_tail=False)
            parent = el.getparent()
            if parent is not None and len(parent) > 256:  # the entries read before, emptied: gone in one cut
                del parent[:-1]
    except etree.XMLSyntaxError as exc:
        raise XmlRefusedError(f"not XML ({exc})") from None


def robots_sitemaps(text: str, base: str) -> list[str]:
    """The sitemaps a robots.txt names (`Sitemap: URL` lines, any case, anywhere in the file)."""
    out = []
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "sitemap" and (url := absolute_url(value.split("#")[0], base)):
            out.append(url)
    return list(dict.fromkeys(out))


# -- feeds -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeedEntry:
    """One item of an RSS or Atom feed."""

    url: str
    title: str = ""
    date_text: str | None = None  # pubDate, dc:date, Atom's published (else updated): as written
    summary: str = ""  # the description or Atom summary, HTML stripped
    updated_text: str | None = None  # Atom's updated
    category: str = ""  # the first category the feed files it under


def parse_feed(body: bytes, url: str, max_bytes: int = MAX_XML_BYTES) -> list[FeedEntry]:
    """The entries of an RSS 2.0, RSS 1.0 or Atom feed. Raises XmlRefusedError."""
    root = parse_xml(body, max_bytes)
    if _local(root) not in ("rss", "feed", "rdf"):
        raise XmlRefusedError(f"not an RSS or Atom feed (its root element is <{_local(root)}>)")
    return _feed_entries(root, url)


def _feed_entries(root: _Element, url: str) -> list[FeedEntry]:
    out = []
    for el in root.iter():
        kind = _local(el)
        if kind == "item":
            link = _text(_child(el, "link"))
            guid = _child(el, "guid")
            if not link and guid is not None and (guid.get("isPermaLink") or "true").lower() == "true":
                link = _text(guid)
            date = _text(_child(el, "pubdate")) or _text(_child(el, "date")) or None
            summary = _text(_child(el, "description")) or _text(_child(el, "encoded"))
            out.append(FeedEntry(absolute_url(link, url), _text(_child(el, "title")), date, clean_markup(summary), None,
                                 _text(_child(el, "category"))))
        elif kind == "entry":
            href = ""
            for link_el in el:
                if _local(link_el) == "link" and (link_el.get("rel") or "alternate") == "alternate":
                    href = link_el.get("href") or ""
                    break
            published = _text(_child(el, "published")) or _text(_child(el, "issued")) or None
            updated = _text(_child(el, "updated")) or _text(_child(el, "modified")) or None
            summary = _text(_child(el, "summary")) or _text(_child(el, "content"))
            category = _child(el, "category")
            out.append(FeedEntry(absolute_url(href, url), _text(_child(el, "title")), published or updated,
                                 clean_markup(summary), updated,
                                 (category.get("label") or category.get("term") or "") if category is not None
                                 else ""))
    return [e for e in out if e.url]


_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")


def feed_links(root: _Element, page_url: str) -> list[str]:
    """The feeds a page announces in its head: `<link rel="alternate" type="application/rss+xml">`."""
    out = []
    for el in root.iter("link"):
        rels = (el.get("rel") or "").lower().split()
        kind = (el.get("type") or "").lower().split(";")[0].strip()
        if "alternate" in rels and kind in _FEED_TYPES and (href := absolute_url(el.get("href") or "", page_url)):
            out.append(href)
    return list(dict.fromkeys(out))


# -- when a source says an item last changed -----------------------------------------------------

# The widest offset from UTC a time written without one may be in.
_SLACK = dt.timedelta(hours=14)


def latest_moment(text: str | None) -> dt.datetime | None:
    """The latest instant (UTC) a source's date may stand for: an exact time with its offset as it
    is; a time without an offset, or a day, read as late as any time zone allows (a day ends at
    midnight UTC+14 of the next). None when it is no date, or coarser than a day. Comparisons with
    it err on the side of asking again."""
    if not text:
        return None
    parsed = parse_datetime(fold(text))  # RFC 822 (pubDate), W3C datetime (lastmod), the portal's own
    if parsed.value is None or parsed.precision not in ("day", "hour", "minute", "second"):
        return None
    moment = dt.datetime.fromisoformat(parsed.value)
    if parsed.precision == "day":
        moment += dt.timedelta(days=1)
    if moment.tzinfo is None:
        return (moment + _SLACK).replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
