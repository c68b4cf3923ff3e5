"""`portalscraper reparse`: an archive rebuilt from WARC files alone, each crawl they hold run again
with the same spider, arguments, mode and pipelines, answered from its own files.

The files are grouped by the crawl that wrote them (their warcinfo records say which) and the
crawls re-parsed in the order they ran, into the same archive, each in a process of its own
(`reparse_each`); the exit code is the worst of theirs. One crawl's files are re-parsed as the
crawl ran (`replay_job`): its arguments and mode (a complete pass, or an incremental one that asks
for archived items conditionally and is answered by the 304s it got), its crawl row's id and
start. Files from before crawls were stamped in them are re-parsed as a complete pass over what
they hold. An item page the crawl got as 304 Not Modified is rebuilt from the archive being
rebuilt, as the crawl rebuilt it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from portalscraper.crawl.verdict import CrawlRefusedError
from portalscraper.webarchive.warcfiles import WarcCrawl, WarcError, crawls_of

_NEVER_DAYS = 10**6  # PORTAL_FULL_PASS_DAYS that no archive is old enough for


def warc_crawls(files: list[Path], spider: str | None) -> list[WarcCrawl]:
    """The crawls the files hold, in the order they ran; every file read through before any crawl
    starts."""
    for path in files:
        if not path.is_file():
            raise CrawlRefusedError(f"no WARC file at {path}")
    try:
        return crawls_of(files, spider)
    except (WarcError, ValueError) as exc:
        raise CrawlRefusedError(str(exc)) from None


def replay_job(crawl: WarcCrawl, refer: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The spider's arguments and the settings that re-run `crawl` from its files (`refer`: other
    crawls' files, which its 304s may refer to)."""
    overrides: dict[str, Any] = {}
    spider_args = dict(crawl.args)
    if crawl.stamped:
        overrides.update({
            "WARC_REPLAY_CRAWL": crawl.replay(), "PORTAL_INCREMENTAL": crawl.incremental,
            # The mode it ran in, whatever the time since the last complete pass is now.
            "PORTAL_FULL_PASS_DAYS": 0 if crawl.mode.startswith("full") else _NEVER_DAYS,
        })
    else:
        spider_args = {k: v for k, v in spider_args.items() if k != "resume"} | {"full": "true"}
    overrides.update({
        "WARC_REPLAY_FILES": [str(f.path) for f in crawl.files], "WARC_DIR": "",
        "WARC_REPLAY_REFERENCES": [str(f) for f in refer],
        "DOWNLOAD_HANDLERS": {"http": "portalscraper.webarchive.warc.WarcReplayHandler",
                              "https": "portalscraper.webarchive.warc.WarcReplayHandler"},
        "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "RETRY_ENABLED": False,
    })
    return spider_args, overrides


def reparse_each(crawls: list[WarcCrawl], files: Sequence[str], options: list[str]) -> int:
    """Each crawl re-parsed by `portalscraper reparse` in a process of its own, one after the other,
    with the command's `options` (archive paths, log level, spider, settings); the worst exit code."""
    codes = []
    for crawl in crawls:
        own = [str(f.path) for f in crawl.files]
        # The other crawls' files: what this one's 304s may refer to.
        others = [str(f) for f in files if str(f) not in own]
        command = [sys.executable, "-m", "portalscraper.cli", "reparse", *options, "--warc", *own,
                   *(["--refer", *others] if others else [])]
        codes.append(subprocess.run(command, check=False).returncode)
    return max(codes)
