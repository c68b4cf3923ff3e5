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
import time
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from twisted.internet import reactor
from twisted.web import resource, server

from portalscraper.crawl.httputil import REPLICA_HEADER, REPLICA_VALUE
from portalscraper.replica import render
from portalscraper.replica.content import SEED_DATE, ChangeError, Portal, load_changes
from portalscraper.replica.faults import Faults, malformed

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
_SID = re.compile(r"^/cps/(?P<lang>[a-z]{2})/SID-[0-9A-Fa-f]+-[0-9A-Fa-f]+/")
_CPS = re.compile(r"^/cps/(?P<lang>en|fr)/(?:natolive|natohq)/(?P<page>[\w.-]+)$")
_ITEM = re.compile(r"^(?P<key>(?:news|topics)_\d+)\.htm$")
_REVIEW_ARTICLE = re.compile(r"^/docu/review/2012/(?P<edition>[\w-]+)/(?P<slug>[\w-]+)/EN/index\.htm$", re.I)
_REVIEW_EDITION = re.compile(r"^/docu/review/2012/(?P<edition>[\w-]+)/EN/index\.htm$", re.I)
_SITEMAP_NEWS = re.compile(r"^/sitemap-news-(?P<n>\d+)\.xml$")
_ASSET = re.compile(r"^/(?:docu/pdf|images)/[\w.-]+\.(?P<ext>pdf|jpg)$")
# A change API request's body at most: changes are a few small objects.
MAX_CHANGES_BYTES = 1024 * 1024
_PDF = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
_JPEG = "\xff\xd8\xff\xe0 JFIF replica image \xff\xd9"
# Pages that may be faulty: item pages (NATO Review editions' indexes among them) and the news
# archive's pages.
_FAULTY = re.compile(
    r"^/cps/[a-z]{2}/nato(?:live|hq)/(?:(?:news|topics)_\d+|news)\.htm$|^/docu/review/2012/[\w-]+/(?:[\w-]+/)?EN/")


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
            return Page(200, render.robots(base, self.portal.quirks), "text/plain; charset=utf-8")
        if self.portal.quirks and (m := _ASSET.match(path)):
            kind = "application/pdf" if m["ext"] == "pdf" else "image/jpeg"
            return Page(200, _PDF if m["ext"] == "pdf" else _JPEG, kind)
        if path == "/sitemap.xml":
            return Page(200, render.sitemap_index(self.portal, base), "application/xml; charset=utf-8")
        if path == "/sitemap-pages.xml":
            return Page(200, render.sitemap_pages(self.portal, base), "application/xml; charset=utf-8")
        if path == "/docu/review/rss.xml":
            return Page(200, render.review_rss(self.portal, base), "application/rss+xml; charset=utf-8")
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
            intro = self.portal.edition_intro(m["edition"])
            if not items and intro is None:
                return self._missing(path)
            return Page(200, render.edition(self.portal, m["edition"], items, intro),
                        modified=_latest([*items, *([intro] if intro else [])]))
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
                related = self.portal.news_page(1, 13) if self.portal.news_sized else None
                return Page(200, render.detail(item, lang, assets=self.portal.quirks, related=related),
                            modified=item.modified)
        return self._missing(path)

    def _review_key(self, edition: str, slug: str) -> str | None:
        wanted = f"review/{edition}/{slug}".lower()
        for key in self.portal.homepage_review:
            item = self.portal.get(key)
            if key.lower() == wanted and not (item and item.intro):  # an edition's intro lives at its index
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

    def __init__(self, portal: Portal, faults: Faults | None = None, log: IO[str] | None = None) -> None:
        super().__init__()
        self.portal = portal
        self.router = Router(portal)
        self.faults = faults or Faults()
        self.log = log

    def render_GET(self, request: server.Request) -> bytes | int:  # noqa: N802 (Twisted's name)
        uri = request.uri.decode("latin-1")
        parts = urlsplit(uri)
        request.setHeader(REPLICA_HEADER, REPLICA_VALUE)  # crawls read the replica at full speed
        host = (request.getHeader("host") or f"{HOST}:{request.getHost().port}").strip()
        self._log_request(request, host, uri)
        query = parse_qs(parts.query)
        hop, loop = query.pop("_hop", None), query.pop("_loop", None)
        key = self._fault_key(parts.path, query)
        mode = self.faults.mode(key) if key else None
        if loop is not None:  # a redirect loop goes round until the client gives up
            return self._redirect(request, parts.path, query, "_loop", _int(loop[0]) + 1)
        if hop is not None:  # a chain of three redirects, then the page
            mode = None
            if _int(hop[0]) < 3:
                return self._redirect(request, parts.path, query, "_hop", _int(hop[0]) + 1)
        elif mode is not None and key is not None and not self.faults.bites(key, mode):
            mode = None
        return self._answer(request, parts.path, query, host, mode)

    def _answer(self, request: server.Request, path: str, query: dict[str, list[str]], host: str,
                mode: str | None) -> bytes | int:
        """The page, or the fault `mode` in its place."""
        uri = request.uri.decode("latin-1")
        if mode in ("500", "503", "429"):
            request.setResponseCode(int(mode))
            if mode != "500":
                request.setHeader("Retry-After", "1")
            request.setHeader("Content-Type", "text/html; charset=utf-8")
            return b"<html><body><h1>The server is busy</h1></body></html>"
        if mode == "redirect-chain":
            return self._redirect(request, path, query, "_hop", 1)
        if mode == "redirect-loop":
            return self._redirect(request, path, query, "_loop", 1)
        if mode == "offsite":
            request.setResponseCode(302)
            request.setHeader("Location", f"http://localhost:{request.getHost().port}{uri}")
            return b""
        if mode == "drop":
            request.channel.transport.abortConnection()  # type: ignore[union-attr]
            return server.NOT_DONE_YET
        page = self.router.route(path, query, f"http://{host}")
        body = self._respond(request, page, mode)
        if mode == "slow":
            def later() -> None:
                if not finished:
                    request.write(body)
                    request.finish()

            finished: list[bool] = []
            request.notifyFinish().addBoth(lambda _: finished.append(True))
            reactor.callLater(self.faults.slow_seconds, later)  # type: ignore[arg-type]
            return server.NOT_DONE_YET
        if mode == "truncate" and len(body) > 1:
            request.setHeader("Content-Length", str(len(body)))
            request.write(body[: len(body) // 2])
            request.channel.transport.loseConnection()  # type: ignore[union-attr,misc]
            return server.NOT_DONE_YET
        return body

    def _respond(self, request: server.Request, page: Page, mode: str | None) -> bytes:
        """Status, headers and body of a routed page, shaped by a fault mode."""
        request.setResponseCode(page.status)
        if page.location:
            request.setHeader("Location", page.location)
            return b""
        text = page.body
        content_type = page.content_type
        if page.status == 200 and content_type.startswith("text/html"):
            if mode == "malformed":
                text = malformed(text)
            elif mode == "large":
                text = text.replace("</body>", f"<!-- {'x' * self.faults.large_bytes} --></body>", 1)
        body = text.encode("cp1252", "xmlcharrefreplace") if mode == "charset-cp1252" else text.encode("utf-8")
        if mode == "charset-meta" and content_type.startswith("text/html"):
            content_type = "text/html; charset=iso-8859-1"  # the page's own meta tag says utf-8
        request.setHeader("Content-Type", content_type)
        if page.status != 200:
            return body
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        request.setHeader("ETag", etag)
        request.setHeader("Last-Modified", email.utils.format_datetime(page.modified, usegmt=True))
        request.setHeader("Vary", "Accept-Encoding")
        if _not_modified(request, etag, page.modified):
            request.setResponseCode(304)
            return b""
        if mode != "large" and b"gzip" in (request.getHeader("accept-encoding") or "").encode():
            request.setHeader("Content-Encoding", "gzip")
            return gzip.compress(body, compresslevel=5, mtime=0)
        return body

    @staticmethod
    def _fault_key(path: str, query: dict[str, list[str]]) -> str | None:
        path = _SID.sub(r"/cps/\g<lang>/", unquote(path))
        if not _FAULTY.match(path):
            return None
        return f"{path}?page={query['page'][0]}" if "page" in query else path

    @staticmethod
    def _redirect(request: server.Request, path: str, query: dict[str, list[str]], name: str, value: int) -> bytes:
        pairs = [(k, v) for k, values in query.items() for v in values] + [(name, str(value))]
        request.setResponseCode(302)
        request.setHeader("Location", f"{path}?{urlencode(pairs)}")
        return b""

    def _log_request(self, request: server.Request, host: str, uri: str) -> None:
        if self.log is None:
            return
        agent = request.getHeader("user-agent") or ""
        self.log.write(json.dumps({"t": round(time.time(), 3), "method": request.method.decode(), "host": host,
                                   "uri": uri, "agent": agent}) + "\n")
        self.log.flush()

    def render_POST(self, request: server.Request) -> bytes:  # noqa: N802 (Twisted's name)
        """The change API: a JSON list of changes (content.Portal.apply). A body that is not one is
        answered 400 with the reason, never 500."""
        if urlsplit(request.uri.decode("latin-1")).path != "/_replica/changes":
            request.setResponseCode(405)
            return b"POST only at /_replica/changes\n"
        request.setHeader("Content-Type", "application/json")
        body = request.content.read(MAX_CHANGES_BYTES + 1) if request.content is not None else b""
        try:
            if len(body) > MAX_CHANGES_BYTES:
                raise ChangeError(f"changes are larger than {MAX_CHANGES_BYTES:,} bytes")
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ChangeError(f"changes are not UTF-8 text ({exc.reason} at byte {exc.start})") from None
            try:
                changes = load_changes(text)
            except RecursionError:
                raise ChangeError("changes are nested too deeply to be read as JSON") from None
            keys = self.portal.apply_all(changes)
        except ChangeError as exc:
            request.setResponseCode(400)
            return json.dumps({"error": str(exc)}).encode()
        return json.dumps({"applied": keys}).encode()


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


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


def serve(portal: Portal, port: int = 0, out: IO[str] = sys.stdout, faults: Faults | None = None,
          log: IO[str] | None = None) -> None:
    """Listen on 127.0.0.1:port (0 for a free one), announce the base URL on `out`, run until stopped.

    `faults` makes some pages misbehave (see faults.py); `log` receives one JSON line per request.
    """
    site = QuietSite(PortalResource(portal, faults, log))
    listening = reactor.listenTCP(port, site, interface=HOST)  # type: ignore[arg-type]
    out.write(f"replica portal listening on http://{HOST}:{listening.getHost().port}\n")  # type: ignore[misc]
    out.flush()
    reactor.run()  # type: ignore[misc]
