"""What the crawl's components (middlewares, pipelines, the WARC recorder, a shared crawl's parts)
need from a portal spider, as a type: `PortalCrawler`. Any other spider (one's own, Scrapy's
shell) has none of it, and `portal_spider` says so with None."""

from __future__ import annotations

from typing import Protocol, cast

from portalscraper.archive.memory import ArchiveMemory
from portalscraper.crawl.args import CrawlArgs
from portalscraper.crawl.scope import Scope


class PortalCrawler(Protocol):
    name: str
    args: CrawlArgs  # the crawl's arguments, parsed once
    scope: Scope  # what a URL is to the crawl
    archive_memory: ArchiveMemory | None  # the archive's memory of earlier crawls, once it is open

    @property
    def incremental(self) -> bool:
        """Are archived item pages asked for conditionally?"""

    @property
    def mode(self) -> str:
        """full, incremental, full+resume..."""

    @property
    def complete_pass(self) -> bool:
        """Did the crawl see everything the portal lists (so that it can tell which items are gone)?"""

    def allows_request(self, url: str) -> bool:
        """May the crawl ask for `url` (the portal's origin, or the web archive's)?"""

    def listings_complete(self) -> bool:
        """Were the listings paged through to their last pages?"""

    def plan(self) -> None:
        """Take the archive's memory and choose the crawl's mode."""


def portal_spider(spider: object) -> PortalCrawler | None:
    """`spider` as a portal spider (one with its arguments and the origins it allows), or None for
    any other spider. Told by those two members alone, so that a component's test may stand a
    small spider of its own in for a portal spider."""
    is_portal = hasattr(spider, "args") and callable(getattr(spider, "allows_request", None))
    return cast(PortalCrawler, spider) if is_portal else None
