"""What a reparse worker's Scrapy uses (`portalscraper reparse --jobs N`, see reparse_jobs.py).

The first worker replays the crawl from its WARC files as one process would: it reads every shared
page (the homepage, listings, feeds, sitemaps, hubs: an item page that is also a listing,
robots.txt), so the crawl's order, and which listing entry asks for each item, are one process's.
Item pages are partitioned by record id (`owner`): the first worker hands each item request that
is not its own to the worker that owns its record, through a pipe, and the other workers read
those alone. So each page is read once, and every item is found as the crawl found it.

- `PartitionScheduler`: the first worker's scheduler hands other workers' item requests on
  (`Handover`); another worker's keeps only the requests handed to it and those its own item pages
  make, and keeps its crawl open until the first worker is done (`Takeover`).
- `PartitionDownloaderStats`: Scrapy's downloader counts; a worker but the first counts only its
  own item pages (robots.txt, asked by a middleware, never reaches the scheduler).
- `SendToWriter`: the archive's memory for the spider (read-only, over a connection of its own:
  the archive is in WAL mode), the items the pipelines let through and the records rejected to
  the writer through a pipe, and at the end the worker's report (stats, mode, complete pass).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Self

from scrapy import Request, Spider, signals
from scrapy.core.scheduler import Scheduler
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.stats import DownloaderStats
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.http import Response
from scrapy.utils.request import request_from_dict

from portalscraper import signals as portal_signals
from portalscraper.archive.memory import ArchiveMemory, CrawlStamp
from portalscraper.crawl.contract import portal_spider
from portalscraper.pipelines.validate import RecordRejected
from portalscraper.webarchive.warcfiles import Scan, remember_scans

logger = logging.getLogger(__name__)

SHARE = "reparse_share"  # request meta: the worker that owns an item request's record
_OWNED = "reparse_owned"  # request meta: an item page's callbacks, their requests kept by its worker
SEND_BATCH = 64  # items per message to the writer


# The part of a re-parse's work that is the shared pages' (reading them, and handing item requests
# over): about 0.15 of every process's CPU on a 20,000-item crawl of the replica. The first worker,
# which does it, reads fewer item pages, so that every worker has about the same to do.
SHARED_WORK = 0.15


def shares(jobs: int) -> list[float]:
    """Each worker's part of the item pages: the first worker's less by the shared work (none when
    that is a worker's whole part), the others' even."""
    if jobs == 1:
        return [1.0]
    first = max(0.0, 1 / jobs - SHARED_WORK) / (1 - SHARED_WORK)
    return [first, *[(1 - first) / (jobs - 1)] * (jobs - 1)]


def owner(record_id: str, jobs: int) -> int:
    """The worker that reads a record's item page (`shares`): the same in every process (no hash
    seed)."""
    point = zlib.crc32(record_id.encode("utf-8")) / 2**32
    first = shares(jobs)[0]
    if point < first or jobs == 1:
        return 0
    return min(jobs - 1, 1 + int((point - first) / (1 - first) * (jobs - 1)))


@dataclass(frozen=True)
class WorkerPlace:
    """Which worker this is, of how many, and what it needs of the writer's crawl."""

    index: int
    jobs: int
    archive: str  # the archive's path, read-only here
    crawl_id: int
    resumed: bool
    stamp: CrawlStamp


def _place(place: Any) -> WorkerPlace:
    """The REPARSE_WORKER setting: NotConfigured in a crawl that is no reparse worker."""
    if not isinstance(place, WorkerPlace):
        raise NotConfigured("not a reparse worker")
    return place


def _outputs(result: Any) -> Iterable[Any]:
    if result is None:
        return ()
    if isinstance(result, Request) or not isinstance(result, Iterable) or isinstance(result, dict):
        return (result,)
    return result


def _kept(callback: Callable[..., Any], share: int) -> Callable[..., Iterator[Any]]:
    """An item page's callback (or errback), whose requests stay with the worker that reads it."""

    def run(result: Any, **kwargs: Any) -> Iterator[Any]:
        for output in _outputs(callback(result, **kwargs)):
            if isinstance(output, Request):
                output.meta.setdefault(SHARE, share)
            yield output

    return run


# A request handed over: its fields, with its callback and errback by name (methods of the spider),
# or Scrapy's request_to_dict of one that is not so plain.
Handed = tuple[Any, ...] | dict[str, Any]


def _method(spider: Spider, method: Callable[..., Any] | None) -> str | None:
    """A callback's name on the spider ('' if it is none of the spider's methods)."""
    if method is None:
        return None
    name = getattr(method, "__name__", "")
    return name if getattr(method, "__self__", None) is spider and getattr(spider, name, None) == method else ""


