"""`scrapy crawl`, as Scrapy's, plus: bad spider arguments and a locked archive give one line and
exit 2 or 6 (not a traceback), and the exit status is the crawl's verdict (portalscraper/crawl/runner.py)."""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from portalscraper.crawl.runner import CrawlRefusedError, load_spider, run


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one spider name: scrapy crawl nato")
        assert self.crawler_process
        try:
            spidercls = load_spider(self.crawler_process.spider_loader, args[0])
            outcome = run(spidercls, opts.spargs, self.crawler_process.settings, self.crawler_process)
        except CrawlRefusedError as exc:
            print(f"Error: {exc}", file=sys.stderr)
            self.exitcode = exc.code
            return
        for line in outcome.lines(summary=False):
            print(line, file=sys.stderr)
        self.exitcode = outcome.exit_code
