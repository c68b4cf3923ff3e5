"""A crawl shared by workers: the coordinator (`portalscraper crawl --redis URL --workers N`) and a
worker (`portalscraper worker --redis URL`, on this machine or another).

The coordinator opens the archive (its lock: the only writer), publishes the crawl's job in
Redis, starts N local workers, and writes what every worker sends, in order of arrival, through
the same CrawlSession a single-process crawl uses; when the workers are done it judges the crawl.
A worker reads the job from Redis and runs the spider with the frontier's Scrapy parts; its raw
captures go to a WARC file of its own.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

from portalscraper.archive import CrawlSession
from portalscraper.crawl.verdict import EXIT_FAILED, EXIT_OK, Verdict
from portalscraper.distributed import wire
from portalscraper.distributed.frontier import Frontier, shown, wait_for
from portalscraper.distributed.memory import answer_questions, publish_memory
from portalscraper.items import FetchFailure, Record
from portalscraper.pipelines.store import JsonLinesArchivePipeline, crawl_totals

logger = logging.getLogger(__name__)

_SPIDER_PARTS = "portalscraper.distributed.scrapy_parts"
# Outputs a worker does not write: the writer does.
_WRITER_SETTINGS = ("ARCHIVE_SQLITE_PATH", "ARCHIVE_JSONL_PATH")
COMMIT_SECONDS = 2.0
WORKER_HEARTBEAT = 0.5  # seconds between an idle worker's looks at the frontier
JOIN_SECONDS = 300  # how long the writer waits for a first worker (`--workers 0`: from elsewhere)


# Texts a worker takes from the job's settings (beside numbers and switches): none names code, a
# file to write (but the worker's WARC folder), a host or a console.
_JOB_TEXTS = frozenset({"LOG_LEVEL", "USER_AGENT", "WARC_DIR", "NORMALIZE_TIMEZONE"})


def job_settings(project: Mapping[str, Any], settings: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The settings a worker takes from the job, and the names of those it does not. The job is
    read from Redis: whoever can write there must not choose the components a worker loads, the
    files it writes or the consoles it opens. A setting is taken when it is one of _JOB_TEXTS, or
    when the worker's own is a number or a switch (`-s` values are text: Scrapy reads them as
    their default's type)."""
    taken: dict[str, Any] = {}
    refused = []
    for name, value in settings.items():
        if name in _WRITER_SETTINGS or name.startswith("FRONTIER_"):  # the writer's, or the worker's own
            continue
        default = project.get(name)
        plain = isinstance(value, str | int | float | bool) or value is None
        if plain and (name in _JOB_TEXTS or isinstance(default, int | float)):
            taken[name] = value
        else:
            refused.append(name)
    return taken, refused


