"""A replayed redirect stays in the web archive (WaybackRedirectMiddleware)."""

from __future__ import annotations

from urllib.parse import urljoin

from scrapy import Request
from scrapy.http import Response

from portalscraper.crawl.contract import portal_spider
from portalscraper.crawl.responses import text_header
from portalscraper.middlewares import CrawlerBound
from portalscraper.webarchive.wayback import in_archive, replay_url, replayed_capture


class WaybackRedirectMiddleware(CrawlerBound):
    """A replayed redirect stays in the archive: an `id_` replay of a captured 301/302 carries the
    portal's own Location (`http://www.nato.int/...`); it is rewritten to the archive's capture of
    that target nearest the redirect's own capture time, which RedirectMiddleware then follows."""

    def process_response(self, request: Request, response: Response) -> Response:
        endpoint = spider.args.wayback if (spider := portal_spider(self.crawler.spider)) else None
        location = response.headers.get("Location")
        if not endpoint or response.status not in (301, 302, 303, 307, 308) or not location:
            return response
        capture = replayed_capture(request.url, lambda name: text_header(response, name))
        if capture is None:
            return response
        target = urljoin(capture.original, location.decode("latin-1"))
        if in_archive(target, endpoint):
            return response  # the archive rewrote it already
        self.crawler.stats.inc_value("portal/archived_redirect_followed")
        headers = response.headers.copy()
        headers["Location"] = replay_url(endpoint, capture.timestamp, target)
        return response.replace(headers=headers)
