"""What a crawl worker's Scrapy uses to share one crawl (the `worker` command sets them up).

- `FrontierScheduler`: requests go to the crawl's frontier in Redis and come back to whichever
  worker is free; a fingerprint queued once is never queued again (the seen-set), so every page
  is asked once per crawl, whichever worker found its link. A request taken is leased to the
  worker until its callback's (or errback's) output is sent: a worker killed or stalled in the
  middle has its requests taken up by the others (at-least-once: the writer keeps each record,
  failure and reject once), and one that wakes releases only what it still holds.
- `SeedOnce`: only the first worker to start seeds the crawl with the spider's start requests.
- `SharedPoliteness`: the portal's download delay holds for all workers together.
- `SendToWriter`: items (records, sightings, failures, rejects) go to the writer through Redis.
- `WorkerLifecycle`: the worker's heartbeat, and staying up while other workers may still add
  requests; its totals for the crawl row when it stops.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, Self, runtime_checkable

from redis import RedisError
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from twisted.internet.defer import DeferredList

from portalscraper.crawl.contract import portal_spider
from portalscraper.crawl.politeness import answers_as_replica
from portalscraper.distributed import wire
from portalscraper.distributed.frontier import Frontier, holding
from portalscraper.distributed.memory import SharedMemory
from portalscraper.items import Record
from portalscraper.pipelines.validate import RecordRejected
from portalscraper.spiders.context import schedule
from portalscraper.webarchive.warc import offset_written

logger = logging.getLogger(__name__)

# Request meta that belongs to one worker's handling of a response, not to the request.
_LOCAL_META = ("_page", "_page_selector", "warc", "download_slot", "download_latency", "shared_download",
               "frontier_lease")


@dataclass
class Release:
    """The end of a request's output: everything it produced was sent before this."""

    lease: str


def _released(callback: Callable[..., Any], lease: str, frontier: Frontier, *args: Any, **kwargs: Any) -> Any:
    """A callback's output, then its Release; a callback that raises releases its request too.
    While the callback runs, the records it claims are its request's (`holding`)."""
    steps = iter(callback(*args, **kwargs) or ())
    while True:
        held = holding.set(lease)
        try:
            output = next(steps)
        except StopIteration:
            break
        except Exception:
            _release(frontier, lease)
            raise
        finally:
            holding.reset(held)
        yield output
    yield Release(lease)


def _unwrapped(callback: Any) -> Any:
    """A callback or errback as the spider has it, not as a worker wraps it for one request."""
    return callback.args[0] if isinstance(callback, partial) and callback.func is _released else callback


def _release(frontier: Frontier, lease: str) -> None:
    if not frontier.release(lease):
        logger.warning("A request this worker finished had been put back in the frontier while the worker did "
                       "not answer: it is asked for again")


def frontier_of(settings: Any) -> Frontier:
    """The crawl's frontier, as this worker's settings name it."""
    return Frontier(settings["FRONTIER_REDIS_URL"], settings["FRONTIER_PREFIX"], settings["FRONTIER_WORKER"])


class _WorkerPart:
    """A Scrapy component of a worker: the crawler, and the frontier it shares."""

    def __init__(self, crawler: Crawler, frontier: Frontier) -> None:
        self.crawler = crawler
        self.frontier = frontier

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        part = cls(crawler, frontier_of(crawler.settings))
        part.connect(crawler)
        return part

    def connect(self, crawler: Crawler) -> None:
        """Connect to the crawler's signals, if the part listens to any."""