def worker_settings(project: Mapping[str, Any], job: Mapping[str, Any], url: str, name: str) -> dict[str, Any]:
    """A worker's Scrapy settings: the job's plain ones (`job_settings`), with the frontier's parts in
    place of the archive's."""
    pipelines = {k: v for k, v in dict(project["ITEM_PIPELINES"]).items() if ".store." not in k}
    taken, refused = job_settings(project, job["settings"])
    if refused:
        logger.warning("Settings of the crawl a worker does not take from Redis (set them in the worker's own "
                       "project settings): %s", ", ".join(sorted(refused)))
    return {
        **taken,
        "ARCHIVE_SQLITE_PATH": "", "ARCHIVE_JSONL_PATH": "", "ARCHIVE_ENABLED": True,
        "SCHEDULER": f"{_SPIDER_PARTS}.FrontierScheduler",
        "ITEM_PIPELINES": {**pipelines, f"{_SPIDER_PARTS}.SendToWriter": 800},
        "SPIDER_MIDDLEWARES": {**dict(project["SPIDER_MIDDLEWARES"]), f"{_SPIDER_PARTS}.SeedOnce": 10},
        "DOWNLOADER_MIDDLEWARES": {**dict(project["DOWNLOADER_MIDDLEWARES"]), f"{_SPIDER_PARTS}.SharedPoliteness": 990},
        "EXTENSIONS": {**dict(project["EXTENSIONS"]), f"{_SPIDER_PARTS}.WorkerLifecycle": 0},
        # One item at a time: a request's Release reaches the writer's queue after its items.
        "CONCURRENT_ITEMS": 1,
        # Scrapy reads a callback's source to warn of a generator's return value, once per callable:
        # a worker's callbacks are a new callable per request (the frontier's wrapper), and single-
        # process crawls of the same spiders warn already.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "FRONTIER_REDIS_URL": url, "FRONTIER_PREFIX": job["prefix"], "FRONTIER_WORKER": name,
    }


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Coordinator:
    """The writer of a shared crawl, and the parent of its local workers."""

    def __init__(self, session: CrawlSession, frontier: Frontier, url: str) -> None:
        self.session = session
        self.frontier = frontier
        self.url = url
        self.workers: list[subprocess.Popen[bytes]] = []
        self.stopping = False
        # Each record once per crawl, as DedupePipeline keeps it in one process: here, across workers;
        # each failure and reject once too (a request a worker did not finish is asked again). A
        # resumed crawl starts from what its archive holds of it: a writer killed after a commit and
        # before Redis heard of it reads that part again (`uncommitted`) and writes nothing twice.
        self.stored: set[str] = set()
        self.failed: set[tuple[str | None, ...]] = set()
        self.rejected: set[tuple[str | None, ...]] = set()
        self.duplicates = 0
        if session.resumed:
            self._written_before()

    def _written_before(self) -> None:
        """What the archive holds of this crawl already (read through the session's connection)."""
        db, crawl_id = self.session.writer.db, self.session.crawl_id
        self.stored = {rid for (rid,) in db.execute("SELECT id FROM records WHERE last_crawl_id = ?", [crawl_id])}
        self.failed = set(db.execute("SELECT kind, url, reason FROM failures WHERE crawl_id = ?", [crawl_id]))
        self.rejected = set(db.execute("SELECT record_id, url, reason FROM rejects WHERE crawl_id = ?", [crawl_id]))

    def start_workers(self, count: int) -> None:
        for i in range(count):
            command = [sys.executable, "-m", "portalscraper.cli", "worker", "--redis", self.url,
                       "--prefix", self.frontier.prefix, "--name", f"{worker_name()}-{i + 1}"]
            self.workers.append(subprocess.Popen(command))

    def stop(self, signum: int, frame: object) -> None:
        """Ctrl-C, SIGTERM: the workers stop cleanly, what they sent is written, the crawl is interrupted."""
        self.stopping = True
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    def write(self) -> None:
        """Write what the workers send until they are all done and nothing is left to write."""
        for left in self.frontier.uncommitted():  # a killed writer's last items, not known to be committed
            self.handle(left, again=True)
        last_commit = time.monotonic()
        while True:
            # Workers wait for the archived records they ask for: answered first, and often.
            answered = answer_questions(self.frontier, self.session.memory)
            received = self.frontier.receive_batch(timeout=0.02 if answered else 0.05)
            for payload in received:
                self.handle(payload)
            if time.monotonic() - last_commit >= COMMIT_SECONDS:
                self.commit()
                last_commit = time.monotonic()
            if not received and self.done():
                break
        self.commit()

    def done(self) -> bool:
        local_done = all(proc.poll() is not None for proc in self.workers)
        return local_done and not self.frontier.live_workers() and self.frontier.pending_items() == 0

    def commit(self) -> None:
        self.session.writer.flush()
        self.frontier.committed()

    def handle(self, payload: bytes, again: bool = False) -> None:
        """Write one message of a worker; `again`: read again after a restart (not a duplicate
        of the crawl's if it is written already)."""
        try:
            message = wire.loads(payload)
            kind, item = message[0], message[1]
            if kind == "reject" and not (isinstance(item, Record) and isinstance(message[2], list)):
                raise wire.WireError("a reject without its record and reasons")
        except (wire.WireError, IndexError, KeyError, TypeError) as exc:
            logger.error("A message to the writer is not one of a worker's (%s): not written", exc)
            return
        if kind == "reject":
            reasons = [str(r) for r in message[2]]
            if self._once(self.rejected, (item.id, item.url, "; ".join(reasons))):
                self.session.reject(item, reasons)
            return
        if isinstance(item, Record) and item.id is not None:
            if item.id in self.stored:
                self.duplicates += 0 if again else 1
                return
            self.stored.add(item.id)
        if isinstance(item, FetchFailure) and not self._once(self.failed, (item.kind, item.url, item.reason)):
            return
        self.session.store(item)

    @staticmethod
    def _once(written: set[tuple[str | None, ...]], key: tuple[str | None, ...]) -> bool:
        if key in written:
            return False
        written.add(key)
        return True

    def finish(self) -> Verdict:
        """Judge the crawl from the workers' totals, as a single-process crawl is judged."""
        reports = self.frontier.totals()
        stats: dict[str, Any] = {}
        for report in reports:
            for key, value in report["stats"].items():
                stats[key] = stats.get(key, 0) + value
            if report.get("start_failure"):
                stats["portal/start_failed"] = report["start_failure"]
        stats["dedupe/duplicates"] = stats.get("dedupe/duplicates", 0) + self.duplicates
        reasons = {report["reason"] for report in reports}
        reason = "shutdown" if self.stopping else "finished" if reasons <= {"finished"} and reports else \
            sorted(reasons - {"finished"})[0] if reasons - {"finished"} else "no_workers"
        full = all(report["mode"].startswith("full") for report in reports)
        scoped = getattr(self.session.args, "scoped", False)
        complete = full and not scoped and any(r["listings_complete"] for r in reports)
        mode = "full" if full else "incremental"
        return self.session.finish(reason, crawl_totals(stats, mode, complete))


