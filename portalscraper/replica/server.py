"""The replica portal as a real HTTP server on loopback (Twisted): routing, caching headers, gzip."""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import hashlib
import json
import logging
import re
import sys
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import parse_qs, unquote, urlsplit

from twisted.internet import reactor
from twisted.web import resource, server

from portalscraper.replica import render
from portalscraper.replica.content import SEED_DATE, ChangeError, Portal, load_changes

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
_SID = re.compile(r"^/cps/(?P<lang>[a-z]{2})/SID-[0-9A-Fa-f]+-[0-9A-Fa-f]+/")
_CPS = re.compile(r"^/cps/(?P<lang>en|fr)/(?:natolive|natohq)/(?P<page>[\w.-]+)$")
_ITEM = re.compile(r"^(?P<key>(?:news|topics)_\d+)\.htm$")
_REVIEW_ARTICLE = re.compile(r"^/docu/review/2012/(?P<edition>[\w-]+)/(?P<slug>[\w-]+)/EN/index\.htm$", re.I)
_REVIEW_EDITION = re.compile(r"^/docu/review/2012/(?P<edition>[\w-]+)/EN/index\.htm$", re.I)
_SITEMAP_NEWS = re.compile(r"^/sitemap-news-(?P<n>\d+)\.xml$")


@dataclass
class Page:
    status: int
    body: str
    content_type: str = "text/html; charset=utf-8"
    modified: dt.datetime = SEED_DATE
    location: str = ""


