"""`portalscraper reparse --jobs N`: one crawl's WARC files re-parsed by N worker processes, written
into one archive by this process.

This process opens the archive (its CrawlSession: the lock, the crawl row) and starts the
workers (forked from a fork server, warmed up while the files are read through). The first
replays the crawl and reads the shared pages; each reads the item pages of its share of the
records, handed over by the first (reparse_worker.py), and sends what its pipelines let through.
This process writes it, in order of arrival, through the same session a one-process crawl writes
with, and judges the crawl from the workers' stats summed. The archive is the one `--jobs 1`
rebuilds: the same records, versions, appearances, failures, rejects and crawl row; only the
order rows were inserted in differs.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterable
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from scrapy.utils.log import configure_logging

from portalscraper.archive import CrawlSession
from portalscraper.archive.session import guarded_write
from portalscraper.crawl.overrides import check_output_path
from portalscraper.crawl.progress import progress_line
from portalscraper.crawl.runner import Outcome, crawl, open_session, prepare
from portalscraper.crawl.verdict import CrawlRefusedError, Verdict
from portalscraper.items import Record
from portalscraper.pipelines.store import JsonLinesArchivePipeline, crawl_totals
from portalscraper.webarchive.reparse_worker import WorkerPipes, WorkerPlace
from portalscraper.webarchive.warcfiles import Scan, WarcCrawl, scanned

logger = logging.getLogger(__name__)

_WORKER_FAILED = "reparse_worker_failed"  # the finish reason of a crawl whose worker died


# Captures a worker process is worth starting for: the fork server's imports (about 1.5
# CPU-seconds), each worker's crawler and the pipes to the writer pay off only over a few thousand
# item pages.
CAPTURES_PER_JOB = 2_000


def parse_jobs(text: str | None) -> int | None:
    """`--jobs`: worker processes, 1 or more (None: not given, see `jobs_for`). CrawlRefusedError
    otherwise."""
    if text is None:
        return None
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1 or str(text).strip() != str(text):
        raise CrawlRefusedError(f"--jobs takes a number of worker processes, 1 or more, not {text!r}")
    return jobs


def jobs_for(crawl: WarcCrawl, jobs: int | None) -> int:
    """The processes that re-parse `crawl`: `jobs` when given, else one per core, but no more than
    one per CAPTURES_PER_JOB captures (a small crawl in one process). A web-archive crawl in one
    process: spreading its captured items over processes is not tested yet."""
    if crawl.args.get("wayback"):
        return 1
    if jobs is not None:
        return jobs
    captures = sum(len(scanned(f.path).found) for f in crawl.files)
    return max(1, min(os.cpu_count() or 1, captures // CAPTURES_PER_JOB))


# The modules a worker runs (Scrapy, the spiders, the extraction, the pipelines): imported once,
# by the fork server the workers are forked from, not by each worker.
_PRELOAD = ("portalscraper.webarchive.reparse_worker", "portalscraper.webarchive.warc", "portalscraper.crawl.runner",
            "portalscraper.crawl.attached", "portalscraper.crawl.overrides", "scrapy.spiderloader",
            "portalscraper.spiders", "portalscraper.pipelines", "portalscraper.middlewares")
# WARC bytes per capture (the replica's pages, gzipped): what `warm_up` guesses a crawl's captures by.
_BYTES_PER_CAPTURE = 2_000


def _context() -> multiprocessing.context.ForkServerContext:
    """Workers forked from a fork server: a fresh interpreter that opened no archive and runs no
    reactor, which imported what a worker runs once (a second or two a worker, spent while this
    process reads the WARC files through when it is warmed up early)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*_PRELOAD, *_submodules("portalscraper.spiders", "portalscraper.pipelines",
                                                            "portalscraper.middlewares")])
    return context


def _submodules(*packages: str) -> list[str]:
    import importlib
    import pkgutil

    names = []
    for package in packages:
        path = getattr(importlib.import_module(package), "__path__", [])
        names += [f"{package}.{module.name}" for module in pkgutil.iter_modules(path)]
    return names


def warm_up(files: list[Path], jobs: int | None) -> None:
    """The workers' fork server started (its imports run) while this process reads the WARC files
    through, when the crawl is likely to be re-parsed by several processes: --jobs 2 or more, or
    files with captures enough for two (`jobs_for`)."""
    if jobs == 1 or ((os.cpu_count() or 1) == 1 and jobs is None):
        return
    if jobs is None:
        size = sum(path.stat().st_size for path in files if path.is_file())
        if size < 2 * CAPTURES_PER_JOB * _BYTES_PER_CAPTURE:
            return
    from multiprocessing import forkserver

    _context()
    forkserver.ensure_running()