def _handed(request: Request, spider: Spider) -> Handed:
    """A request as data. Scrapy's request_to_dict looks its callbacks up among every member of the
    spider, a tenth of the first worker's time spent handing requests over: an item request's
    callbacks are the spider's own methods, named."""
    callback, errback = _method(spider, request.callback), _method(spider, request.errback)
    if type(request) is not Request or callback == "" or errback == "":
        return request.to_dict(spider=spider)
    return (request.url, callback, errback, request.method, dict(request.headers), request.body, request.cookies,
            request.meta, request.encoding, request.priority, request.dont_filter, request.flags, request.cb_kwargs)


def _taken(data: Handed, spider: Spider) -> Request:
    if isinstance(data, dict):
        return request_from_dict(data, spider=spider)
    url, callback, errback, method, headers, body, cookies, meta, encoding, priority, dont_filter, flags, kwargs = data
    return Request(url, getattr(spider, callback) if callback else None,
                   errback=getattr(spider, errback) if errback else None, method=method, headers=headers, body=body,
                   cookies=cookies, meta=meta, encoding=encoding, priority=priority, dont_filter=dont_filter,
                   flags=flags, cb_kwargs=kwargs)


class Handover:
    """The first worker's ends of the pipes to the others: each item request of another worker's
    record goes to it, in batches (one per turn of the reactor), and at the end a word that no
    more will come (the pipe's closing, if the first worker dies)."""

    def __init__(self, pipes: list[Connection], spider: Spider) -> None:
        self.pipes = pipes  # worker 1's, worker 2's...
        self.spider = spider
        self.batches: list[list[Handed]] = [[] for _ in pipes]
        self.gone: set[int] = set()  # workers that died: the writer says the crawl is incomplete

    def give(self, share: int, request: Request) -> None:
        if share not in self.gone:
            self.batches[share - 1].append(_handed(request, self.spider))

    def flush(self) -> None:
        for share, batch in enumerate(self.batches, 1):
            if batch:
                self._send(share, batch)
                batch.clear()

    def close(self) -> None:
        self.flush()
        for share, pipe in enumerate(self.pipes, 1):
            self._send(share, None)  # the end: the first worker asks for nothing more
            pipe.close()

    def _send(self, share: int, message: list[Handed] | None) -> None:
        if share in self.gone:
            return
        try:
            self.pipes[share - 1].send(message)
        except OSError:  # the worker died (BrokenPipeError): its item pages are not read
            self.gone.add(share)
            logger.error("Reparse worker %d is gone: its item pages are not read", share + 1)


class Takeover:
    """Another worker's end of the pipe from the first: a thread reads it, and each request handed
    over is given to the engine; the crawl stays open until the first worker's end comes."""

    def __init__(self, pipe: Connection, crawler: Crawler) -> None:
        self.pipe = pipe
        self.crawler = crawler
        self.open = True
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)

    def spider_opened(self, spider: Spider) -> None:
        from twisted.internet import reactor

        def read() -> None:
            while True:
                try:
                    batch = self.pipe.recv()
                except (EOFError, OSError):
                    batch = None
                reactor.callFromThread(self.handed, batch)
                if batch is None:
                    return

        threading.Thread(target=read, name="reparse-takeover", daemon=True).start()

    def handed(self, batch: list[Handed] | None) -> None:
        engine, spider = self.crawler.engine, self.crawler.spider
        if engine is None or spider is None or engine.spider is None:
            return  # the crawl stopped (SIGTERM): what comes now is not read
        if batch is None:
            self.open = False
            if engine.spider_is_idle():  # no request of ours left: the crawl ends now, not at the heartbeat
                _wake(engine)
            return
        for data in batch:
            engine.crawl(_taken(data, spider))

    def spider_idle(self, spider: Spider) -> None:
        if self.open:
            raise DontCloseSpider


def _wake(engine: Any) -> None:
    """The engine's next look at its queue, now (it looks every 5 s when idle): with nothing to do
    and nothing more to come, it closes the crawl."""
    slot = getattr(engine, "_slot", None)
    if slot is not None:
        slot.nextcall.schedule()


