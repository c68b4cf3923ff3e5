"""`scrapy crawl`, as Scrapy's, plus: bad spider arguments give one line and exit 2 (not a
traceback), and the exit status is the crawl's verdict (see portalscraper/health.py)."""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from portalscraper.health import EXIT_FAILED, EXIT_USAGE
from portalscraper.profiles import ProfileError
from portalscraper.spiders.base import SpiderArgumentError


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one spider name: scrapy crawl nato")
        assert self.crawler_process
        loader = self.crawler_process.spider_loader
        try:
            spidercls = loader.load(args[0])
        except KeyError:
            print(f"Error: unknown spider {args[0]!r}; known: {', '.join(sorted(loader.list()))}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        try:  # the spider's own checks, before any crawl machinery starts
            spidercls(**opts.spargs)
        except (SpiderArgumentError, ProfileError) as exc:
            print(f"Error: {exc}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        code = crawler.stats.get_value("portal/exit_code") if crawler.stats else None
        if self.crawler_process.bootstrap_failed:
            self.exitcode = EXIT_FAILED
        elif code is not None:
            self.exitcode = int(code)
