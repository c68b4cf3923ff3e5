"""`scrapy crawl`, as Scrapy's, plus: bad spider arguments and a locked archive give one line and
exit 2 or 6 (not a traceback), and the exit status is the crawl's verdict (portalscraper/crawl/runner.py)."""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from portalscraper.crawl.runner import CrawlRefusedError, run
from portalscraper.crawl.verdict import EXIT_USAGE


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
        try:
            outcome = run(spidercls, opts.spargs, self.crawler_process.settings, self.crawler_process)
        except CrawlRefusedError as exc:
            print(f"Error: {exc}", file=sys.stderr)
            self.exitcode = exc.code
            return
        for alarm in outcome.alarms:
            print(f"Error: {alarm}", file=sys.stderr)
        self.exitcode = outcome.exit_code