class FrontierScheduler(_WorkerPart):
    """A Scrapy scheduler over the crawl's frontier in Redis."""

    spider: Spider | None = None

    def open(self, spider: Spider) -> None:
        self.spider = spider

    def close(self, reason: str) -> None:
        pass

    def has_pending_requests(self) -> bool:
        return self.frontier.queued() > 0

    def __len__(self) -> int:
        return self.frontier.queued()

    def enqueue_request(self, request: Request) -> bool:
        assert self.crawler.request_fingerprinter is not None
        callback, errback = _unwrapped(request.callback), _unwrapped(request.errback)
        if (callback, errback) != (request.callback, request.errback):
            # A redirect or a retry of a request this worker holds, or a request made with a callback
            # of the one it continues (the next page of a web archive's index, a failed replay's look-
            # up): the spider's own callbacks (a redirect's or a retry's request it continues is
            # released when it is queued).
            request = request.replace(callback=callback, errback=errback)
        continues = request.meta.get("frontier_lease")
        meta = {k: v for k, v in request.meta.items() if k not in _LOCAL_META}
        payload = wire.request_payload(request.replace(meta=meta), self.spider)
        fingerprint = self.crawler.request_fingerprinter.fingerprint(request).hex()
        # Item pages come with dont_filter: the spider keeps one request per record itself (in
        # Redis, for all workers). A redirect or a retry continues its request: never a duplicate.
        added = self.frontier.add(fingerprint, payload, request.priority,
                                  unique=not request.dont_filter and continues is None, finished=continues)
        if not added and self.crawler.stats is not None:
            self.crawler.stats.inc_value("frontier/duplicates")
        return added

    def next_request(self) -> Request | None:
        assert self.spider is not None
        while (taken := self.frontier.take()) is not None:
            lease, payload = taken
            try:
                request = wire.request_from_payload(payload, self.spider)
            except wire.WireError as exc:  # not written by a worker of this crawl: dropped, and said
                logger.error("A request in the frontier is not one (%s): dropped", exc)
                if self.crawler.stats is not None:
                    self.crawler.stats.inc_value("frontier/unreadable")
                self.frontier.release(lease)
                continue
            self._ask_ahead(request)
            request.meta["frontier_lease"] = lease
            release = partial(_released, request.callback or self.spider.parse, lease, self.frontier)
            errback = partial(_released, request.errback, lease, self.frontier) if request.errback else None
            return request.replace(callback=release, errback=errback)
        return None

    def _ask_ahead(self, request: Request) -> None:
        """A conditional request for an archived item page may answer 304 Not Modified (or fail), and
        the spider then rebuilds the record from the archive: the writer is asked for it now, and
        answers while the page downloads (the spider's item pages carry their listing entry)."""
        memory = spider.archive_memory if (spider := portal_spider(self.spider)) else None
        if isinstance(memory, SharedMemory) and (b"If-None-Match" in request.headers
                                                 or b"If-Modified-Since" in request.headers):
            record_id = (request.meta.get("listing") or {}).get("record_id")
            if isinstance(record_id, str):
                memory.ask(record_id)


class SeedOnce(_WorkerPart):
    """Spider middleware: the spider's start requests from the first worker of the crawl only."""

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        if not self.frontier.seed():
            logger.info("The crawl is seeded already: taking requests from its frontier")
            if (spider := portal_spider(self.crawler.spider)) is not None:
                spider.plan()  # the spider's mode, as its start would have chosen it
            return
        try:
            async for request in start:
                yield request
        finally:  # each start request was queued when the next was asked for
            self.frontier.seeded()


class SharedPoliteness:
    """Downloader middleware: the portal's politeness for the whole crawl, whichever workers send
    its requests: DOWNLOAD_DELAY between any two requests, and CONCURRENT_REQUESTS_PER_DOMAIN
    requests at once at most (each worker's own delay is off; its own concurrency stays, within).
    Once the portal answers as the project's replica, each worker reads it at full speed, as a
    single crawl does (middlewares/replica.py)."""

    POLL = 0.02  # seconds between two looks for a free download slot

    def __init__(self, crawler: Crawler, frontier: Frontier, delay: float, concurrency: int,
                 timeout: float, replica_concurrency: int | None = None) -> None:
        self.crawler = crawler
        self.frontier = frontier
        self.delay = delay
        self.concurrency = concurrency
        self.replica_concurrency = replica_concurrency  # None: the replica is not read at full speed
        self.lease = timeout + 30  # a slot a dead worker took frees itself after this
        self.own_delay_off = False
        self.serial = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        # The settings have the spider's politeness in them by now.
        settings = crawler.settings
        replica = settings.getint("PORTAL_FULL_SPEED_CONCURRENCY") if settings.getbool("PORTAL_REPLICA_FULL_SPEED") \
            else None
        return cls(crawler, frontier_of(settings), settings.getfloat("DOWNLOAD_DELAY"),
                   settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"), settings.getfloat("DOWNLOAD_TIMEOUT"), replica)

    async def process_request(self, request: Request) -> None:
        if not self.own_delay_off and self.crawler.spider is not None:
            # The worker's own download slot keeps no delay of its own (Scrapy makes slots after the
            # middlewares have seen a request): the crawl's delay is kept here, for all workers.
            self.crawler.spider.download_delay = 0  # type: ignore[attr-defined]
            self.own_delay_off = True
        if self.concurrency > 0:
            self.serial += 1
            name = f"{self.frontier.worker}:{self.serial}"
            while not self.frontier.begin_download(name, self.concurrency, self.lease):
                await _sleep(self.POLL)
            request.meta["shared_download"] = name
        if self.delay > 0:
            while (wait := self.frontier.slot(self.delay)) > 0:
                await _sleep(wait)

    def process_response(self, request: Request, response: Any) -> Any:
        self._ended(request)
        if self.replica_concurrency is not None and answers_as_replica(response) and not self._web_archive():
            self.delay, self.concurrency, self.replica_concurrency = 0.0, self.replica_concurrency, None
        return response

    def _web_archive(self) -> bool:
        spider = portal_spider(self.crawler.spider)
        return spider is not None and bool(spider.args.wayback)

    def process_exception(self, request: Request, exception: BaseException) -> None:
        self._ended(request)

    def _ended(self, request: Request) -> None:
        if name := request.meta.pop("shared_download", None):
            self.frontier.end_download(name)


async def _sleep(seconds: float) -> None:
    from scrapy.utils.defer import deferred_to_future
    from twisted.internet import reactor, task

    await deferred_to_future(task.deferLater(reactor, seconds, lambda: None))


class SendToWriter(_WorkerPart):
    """Item pipeline (in place of the archive's): each item to the writer, through Redis."""

    def connect(self, crawler: Crawler) -> None:
        crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Release):
            _release(self.frontier, item.lease)
            return item
        await offset_written(item)
        self.frontier.send(wire.dumps(["item", item]))
        return item

    async def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Spider) -> None:
        if isinstance(exception, RecordRejected) and isinstance(item, Record):
            await offset_written(item)
            self.frontier.send(wire.dumps(["reject", item, exception.reasons]))


