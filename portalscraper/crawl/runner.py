"""One crawl, start to verdict, as the `portalscraper` command, `scrapy crawl`, `reparse`, the demo
and a shared crawl's writer run it:

1. its settings are read and checked, and its spider found (`prepare`): a bad one is refused
   before Scrapy starts;
2. the spider's arguments are parsed (`CrawlArgs`) and the archive's `CrawlSession` opened
   (`open_session`): a bad argument, or a locked or unusable archive, is refused at once;
3. Scrapy crawls with its archives switched on (ARCHIVE_ENABLED: Scrapy's shell, fetch, parse,
   check and bench leave it off, and write nothing) and the session attached to the crawler
   (portalscraper.crawl.attached), where the store pipeline finds it, announces it
   (`archive_opened`), writes into it, and finishes it (`archive_finished`);
4. the exit status is the session's verdict (or, with no SQLite archive, the crawl's own stats),
   with the lines the command prints (`Outcome.lines`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler, CrawlerProcess, CrawlerProcessBase
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader, SpiderLoaderProtocol

from portalscraper.archive import ArchiveError, ArchiveLockedError, CrawlSession
from portalscraper.archive.session import ReplayedCrawl, summary_line
from portalscraper.crawl.args import ArgumentError, CrawlArgs
from portalscraper.crawl.attached import attach_args, attach_session
from portalscraper.crawl.overrides import check_output_path, check_settings, project_settings, session_options
from portalscraper.crawl.verdict import EXIT_LOCKED, CrawlRefusedError, verdict
from portalscraper.profiles import ProfileError

__all__ = ["CrawlRefusedError", "Outcome", "crawl", "load_spider", "open_session", "prepare", "run"]


@dataclass
class Outcome:
    exit_code: int
    alarms: list[str] = field(default_factory=list)  # one line each, for standard error
    crawl: dict[str, Any] | None = None  # the crawl's row, when there is an archive
    quiet: bool = False  # logged at WARNING (the cron recipe, -q): the crawl's INFO summary was not shown

    def lines(self, summary: bool = True) -> list[str]:
        """What the command prints on standard error: the crawl's summary line when its log did not
        show it (and `summary` is wanted), then one line per alarm."""
        shown = [summary_line(self.crawl)] if summary and self.quiet and self.crawl is not None else []
        return shown + [f"Error: {alarm}" for alarm in self.alarms]


def load_spider(loader: SpiderLoaderProtocol, name: str) -> type[Spider]:
    if name not in loader.list():
        raise CrawlRefusedError(f"unknown spider {name!r}; known: {', '.join(sorted(loader.list()))}")
    return loader.load(name)


def prepare(spider: str, overrides: dict[str, Any]) -> tuple[Settings, type[Spider]]:
    """Step 1: the project's settings with `overrides` over them, checked, and the spider's class."""
    settings = project_settings(overrides)
    check_settings(settings, overrides)
    return settings, load_spider(SpiderLoader.from_settings(settings), spider)


def parse_args(spidercls: type[Spider], raw: dict[str, Any]) -> CrawlArgs | None:
    """Step 2, the arguments, parsed once (None: a spider of one's own, whose arguments Scrapy checks)."""
    parse = getattr(spidercls, "parse_args", None)
    if parse is None:
        return None
    try:
        args: CrawlArgs = parse(raw)
    except (ArgumentError, ProfileError) as exc:
        raise CrawlRefusedError(str(exc)) from None
    return args


def open_archive(settings: Settings, args: CrawlArgs) -> CrawlSession | None:
    """Step 2, the archive opened (None: no SQLite archive)."""
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


def open_session(settings: Settings, spidercls: type[Spider], raw: dict[str, Any]) -> CrawlSession | None:
    """Step 2: the arguments checked, and the archive opened (None: no SQLite archive)."""
    args = parse_args(spidercls, raw)
    return open_archive(settings, args) if args is not None else None


def crawl(spider: str, raw: dict[str, Any], overrides: dict[str, Any]) -> Outcome:
    """Steps 1 to 4 for the `portalscraper` command (CrawlRefusedError for 1 and 2)."""
    settings, spidercls = prepare(spider, overrides)
    check_output_path(settings.get("ARCHIVE_JSONL_PATH"), "jsonl")
    check_output_path(settings.get("WARC_DIR"), "warc")
    check_output_path(settings.get("LOG_FILE"), "log")
    outcome = run(spidercls, raw, settings)
    outcome.quiet = settings.get("LOG_LEVEL") == "WARNING"
    return outcome


def run(spidercls: type[Spider], raw: dict[str, Any], settings: Settings,
        process: CrawlerProcessBase | None = None) -> Outcome:
    """Steps 2 to 4 (CrawlRefusedError for 2), in `process`, or in a CrawlerProcess made once the
    crawl may start (making one starts Scrapy's log)."""
    args = parse_args(spidercls, raw)
    session = open_archive(settings, args) if args is not None else None
    try:
        process = process or CrawlerProcess(settings)
        crawler = process.create_crawler(spidercls)
        crawler.settings.set("ARCHIVE_ENABLED", True, priority="cmdline")
        if args is not None:
            attach_args(crawler, args)
        if session is not None:
            attach_session(crawler, session)
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
    reason = None if process.bootstrap_failed else str(stats.get("finish_reason"))
    judged = verdict(reason, stats.get("item_scraped_count") or 0)
    return Outcome(judged.exit_code, judged.alarms)