class PartitionScheduler(Scheduler):
    """Scrapy's scheduler: in the first worker, each item request of another worker's record
    handed over to it; in another worker, only its own item requests kept."""

    place: WorkerPlace
    partition_crawler: Crawler
    handover: Handover | None = None
    takeover: Takeover | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        scheduler = super().from_crawler(crawler)
        scheduler.place = _place(crawler.settings.get("REPARSE_WORKER"))
        scheduler.partition_crawler = crawler
        links = _PIPES[crawler].handover if crawler in _PIPES else []
        if scheduler.place.index and links:
            scheduler.takeover = Takeover(links[0], crawler)
        return scheduler

    def open(self, spider: Spider) -> Any:
        pipes = _PIPES.get(self.partition_crawler)
        links = pipes.handover if pipes else []
        if not self.place.index and links:
            self.handover = Handover(links, spider)
        return super().open(spider)

    def enqueue_request(self, request: Request) -> bool:
        place = self.place
        share = request.meta.get(SHARE)
        if place.index and share is None:
            return False  # a shared page, or an item request this worker found itself: the first worker's
        if share is None and (rid := (request.meta.get("listing") or {}).get("record_id")) and \
                not self._hub(request.url):
            share = request.meta[SHARE] = owner(str(rid), place.jobs)
        if share is not None and share != place.index:
            if self.handover is not None:
                self.handover.give(share, request)
            return False  # another worker's record
        if share is not None and not request.meta.get(_OWNED):
            # What an item page's callbacks ask for (a web archive's other capture of it) is asked
            # by the one worker that read the page, and stays its own.
            self.partition_crawler.stats.inc_value("reparse/item_pages_own")
            request.meta[_OWNED] = True
            self._wrap(request, lambda callback: _kept(callback, share))
        return super().enqueue_request(request)

    def next_request(self) -> Request | None:
        if self.handover is not None:
            self.handover.flush()  # what this turn's callbacks handed over
        return super().next_request()

    def close(self, reason: str) -> Any:
        if self.handover is not None:
            self.handover.close()
        return super().close(reason)

    def _wrap(self, request: Request, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
        """The request's callback (the spider's default one if it names none) and errback, wrapped."""
        callback = request.callback or getattr(self.partition_crawler.spider, "_parse", None)
        if callback is not None:
            request.callback = wrap(callback)
        if request.errback is not None:
            request.errback = wrap(request.errback)

    def _hub(self, url: str) -> bool:
        """A hub's page is also a listing: the first worker reads it, for the items it links to."""
        spider = portal_spider(self.partition_crawler.spider)
        return spider is not None and spider.scope.is_hub(spider.scope.canonical(url))


class PartitionDownloaderStats(DownloaderStats):
    """Scrapy's downloader counts; in a worker but the first, of its own item pages only."""

    def __init__(self, stats: Any, index: int) -> None:
        super().__init__(stats)
        self.index = index

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("DOWNLOADER_STATS"):
            raise NotConfigured
        return cls(crawler.stats, _place(crawler.settings.get("REPARSE_WORKER")).index)

    def _counted(self, request: Request) -> bool:
        return not self.index or request.meta.get(SHARE) == self.index

    def process_request(self, request: Request) -> None:  # type: ignore[override]
        if self._counted(request):
            super().process_request(request)

    def process_response(self, request: Request, response: Response) -> Response:  # type: ignore[override]
        if self._counted(request):
            super().process_response(request, response)  # counts, and gives the response back
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:  # type: ignore[override]
        if self._counted(request):
            super().process_exception(request, exception)


class SnapshotMemory(ArchiveMemory):
    """The archive's memory as the crawl began, before the writer wrote anything of it: what the
    spider plans from (records known, failures to ask again, the last complete pass) read at
    once in one read transaction; an archived record (for a 304) read when asked, as in one
    process (a record is asked for once per crawl, so this crawl has not written it)."""

    def __init__(self, conn: sqlite3.Connection, portal: str, crawl_id: int, stamp: CrawlStamp, spider: str,
                 language: str) -> None:
        super().__init__(conn, portal, crawl_id, stamp)
        conn.execute("BEGIN")
        try:
            len(self.known)
            self._failures = super().unresolved_failures()
            self._last_pass = (spider, language, super().last_complete_pass(spider, language))
        finally:
            conn.execute("COMMIT")

    def unresolved_failures(self) -> list[tuple[str, str, dict[str, Any]]]:
        return list(self._failures)

    def last_complete_pass(self, spider: str, language: str) -> dt.datetime | None:
        if self._last_pass[:2] == (spider, language):
            return self._last_pass[2]
        return super().last_complete_pass(spider, language)


@dataclass
class ArchiveView:
    """What the spider takes from the archive when it opens (the `archive_opened` signal's session):
    the writer's crawl, and the archive's memory over a read-only connection."""

    crawl_id: int
    resumed: bool
    memory: ArchiveMemory


class SendToWriter:
    """The worker's end of the pipe to the writer: items in batches, rejects, and its report."""

    def __init__(self, crawler: Crawler, place: WorkerPlace, pipe: Connection) -> None:
        self.crawler = crawler
        self.place = place
        self.pipe = pipe
        self.batch: list[tuple[Any, ...]] = []
        self.conn: sqlite3.Connection | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        place = _place(crawler.settings.get("REPARSE_WORKER"))
        pipes = _PIPES.get(crawler)
        pipe = pipes.writer if pipes else None
        if pipe is None:
            raise NotConfigured("a reparse worker with no pipe to its writer")
        sender = cls(crawler, place, pipe)
        crawler.signals.connect(sender.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(sender.spider_closed, signal=signals.spider_closed)
        return sender

    def open_spider(self) -> None:
        place = self.place
        # Autocommit (isolation_level None): the snapshot's read transaction is begun and ended here.
        self.conn = sqlite3.connect(f"file:{place.archive}?mode=ro", uri=True, isolation_level=None)
        spider = portal_spider(self.crawler.spider)
        assert spider is not None  # a reparse re-runs a portal spider
        memory = SnapshotMemory(self.conn, spider.args.portal, place.crawl_id, place.stamp,
                                spider.name, spider.args.lang)
        self.pipe.send([("ready", None)])  # the writer writes nothing of this crawl before every worker is here
        self.crawler.signals.send_catch_log(portal_signals.archive_opened,
                                            session=ArchiveView(place.crawl_id, place.resumed, memory))

    def process_item(self, item: Any) -> Any:
        self._send(("item", item))
        return item

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Spider) -> None:
        if isinstance(exception, RecordRejected):
            self._send(("reject", item, list(exception.reasons)))

    def _send(self, message: tuple[Any, ...]) -> None:
        self.batch.append(message)
        if len(self.batch) >= SEND_BATCH:
            self.flush()

    def flush(self) -> None:
        """The items waiting, and the worker's stats as they are (for the writer's progress lines)."""
        if self.batch:
            self.pipe.send([*self.batch, ("stats", self._stats())])
            self.batch = []

    def _stats(self) -> dict[str, Any]:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        return {k: v for k, v in stats.items() if isinstance(v, int | float | str)}

    def close_spider(self) -> None:
        self.flush()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.flush()
        portal = portal_spider(spider)
        self.pipe.send([("done", self._stats(), reason, portal.mode if portal else "full",
                         bool(portal and portal.complete_pass))])
        if self.conn is not None:
            self.conn.close()


@dataclass
class WorkerPipes:
    """A worker's pipes: to the writer, and to the other workers (the first worker: its ends of
    theirs, worker 2's first; another: its end of the first's)."""

    writer: Connection
    handover: list[Connection]

    def close(self) -> None:
        for pipe in (self.writer, *self.handover):
            pipe.close()


# Each worker crawler's pipes (a pipe cannot travel in settings, which are copied).
_PIPES: dict[Crawler, WorkerPipes] = {}

_PARTS = "portalscraper.webarchive.reparse_worker"


def worker_settings(project: Any, place: WorkerPlace) -> dict[str, Any]:
    """A worker's Scrapy settings over the crawl's: the partition's parts, and the pipe to the
    writer in place of the archive's pipelines."""
    pipelines = {k: v for k, v in dict(project["ITEM_PIPELINES"]).items() if ".store." not in k}
    return {
        "REPARSE_WORKER": place, "ARCHIVE_SQLITE_PATH": "", "ARCHIVE_JSONL_PATH": "", "WARC_DIR": "",
        "SCHEDULER": f"{_PARTS}.PartitionScheduler",
        "ITEM_PIPELINES": {**pipelines, f"{_PARTS}.SendToWriter": 800},
        "DOWNLOADER_MIDDLEWARES": {**dict(project["DOWNLOADER_MIDDLEWARES"]),
                                   "scrapy.downloadermiddlewares.stats.DownloaderStats": None,
                                   f"{_PARTS}.PartitionDownloaderStats": 850},
        "PROGRESS_INTERVAL": -1,  # the writer's log says how far the crawl is
        # Scrapy reads a callback's source to warn of a generator's return value: an item page's
        # callback is a wrapper.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
    }


def run_worker(spider: str, raw: dict[str, Any], overrides: dict[str, Any], place: WorkerPlace, pipes: WorkerPipes,
               scans: list[Scan]) -> None:
    """A worker process: the crawl replayed, its share of the item pages read, its items sent."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.spiderloader import SpiderLoader

    from portalscraper.crawl.attached import attach_args
    from portalscraper.crawl.overrides import project_settings
    from portalscraper.crawl.runner import load_spider, parse_args

    remember_scans(scans)  # the writer read the files through already
    settings = project_settings(overrides)
    for key, value in worker_settings(settings, place).items():
        settings.set(key, value, priority="cmdline")
    spidercls = load_spider(SpiderLoader.from_settings(settings), spider)
    args = parse_args(spidercls, raw)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spidercls)
    if args is not None:
        attach_args(crawler, args)
    _PIPES[crawler] = pipes
    try:
        process.crawl(crawler, **raw)
        process.start()
    finally:
        pipes.close()
