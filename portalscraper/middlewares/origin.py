"""Only the crawled portal is ever asked (OriginGuardMiddleware)."""

from __future__ import annotations

import logging

from scrapy import Request

from portalscraper.crawl.contract import portal_spider
from portalscraper.crawl.responses import OtherSiteRefused
from portalscraper.middlewares import CrawlerBound

logger = logging.getLogger(__name__)


class OriginGuardMiddleware(CrawlerBound):
    """Only the crawled portal is ever asked: a request to any other origin (scheme, host and port:
    another host, another port of the same host, an IP literal, a `file:`, `ftp:` or `data:` URL)
    is refused before it is sent, whatever made it (an item link, a "Next" link, a redirect, a
    meta refresh, a retry), and its errback records why. In a web-archive crawl, only the archive
    is asked. Placed before RobotsTxtMiddleware, so that not even a robots.txt is asked of another
    host. The spider says what it allows (`allows_request`)."""

    def process_request(self, request: Request) -> None:
        spider = portal_spider(self.crawler.spider)
        if spider is not None and not spider.allows_request(request.url):
            self.crawler.stats.inc_value("portal/other_origin_refused")
            logger.warning("Not requested, not the crawled portal's: %s", request.url[:300])
            raise OtherSiteRefused(f"another site, not requested: {request.url[:300]}")