def coordinate(session: CrawlSession, job: dict[str, Any], url: str, workers: int, jsonl: str | None) -> Verdict:
    """Run a shared crawl into `session`'s archive with `workers` local workers (more may join)."""
    frontier = Frontier(url, job["prefix"])
    if session.resumed and frontier.job() is not None:
        logger.info("Resuming the shared crawl in %s: %d requests queued", shown(url), frontier.queued())
    else:
        frontier.clear()  # an earlier crawl's state under this prefix
    # What workers need to know of earlier crawls (validators, listing hashes, failures), then the
    # job itself: a worker that finds the job finds the memory.
    publish_memory(frontier, session.memory, job["spider"], getattr(session.args, "lang", ""), session.resumed)
    frontier.publish(job)
    coordinator = Coordinator(session, frontier, url)
    previous = {s: signal.signal(s, coordinator.stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        coordinator.start_workers(workers)
        if not wait_for(lambda: frontier.workers() or (workers and coordinator.done()), JOIN_SECONDS):
            logger.error("No worker joined the crawl in %d s", JOIN_SECONDS)
        coordinator.write()
        verdict = coordinator.finish()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for proc in coordinator.workers:
            if proc.poll() is None:
                proc.kill()
    if jsonl and session.failure is None:
        JsonLinesArchivePipeline(jsonl).archive_finished(session, verdict)
    return session.verdict or verdict


def run_worker(url: str, prefix: str, name: str, settings: Any) -> int:
    """One worker of the shared crawl published at `url`, with the project's `settings` and the
    crawl's: until the crawl has nothing left to ask."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.spiderloader import SpiderLoader

    frontier = Frontier(url, prefix)
    if not wait_for(lambda: frontier.job() is not None, 60):
        logger.error("No crawl published at %s (prefix %s)", shown(url), prefix)
        return EXIT_FAILED
    job = frontier.job()
    assert job is not None
    for key, value in worker_settings(settings, job, url, name).items():
        settings.set(key, value, priority="cmdline")
    # An idle Scrapy engine looks for requests (and asks whether it may close) every 5 s: right for
    # one process, whose own callbacks wake it. A worker's new requests come from other workers, so
    # it looks every half second (a private class attribute of Scrapy's engine, read when the
    # spider opens; without it the crawl is only slower).
    from scrapy.core.engine import ExecutionEngine

    ExecutionEngine._SLOT_HEARTBEAT_INTERVAL = WORKER_HEARTBEAT
    process = CrawlerProcess(settings)
    process.crawl(SpiderLoader.from_settings(settings).load(job["spider"]), **job["args"])
    process.start()
    return EXIT_OK