def reparse_crawl(spider: str, raw: dict[str, Any], overrides: dict[str, Any], jobs: int) -> Outcome:
    """One crawl re-parsed from its files (`overrides` from reparse.replay_job) by `jobs` worker
    processes; one process (`jobs` 1, or no SQLite archive) is a plain crawl. CrawlRefusedError for
    a crawl that cannot start."""
    settings, spidercls = prepare(spider, overrides)
    if jobs == 1 or not settings.get("ARCHIVE_SQLITE_PATH") or raw.get("wayback"):
        return crawl(spider, raw, overrides)
    check_output_path(settings.get("ARCHIVE_JSONL_PATH"), "jsonl")
    check_output_path(settings.get("LOG_FILE"), "log")
    session = open_session(settings, spidercls, raw)
    assert session is not None  # a SQLite archive, and a portal spider's arguments
    configure_logging(settings)
    try:
        progress = settings.getfloat("PROGRESS_INTERVAL")
        writer = Writer(session, 0.0 if progress < 0 else progress or (10.0 if sys.stderr.isatty() else 60.0))
        scans = [scanned(path) for path in settings.getlist("WARC_REPLAY_FILES")]
        writer.run(spider, raw, overrides, jobs, scans)
        verdict = writer.finish()
        jsonl = settings.get("ARCHIVE_JSONL_PATH")
        if jsonl and session.failure is None:
            JsonLinesArchivePipeline(jsonl).archive_finished(session, verdict)
    finally:
        session.close()
    verdict = session.verdict or verdict
    return Outcome(verdict.exit_code, list(verdict.alarms), session.row, settings.get("LOG_LEVEL") == "WARNING")