class Router:
    """Maps a request path and query to a Page, from the portal's content."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def route(self, raw_path: str, query: dict[str, list[str]], base: str) -> Page:
        path = _SID.sub(r"/cps/\g<lang>/", unquote(raw_path))
        if path in ("/", "/index.htm"):
            return Page(302, "", location="/cps/en/natolive/index.htm")
        if path == "/robots.txt":
            return Page(200, render.robots(base), "text/plain; charset=utf-8")
        if path == "/sitemap.xml":
            return Page(200, render.sitemap_index(self.portal, base), "application/xml; charset=utf-8")
        if path == "/sitemap-pages.xml":
            return Page(200, render.sitemap_pages(self.portal, base), "application/xml; charset=utf-8")
        if m := _SITEMAP_NEWS.match(path):
            text = render.sitemap_news(self.portal, base, int(m["n"]))
            return Page(200, text, "application/xml; charset=utf-8") if text else self._missing(path)
        if m := _CPS.match(path):
            locale = query.get("selectedLocale", [m["lang"]])[0]
            lang = locale if locale in ("en", "fr") else m["lang"]
            return self._cps(path, m["page"], lang, query, base)
        if m := _REVIEW_ARTICLE.match(path):
            key = self._review_key(m["edition"], m["slug"])
            item = self.portal.get(key) if key else None
            if item is None:
                return self._missing(path)
            return Page(200, render.review_article(self.portal, item), modified=item.modified)
        if m := _REVIEW_EDITION.match(path):
            items = self.portal.edition(m["edition"])
            if not items:
                return self._missing(path)
            return Page(200, render.edition(self.portal, m["edition"], items), modified=_latest(items))
        return self._missing(path)

    def _cps(self, path: str, page: str, lang: str, query: dict[str, list[str]], base: str) -> Page:
        if page == "index.htm":
            features, news, review = self.portal.homepage()
            return Page(200, render.homepage(self.portal, lang), modified=_latest([*features, *news, *review]))
        if page == "news.htm":
            try:
                number = int(query.get("page", ["1"])[0])
            except ValueError:
                return self._missing(path)
            text = render.news_archive(self.portal, lang, number)
            return Page(200, text) if text else self._missing(path)
        if page == "news_rss.xml":
            return Page(200, render.rss(self.portal, base, lang), "application/rss+xml; charset=utf-8")
        if page == "sg_blog.htm" and lang == "en":
            return Page(200, render.blog_page())
        if m := _ITEM.match(page):
            if status := self.portal.broken.get(m["key"]):
                return Page(status, render.not_found(path) if status == 404 else "<h1>Server error</h1>")
            item = self.portal.get(m["key"])
            if item is not None:
                return Page(200, render.detail(item, lang), modified=item.modified)
        return self._missing(path)

    def _review_key(self, edition: str, slug: str) -> str | None:
        wanted = f"review/{edition}/{slug}".lower()
        for key in self.portal.homepage_review:
            if key.lower() == wanted:
                return key
        return None

    @staticmethod
    def _missing(path: str) -> Page:
        return Page(404, render.not_found(path))


def _latest(items: list[Any]) -> dt.datetime:
    return max((i.modified for i in items), default=SEED_DATE)


class PortalResource(resource.Resource):
    """Serves every path of the replica; HEAD is served by Twisted from GET without a body."""

    isLeaf = True  # noqa: N815 (Twisted's name)

    def __init__(self, portal: Portal) -> None:
        super().__init__()
        self.portal = portal
        self.router = Router(portal)

    def render_GET(self, request: server.Request) -> bytes:  # noqa: N802 (Twisted's name)
        uri = request.uri.decode("latin-1")
        parts = urlsplit(uri)
        host = (request.getHeader("host") or f"{HOST}:{request.getHost().port}").strip()
        page = self.router.route(parts.path, parse_qs(parts.query), f"http://{host}")
        request.setResponseCode(page.status)
        if page.location:
            request.setHeader("Location", page.location)
            return b""
        request.setHeader("Content-Type", page.content_type)
        body = page.body.encode("utf-8")
        if page.status != 200:
            return body
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        request.setHeader("ETag", etag)
        request.setHeader("Last-Modified", email.utils.format_datetime(page.modified, usegmt=True))
        request.setHeader("Vary", "Accept-Encoding")
        if _not_modified(request, etag, page.modified):
            request.setResponseCode(304)
            return b""
        if b"gzip" in (request.getHeader("accept-encoding") or "").encode():
            request.setHeader("Content-Encoding", "gzip")
            return gzip.compress(body, compresslevel=5, mtime=0)
        return body

    def render_POST(self, request: server.Request) -> bytes:  # noqa: N802 (Twisted's name)
        if urlsplit(request.uri.decode("latin-1")).path != "/_replica/changes":
            request.setResponseCode(405)
            return b"POST only at /_replica/changes\n"
        request.setHeader("Content-Type", "application/json")
        try:
            body = request.content.read() if request.content is not None else b""
            keys = self.portal.apply_all(load_changes(body.decode("utf-8")))
        except ChangeError as exc:
            request.setResponseCode(400)
            return json.dumps({"error": str(exc)}).encode()
        return json.dumps({"applied": keys}).encode()


def _not_modified(request: server.Request, etag: str, modified: dt.datetime) -> bool:
    if_none_match = request.getHeader("if-none-match")
    if if_none_match is not None:
        return etag in [t.strip() for t in if_none_match.split(",")] or if_none_match.strip() == "*"
    since = request.getHeader("if-modified-since")
    if since:
        try:
            when = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        return modified.replace(microsecond=0) <= when
    return False


class QuietSite(server.Site):
    """A Site that writes no access log line per request (the benchmarks would pay for it)."""

    def log(self, request: Any) -> None:
        pass


def serve(portal: Portal, port: int = 0, out: IO[str] = sys.stdout) -> None:
    """Listen on 127.0.0.1:port (0 for a free one), announce the base URL on `out`, run until stopped."""
    listening = reactor.listenTCP(port, QuietSite(PortalResource(portal)), interface=HOST)  # type: ignore[attr-defined,arg-type]
    out.write(f"replica portal listening on http://{HOST}:{listening.getHost().port}\n")  # type: ignore[misc]
    out.flush()
    reactor.run()  # type: ignore[attr-defined,misc]
