"""A redirect to another origin than the portal's is not followed, and says so (OffsiteRedirectMiddleware)."""

from __future__ import annotations

from urllib.parse import urljoin

from scrapy import Request
from scrapy.http import Response

from portalscraper.crawl.contract import portal_spider
from portalscraper.crawl.responses import OffsiteRedirect
from portalscraper.middlewares import CrawlerBound


class OffsiteRedirectMiddleware(CrawlerBound):
    """A redirect to another origin than the crawled portal's (another host, or another port or
    scheme of the same host) is not followed, and says so.

    Scrapy's offsite filter drops such a redirect silently, and compares host names only; this
    stops it one step earlier, so that the request's errback records the page as failed
    ("redirected to another site").
    """

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get("Location")
        if response.status not in (301, 302, 303, 307, 308) or not location:
            return response
        target = urljoin(request.url, location.decode("latin-1"))
        spider = portal_spider(self.crawler.spider)
        if spider is not None and not spider.allows_request(target):
            self.crawler.stats.inc_value("portal/offsite_redirect")
            raise OffsiteRedirect(f"offsite redirect to {target[:200]!r} not followed")
        return response