class Writer:
    """The archive's one writer, and the parent of the workers."""

    def __init__(self, session: CrawlSession, progress_seconds: float) -> None:
        self.session = session
        self.progress = progress_seconds  # between two progress lines (0: none)
        self.latest: dict[int, dict[str, Any]] = {}  # worker -> its stats, as last sent
        self.stored: set[str] = set()  # each record once, as DedupePipeline keeps it in one process
        self.duplicates = 0
        self.reports: dict[int, tuple[dict[str, Any], str, str, bool]] = {}  # worker -> its report
        self.processes: list[BaseProcess] = []
        self.stopping = False
        # Until every worker has read the archive's memory, what they send waits here: the memory
        # is the archive's before this crawl wrote anything, as in one process.
        self.waiting: list[tuple[int, list[tuple[Any, ...]]]] | None = []
        self.ready: set[int] = set()

    def run(self, spider: str, raw: dict[str, Any], overrides: dict[str, Any], jobs: int,
            scans: list[Scan]) -> None:
        """Start the workers and write what they send until every one of them is done."""
        from portalscraper.webarchive.reparse_worker import run_worker

        session = self.session
        stamp = session.memory.stamp
        assert stamp is not None
        session.writer.flush()  # the crawl row, before workers read the archive
        context = _context()
        pipes: dict[Connection, int] = {}
        # The first worker's pipe to each other one: the item requests of its records.
        handover = [context.Pipe(duplex=False) for _ in range(jobs - 1)]
        for receive, _ in handover:
            _widen(receive)
        for index in range(jobs):
            receive, send = context.Pipe(duplex=False)
            _widen(receive)
            place = WorkerPlace(index, jobs, str(session.path.resolve()), session.crawl_id, session.resumed,
                                stamp)
            links = [s for _, s in handover] if index == 0 else [handover[index - 1][0]]
            process: BaseProcess = context.Process(
                target=run_worker, args=(spider, raw, overrides, place, WorkerPipes(send, links), scans),
                name=f"reparse-worker-{index + 1}", daemon=True)
            process.start()
            send.close()  # the worker's end: its pipe reads as closed when it exits
            self.processes.append(process)
            pipes[receive] = index
        for ends in handover:  # the workers' now: a pipe reads as closed when the first worker exits
            for end in ends:
                end.close()
        previous = {s: signal.signal(s, self.stop) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.receive(pipes)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for process in self.processes:
                process.join(timeout=30)
                if process.is_alive():
                    process.kill()

    def stop(self, signum: int, frame: object) -> None:
        """Ctrl-C, SIGTERM: the workers stop as a crawl does, what they sent is written."""
        self.stopping = True
        for process in self.processes:
            if process.is_alive() and process.pid is not None and signum != signal.SIGINT:
                os.kill(process.pid, signal.SIGTERM)  # Ctrl-C reaches them from the terminal

    def receive(self, pipes: dict[Connection, int]) -> None:
        shown = (time.monotonic(), 0)
        while pipes:
            if self.progress and time.monotonic() - shown[0] >= self.progress:
                shown = self.show_progress(*shown)
            for pipe in wait(list(pipes), timeout=1.0):
                assert isinstance(pipe, Connection)
                index = pipes[pipe]
                try:
                    messages = pipe.recv()
                except EOFError:  # the worker exited
                    del pipes[pipe]
                    pipe.close()
                    self.arrived(index, [("ready", None)])  # what it sent, it sent
                    continue
                self.arrived(index, messages)
            self.write(lambda s: s.flush_if_due())

    def arrived(self, index: int, messages: list[tuple[Any, ...]]) -> None:
        if self.waiting is None:
            self.handle(index, messages)
            return
        self.waiting.append((index, messages))
        if messages and messages[0][0] == "ready":
            self.ready.add(index)
        if len(self.ready) == len(self.processes):
            waiting, self.waiting = self.waiting, None
            for sender, batch in waiting:
                self.handle(sender, batch)

    def show_progress(self, since: float, done_then: int) -> tuple[float, int]:
        """A progress line, as one process's crawl logs it: the workers' stats summed."""
        stats = _summed(self.latest.values())
        now, done = time.monotonic(), int(stats.get("downloader/response_count", 0))
        logger.info("%s", progress_line(stats, self.session.writer.counts, (done - done_then) / max(now - since, 1e-3)))
        return now, done

    def handle(self, index: int, messages: Iterable[tuple[Any, ...]]) -> None:
        for message in messages:
            kind, item = message[0], message[1]
            if kind == "ready":
                continue
            if kind == "stats":
                self.latest[index] = item
                continue
            if kind == "done":
                self.reports[index] = (item, message[2], message[3], message[4])
            elif kind == "reject":
                self.write(lambda s, item=item, reasons=message[2]: s.reject(item, reasons))
            elif isinstance(item, Record) and item.id is not None and item.id in self.stored:
                self.duplicates += 1
            else:
                if isinstance(item, Record) and item.id is not None:
                    self.stored.add(item.id)
                self.write(lambda s, item=item: s.store(item))

    def write(self, action: Any) -> None:
        """A write to the archive; one that cannot be written (disk full...) stops the workers."""
        guarded_write(self.session, action, self.fail)

    def fail(self, why: str) -> None:
        logger.error("%s: stopping the crawl", why)
        self.session.fail(why)
        self.stop(signal.SIGTERM, None)

    def finish(self) -> Verdict:
        """Judge the crawl from the workers' reports, as a one-process crawl is judged from its stats."""
        self.write(lambda s: s.writer.flush())
        jobs = len(self.processes)
        stats = _summed(self.reports[index][0] for index in sorted(self.reports))
        stats["dedupe/duplicates"] = stats.get("dedupe/duplicates", 0) + self.duplicates
        reasons = [self.reports[i][1] if i in self.reports else _WORKER_FAILED for i in range(jobs)]
        if missing := [str(i + 1) for i in range(jobs) if i not in self.reports]:
            logger.error("Reparse worker(s) %s stopped without finishing: the crawl is incomplete", ", ".join(missing))
        reason = "shutdown" if self.stopping and "shutdown" in reasons else \
            next((r for r in reasons if r != "finished"), "finished")
        first = self.reports.get(0)
        mode, complete = (first[2], first[3]) if first else ("full", False)
        read = [str(self.reports[i][0].get("reparse/item_pages_own", 0)) if i in self.reports else "?"
                for i in range(jobs)]
        logger.info("Item pages read by each process: %s", ", ".join(read))
        return self.session.finish(reason, crawl_totals(stats, mode, complete and reason == "finished"))


def _summed(reports: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Workers' stats as one crawl's: numbers summed (a shared page is counted by the first worker
    alone), other values the first worker's (a start page's failure)."""
    stats: dict[str, Any] = {}
    for report in reports:
        for key, value in report.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                stats[key] = stats.get(key, 0) + value
            else:
                stats.setdefault(key, value)
    return stats


PIPE_BYTES = 1 << 20  # a pipe's buffer: a worker's batches wait there, not in its send, while this one writes


def _widen(pipe: Connection) -> None:
    """A worker's send blocks its crawl until this process reads: a pipe of 1 MB (Linux's most for
    an unprivileged process) holds several batches (64 KB, the default, not one)."""
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        with contextlib.suppress(OSError):  # a smaller limit where the system sets one: the default stays
            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