@runtime_checkable
class HoldsItems(Protocol):
    """A spider that holds items back until every page is read (PortalSpider.held_items)."""

    def held_items(self) -> tuple[list[Request], list[Any]]: ...


class WorkerLifecycle(_WorkerPart):
    """Extension: the worker's heartbeat; staying up while the crawl has requests queued or in
    flight anywhere (another worker may yet add some); dead workers' requests put back; the
    worker's totals for the crawl row when it stops."""

    ticker: Any = None

    def connect(self, crawler: Crawler) -> None:
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.idle, signal=signals.spider_idle)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    def opened(self) -> None:
        from twisted.internet import task

        self.frontier.join()
        self.ticker = task.LoopingCall(self.heartbeat)
        self.ticker.start(2.0, now=False)

    def idle(self) -> None:
        try:
            if self.frontier.requeue_dead():
                logger.warning("Requests of a worker that stopped answering were put back in the frontier")
            settled = self.frontier.settle()
        except RedisError as exc:  # the crawl's state is gone: nothing to wait for
            logger.error("The crawl's Redis does not answer (%s): this worker stops", exc)
            return
        if settled is True:
            return
        if settled is not False:  # this worker requests the items the crawl held back
            self.request_held(settled)
        raise DontCloseSpider

    def request_held(self, lease: str) -> None:
        """Every page of the crawl is read, and items were held back (the `portal` spider's, a web
        archive's): this worker requests them, as one process would when idle. The item pages it
        claims are the phase's (`lease`) until their requests are queued and the records that need
        none are sent: if the worker dies first, the next one elected requests them again."""
        spider = self.crawler.spider
        requests: list[Request] = []
        records: list[Any] = []
        held = holding.set(lease)
        try:
            if isinstance(spider, HoldsItems):
                requests, records = spider.held_items()
        except Exception:  # said, and the crawl goes on: the lease is released below
            logger.error("The items held back could not be requested", exc_info=True)
        finally:
            holding.reset(held)
        sent = schedule(self.crawler, requests, records)
        DeferredList(sent, consumeErrors=True).addBoth(lambda _: self._held_done(lease))

    def _held_done(self, lease: str) -> None:
        try:
            if not self.frontier.held_done(lease):
                logger.warning("The items held back were requested by this worker after it had stopped answering: "
                               "they are requested again")
        except RedisError as exc:
            logger.error("The crawl's Redis does not answer (%s)", exc)

    def heartbeat(self) -> None:
        try:
            self.frontier.heartbeat()
        except RedisError as exc:
            logger.warning("The crawl's Redis does not answer: %s", exc)

    def closed(self, spider: Spider, reason: str) -> None:
        if self.ticker is not None and self.ticker.running:
            self.ticker.stop()
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        portal = portal_spider(spider)
        listings = portal.listings_complete() if portal else True
        totals = {"reason": reason, "stats": {k: v for k, v in stats.items() if isinstance(v, int | float)},
                  "mode": portal.mode if portal else "full", "listings_complete": listings,
                  "start_failure": stats.get("portal/start_failed")}
        try:
            self.frontier.leave(totals)
        except RedisError as exc:
            logger.error("This worker's totals could not be left for the writer (%s)", exc)
