"""What a crawl takes: which URLs it may ask for, which are the portal's items and listings, under
which URL each is known, and which dates are in its window. Pure: no Scrapy, no network."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from portalscraper.crawl.args import CrawlArgs
from portalscraper.crawl.httputil import DEFAULT_PORTS, origin
from portalscraper.extract.dates import parse_date_range
from portalscraper.extract.listing import ListingEntry
from portalscraper.extract.urls import canonical_url, is_listing, page_kind
from portalscraper.webarchive.wayback import in_archive

_CANONICAL_CACHE = 4096  # URLs; a listing page's items and their pages are read within a few hundred


class Scope:
    """A crawl's reach, from its arguments and its portal's profile.

    What is ever requested: the base URL's origin (scheme, host and port), and the portal's own
    hosts when the base URL is the portal itself; in a web-archive crawl, the archive only. A
    mirror or replica is the only origin asked: links to the portal's hosts are read from the
    mirror (`local`).
    """

    def __init__(self, args: CrawlArgs) -> None:
        self.args = args
        self.rules = args.profile.urls.with_local_origin(args.base_url)
        host = (urlsplit(args.base_url).hostname or "").lower()
        base_origin = origin(args.base_url)
        self.origins = {base_origin} if base_origin else set()
        self.portal_hosts = {d.lower() for d in args.profile.allowed_domains}
        if host in self.portal_hosts:
            self.origins |= {(scheme, d, port) for d in self.portal_hosts for scheme, port in DEFAULT_PORTS.items()}
        # The canonical form of the URLs met lately: an item's URL is canonicalized five times or
        # so between its listing entry and its record (a listing's ids, its request, its record).
        self._canonical: dict[str, str] = {}

    def allowed_domains(self) -> list[str]:
        """For Scrapy's offsite filter: the hosts asked (OriginGuardMiddleware is the strict check)."""
        if self.args.wayback:
            return [urlsplit(self.args.wayback).hostname or ""]
        host = (urlsplit(self.args.base_url).hostname or "").lower()
        return sorted({host, *self.portal_hosts}) if host in self.portal_hosts else [host]

    # -- URLs -------------------------------------------------------------------------------

    def canonical(self, url: str) -> str:
        found = self._canonical.get(url)
        if found is None:
            if len(self._canonical) >= _CANONICAL_CACHE:
                self._canonical.clear()  # bounded: a crawl's memory stays flat however large the portal
            found = self._canonical[url] = canonical_url(url, self.rules)
        return found

    def allows(self, url: str) -> bool:
        """Whether `url` may be requested at all: the crawled portal's origin (or, in a web-archive
        crawl, the archive), over http or https."""
        if self.args.wayback:
            return origin(url) is not None and in_archive(url, self.args.wayback)
        return origin(url) in self.origins

    def on_portal(self, url: str) -> bool:
        """A link to the portal: its origin, or one of the portal's hosts (read from the mirror)."""
        found = origin(url)
        return found is not None and (found in self.origins or found[1] in self.portal_hosts)

    def local(self, url: str) -> str:
        """Where to ask for a portal URL: on the crawled mirror or replica when the link names the
        portal's own host."""
        found = origin(url)
        if self.args.wayback or found is None or found in self.origins or found[1] not in self.portal_hosts:
            return url
        return self.on_base(url)

    def on_base(self, url: str) -> str:
        """The same path and query on this crawl's base URL."""
        parts = urlsplit(url)
        return urlunsplit((*urlsplit(self.args.base_url)[:2], parts.path, parts.query, ""))

    def is_item(self, url: str) -> bool:
        if not self.on_portal(url):
            return False  # another site's page (or a file:, data: URL) is never an item of this portal
        return page_kind(self.canonical(url), self.rules) is not None

    def is_hub(self, url: str) -> bool:
        """A listing page of the portal: linked with a title and a date or summary, it is an item too."""
        return self.on_portal(url) and is_listing(self.canonical(url), self.rules)

    def kind_of(self, canonical: str) -> str:
        """The record kind of a page: the profile's, else `hub` for a listing page listed as an item."""
        return page_kind(canonical, self.rules) or ("hub" if is_listing(canonical, self.rules) else "page")

    def parent_listings(self, url: str) -> list[str]:
        """The listings the profile says an item belongs to (`urls.parents`: an article's edition)."""
        path = urlsplit(url).path
        return [self.local(urlunsplit((*urlsplit(url)[:2], pattern.sub(target, path), "", "")))
                for pattern, target in self.rules.parents if pattern.search(path)]

    # -- dates ------------------------------------------------------------------------------

    def in_window(self, date_text: str | None) -> bool:
        since, until = self.args.since, self.args.until
        if not (since or until) or not date_text:
            return True
        dates = parse_date_range(date_text)
        start = dates.start
        if start is None:
            return True  # an unparseable date is the validator's business, not the filter's
        end = dates.end or start
        if since and end < since[: len(end)]:
            return False
        return not (until and start > until[: len(start)])

    def older_than_window(self, entries: list[ListingEntry]) -> bool:
        """True when the page's oldest dated entry is before `since`: no need to page further."""
        since = self.args.since
        if not since:
            return False
        starts = [d.start for e in entries if (d := parse_date_range(e.date_text)).start]
        return bool(starts) and min(starts) < since[: len(min(starts))]
