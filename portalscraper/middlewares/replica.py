"""The project's own replica read at full speed once it has said what it is (ReplicaSpeedMiddleware)."""

from __future__ import annotations

import logging
from typing import Self
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from portalscraper.crawl.contract import portal_spider
from portalscraper.crawl.politeness import answers_as_replica

logger = logging.getLogger(__name__)


class ReplicaSpeedMiddleware:
    """Downloader middleware: a host that answers as the project's replica (`answers_as_replica`:
    its header, from a loopback address) gets no delay, no throttle and PORTAL_FULL_SPEED_CONCURRENCY
    requests at once from its first answer on (usually robots.txt, before any page). Crawls start
    polite: an address on loopback alone proves nothing (a tunnel, a proxy). Never in a web-archive
    crawl (its replays pass the archived site's headers on), and not with
    PORTAL_REPLICA_FULL_SPEED off.

    Scrapy's download slots are changed through the downloader's public `slots` and
    `per_slot_settings` (a slot Scrapy drops when idle comes back with the same speed), as its own
    AutoThrottle does, and the wait the slot armed for its next request while it was still polite is
    called off; AutoThrottle is told to leave the slot's delay alone for later requests
    (the `autothrottle_dont_adjust_delay` meta key)."""

    def __init__(self, crawler: Crawler, enabled: bool, concurrency: int) -> None:
        self.crawler = crawler
        self.enabled = enabled
        self.concurrency = concurrency
        self.hosts: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        return cls(crawler, settings.getbool("PORTAL_REPLICA_FULL_SPEED"),
                   settings.getint("PORTAL_FULL_SPEED_CONCURRENCY"))

    def process_request(self, request: Request) -> None:
        if self.hosts and urlsplit(request.url).netloc in self.hosts:
            request.meta["autothrottle_dont_adjust_delay"] = True

    def process_response(self, request: Request, response: Response) -> Response:
        if not self.enabled:
            return response
        host = urlsplit(response.url).netloc
        if host not in self.hosts and answers_as_replica(response) and not self._web_archive():
            self._full_speed(host, request.meta.get("download_slot"))  # once a host: not again for each page
        return response

    def _web_archive(self) -> bool:
        spider = portal_spider(self.crawler.spider)
        return spider is not None and bool(spider.args.wayback)

    def _full_speed(self, host: str, slot_key: str | None) -> None:
        self.hosts.add(host)
        assert self.crawler.engine is not None
        downloader = self.crawler.engine.downloader
        if slot_key is not None:
            downloader.per_slot_settings[slot_key] = {"delay": 0, "concurrency": self.concurrency}
            if (slot := downloader.slots.get(slot_key)) is not None:
                slot.delay, slot.concurrency = 0, self.concurrency
                if slot.latercall is not None:
                    # The polite wait armed when robots.txt went out (DOWNLOAD_DELAY, randomized: up to
                    # 1.5 s) is no longer owed: the first page goes now, not after it.
                    slot.latercall.cancel()
                    slot.latercall = None
                    downloader._process_queue(slot)
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("portal/full_speed", host)
        logger.info("%s answers as the project's replica: read at full speed", host)
