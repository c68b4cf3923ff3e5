"""robots.txt as RFC 9309 reads it (StrictRobotsTxtMiddleware)."""

from __future__ import annotations

import logging
from typing import Self
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet.defer import Deferred

from portalscraper.crawl.responses import RobotsForbidden, RobotsUnreadable

logger = logging.getLogger(__name__)


class StrictRobotsTxtMiddleware(RobotsTxtMiddleware):
    """robots.txt as RFC 9309 reads it: a 4xx answer allows everything; a robots.txt that cannot
    be read whole (a 5xx, a timeout, a refused connection, one larger than ROBOTSTXT_MAXSIZE)
    allows nothing, and the pages it would have governed fail with that reason. One warning line
    per host, no traceback."""

    def __init__(self, crawler: Crawler, maxsize: int, parser_class: type[RobotParser]) -> None:
        super().__init__(crawler)
        self.maxsize = maxsize
        self._unreadable: dict[str, str] = {}
        # Our own, not Scrapy's private `_parsers` and `_parserimpl`: robot_parser is ours whole.
        self.parsers: dict[str, RobotParser | Deferred[RobotParser]] = {}
        self.parser_class = parser_class

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        return cls(crawler, settings.getint("ROBOTSTXT_MAXSIZE"), load_object(settings.get("ROBOTSTXT_PARSER")))

    async def robot_parser(self, request: Request) -> RobotParser:
        url = urlsplit(request.url)
        netloc = url.netloc
        if netloc not in self.parsers:
            self.parsers[netloc] = Deferred()
            robots = Request(f"{url.scheme}://{netloc}/robots.txt", priority=self.DOWNLOAD_PRIORITY,
                             meta={"dont_obey_robotstxt": True, "download_maxsize": self.maxsize,
                                   "dont_retry": False},
                             callback=NO_CALLBACK)
            parser: RobotParser
            try:
                response = await self.crawler.engine.download_async(robots)
                self.crawler.stats.inc_value(f"robotstxt/response_status_count/{response.status}")
                if 400 <= response.status < 500:
                    parser = self._build(b"")  # RFC 9309: unavailable, so everything is allowed
                elif response.status >= 500:
                    parser = self._refuse(netloc, f"it answered HTTP {response.status}")
                else:
                    parser = self._build(response.body)
            except IgnoreRequest as exc:  # redirected where the crawl does not go: unavailable, as a 4xx
                logger.info("robots.txt of %s is not on the crawled origin (%s): taken as unavailable", netloc, exc)
                parser = self._build(b"")
            except Exception as exc:  # unreachable: RFC 9309 allows nothing
                message = str(exc) or type(exc).__name__
                if "maxsize" in message.lower() or "cancelled" in message.lower():
                    message = f"larger than {self.maxsize:,} bytes"
                parser = self._refuse(netloc, message[:200])
            self.crawler.stats.inc_value("robotstxt/request_count")
            waiting = self.parsers[netloc]
            self.parsers[netloc] = parser
            if isinstance(waiting, Deferred):
                waiting.callback(parser)
        known = self.parsers[netloc]
        if isinstance(known, Deferred):
            return await maybe_deferred_to_future(known)
        return known

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        why = self._unreadable.get(urlsplit(request.url).netloc)
        if why is not None:
            self.crawler.stats.inc_value("robotstxt/forbidden")
            raise RobotsUnreadable(f"robots.txt could not be read ({why}): nothing may be crawled there (RFC 9309)")
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest as exc:  # Scrapy's own refusal, typed: a policy, not a failure
            raise RobotsForbidden(str(exc)) from None

    def _build(self, body: bytes) -> RobotParser:
        return build_from_crawler(self.parser_class, self.crawler, body)

    def _refuse(self, netloc: str, why: str) -> RobotParser:
        self._unreadable[netloc] = why
        self.crawler.stats.set_value("portal/robots_unreadable", f"{netloc}: {why}")
        logger.warning("robots.txt of %s could not be read (%s): nothing is crawled there (RFC 9309)", netloc, why)
        return self._build(b"User-agent: *\nDisallow: /\n")
