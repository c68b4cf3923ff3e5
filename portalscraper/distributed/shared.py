"""`portalscraper crawl --redis URL`: one crawl's life (portalscraper.crawl.runner) with its pages
crawled by workers: this process checks what the crawl needs, opens the archive, writes it, and
judges the crawl (portalscraper.distributed.coordinator). `portalscraper worker`: one more worker
joins it (`join_crawl`)."""

from __future__ import annotations

from typing import Any

import redis
from scrapy.utils.log import configure_logging

from portalscraper.crawl.overrides import check_output_path, project_settings
from portalscraper.crawl.runner import Outcome, open_session, prepare
from portalscraper.crawl.verdict import CrawlRefusedError
from portalscraper.distributed.coordinator import coordinate, run_worker, worker_name
from portalscraper.distributed.frontier import Frontier, shown


def shared_crawl(spider: str, raw: dict[str, Any], overrides: dict[str, Any], url: str, workers: int) -> Outcome:
    """This process writes the archive; workers (local, or joining) crawl. CrawlRefusedError for a
    crawl that cannot start."""
    if workers < 0:
        raise CrawlRefusedError("--workers must be 0 or more")
    settings, spidercls = prepare(spider, overrides)
    check_output_path(settings.get("ARCHIVE_JSONL_PATH"), "jsonl")
    check_output_path(settings.get("LOG_FILE"), "log")
    try:
        Frontier(url).redis.ping()  # before the archive is opened: a crawl that cannot start leaves no row
    except (redis.RedisError, ValueError) as exc:
        raise CrawlRefusedError(f"cannot use Redis at {shown(url)}: {exc}") from None
    session = open_session(settings, spidercls, raw)
    if session is None:
        raise CrawlRefusedError("a shared crawl needs a SQLite archive (--db)")
    configure_logging(settings)
    job = {"spider": spider, "args": raw, "settings": overrides, "prefix": settings.get("FRONTIER_PREFIX")}
    try:
        verdict = coordinate(session, job, url, workers, settings.get("ARCHIVE_JSONL_PATH"))
    except redis.RedisError as exc:
        raise CrawlRefusedError(f"cannot use Redis at {shown(url)}: {exc}") from None
    finally:
        session.close()
    return Outcome(verdict.exit_code, list(verdict.alarms), session.row, settings.get("LOG_LEVEL") == "WARNING")


def join_crawl(url: str, prefix: str, name: str | None) -> int:
    """Crawl as one worker of the shared crawl in Redis at `url` until it ends; its exit code.
    CrawlRefusedError when Redis cannot be used."""
    try:
        redis.Redis.from_url(url)  # connects to nothing yet: only reads the URL
    except ValueError as exc:
        raise CrawlRefusedError(f"cannot use Redis at {url}: {exc}") from None
    settings = project_settings({})
    configure_logging(settings)
    try:
        return run_worker(url, prefix, name or worker_name(), settings)
    except redis.RedisError as exc:
        raise CrawlRefusedError(f"cannot use Redis at {shown(url)}: {exc}") from None
