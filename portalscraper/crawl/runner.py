"""One crawl, start to verdict, as the `portalscraper` command and `scrapy crawl` run it:

1. the spider's arguments are parsed (`CrawlArgs`): a bad one is refused before Scrapy starts;
2. the archive's `CrawlSession` is opened: a locked or unusable archive is refused at once;
3. Scrapy crawls with its archives switched on (ARCHIVE_ENABLED: Scrapy's shell, fetch, parse,
   check and bench leave it off, and write nothing) and the session handed to the store pipeline
   (ARCHIVE_SESSION), which announces it (`archive_opened`), writes into it, and finishes it
   (`archive_finished`);
4. the exit status is the session's verdict (or, with no SQLite archive, the crawl's own stats).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess, CrawlerProcessBase

from portalscraper.archive import ArchiveError, ArchiveLockedError, CrawlSession
from portalscraper.archive.session import ReplayedCrawl
from portalscraper.crawl.args import ArgumentError
from portalscraper.crawl.verdict import EXIT_FAILED, EXIT_LOCKED, EXIT_NO_ITEMS, EXIT_OK, EXIT_USAGE
from portalscraper.pipelines.store import session_options
from portalscraper.profiles import ProfileError


class CrawlRefusedError(Exception):
    """A crawl that cannot start: the message is one line, `code` the exit status."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Outcome:
    exit_code: int
    alarms: list[str] = field(default_factory=list)  # one line each, for standard error
    crawl: dict[str, Any] | None = None  # the crawl's row, when there is an archive


def open_session(settings: Any, spidercls: Any, raw: dict[str, Any]) -> CrawlSession | None:
    """Steps 1 and 2: the arguments checked, and the archive opened (None: no SQLite archive)."""
    parse_args = getattr(spidercls, "parse_args", None)
    if parse_args is None:
        return None  # a spider of one's own, not a portal spider: Scrapy checks its arguments
    try:
        args = parse_args(raw)
    except (ArgumentError, ProfileError) as exc:
        raise CrawlRefusedError(str(exc)) from None
    path = settings.get("ARCHIVE_SQLITE_PATH")
    if not path:
        return None
    replay = settings.getdict("WARC_REPLAY_CRAWL")  # a rebuild from WARC files: the crawl they hold
    try:
        return CrawlSession.open(path, args, session_options(settings), ReplayedCrawl(**replay) if replay else None)
    except ArchiveLockedError as exc:
        raise CrawlRefusedError(str(exc), EXIT_LOCKED) from None
    except ArchiveError as exc:
        raise CrawlRefusedError(str(exc)) from None


def run(spidercls: Any, raw: dict[str, Any], settings: Any, process: CrawlerProcessBase | None = None) -> Outcome:
    """Steps 1 to 4 (CrawlRefusedError for 1 and 2), in `process`, or in a CrawlerProcess made
    once the crawl may start (making one starts Scrapy's log)."""
    session = open_session(settings, spidercls, raw)
    try:
        process = process or CrawlerProcess(settings)
        crawler = process.create_crawler(spidercls)
        crawler.settings.set("ARCHIVE_ENABLED", True, priority="cmdline")
        if session is not None:
            crawler.settings.set("ARCHIVE_SESSION", session, priority="cmdline")
        process.crawl(crawler, **raw)
        process.start()
    finally:
        if session is not None:
            session.close()  # if the crawl never got as far as the store pipeline
    if session is not None and session.verdict is not None:
        return Outcome(session.verdict.exit_code, list(session.verdict.alarms), session.row)
    return _without_archive(crawler, process)


def _without_archive(crawler: Crawler, process: CrawlerProcessBase) -> Outcome:
    """A crawl that was not judged by an archive: by its stats."""
    stats = crawler.stats.get_stats() if crawler.stats else {}
    if process.bootstrap_failed:
        return Outcome(EXIT_FAILED, ["the crawl could not start; see the log above"])
    reason = stats.get("finish_reason")
    if reason != "finished":
        return Outcome(EXIT_FAILED, [f"the crawl did not finish ({reason})"])
    if not stats.get("item_scraped_count"):
        return Outcome(EXIT_NO_ITEMS, ["the crawl finished with no items; check --base-url and the portal's layout"])
    return Outcome(EXIT_OK)
