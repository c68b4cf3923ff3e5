"""Shared crawls: workers on one frontier in a real redis-server, one process writing the archive.

Each test compares the shared crawl's archive with a single-process crawl of the same replica
(record ids, content hashes, fields, appearances) and reads the replica's request log.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, Replica, run_cli
from tests.test_warc import archive_rows

RECORD = "id, content_hash, url, title, section, kind, date_text, date_start, summary, body, updated_at"
APPEARANCE = "record_id, page_url, section, position, date_text, title"


def archive(db: Path) -> tuple[dict[str, tuple[Any, ...]], list[tuple[Any, ...]]]:
    with sqlite3.connect(db) as conn:
        records = {r[0]: r for r in conn.execute(f"SELECT {RECORD} FROM records")}
        appearances = sorted(conn.execute(f"SELECT {APPEARANCE} FROM appearances"))
    return records, appearances


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def requested(log: Path) -> Counter[str]:
    return Counter(json.loads(line)["uri"] for line in log.read_text().splitlines())


def crawl(base_url: str, db: Path, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run_cli("crawl", "nato", "--base-url", base_url, "--db", str(db), "--jsonl", "", "--warc",
                   str(db.parent / "warc"), "-q", *extra, cwd=db.parent, check=check)


@dataclass
class Setup:
    server: Replica
    reference: Path  # a single-process crawl's archive of the replica
    log: Path  # the replica's request log, emptied after the reference crawl
    db: Path  # where the shared crawl writes


@pytest.fixture
def setup(start_replica: Callable[..., Replica], tmp_path: Path) -> Callable[[int], Setup]:
    """A replica of `items` news items, crawled once by a single process for reference."""

    def make(items: int) -> Setup:
        log = tmp_path / "requests.jsonl"
        server = start_replica(items, None, "--log-requests", str(log))
        for name in ("single", "shared"):
            (tmp_path / name).mkdir()
        reference = tmp_path / "single" / "archive.sqlite"
        crawl(server.base_url, reference)
        log.write_text("")
        return Setup(server, reference, log, tmp_path / "shared" / "archive.sqlite")

    return make


def test_three_workers_give_the_single_process_archive_asking_each_page_once(
        setup: Callable[[int], Setup], redis_url: str) -> None:
    case = setup(300)
    server, reference, log, db = case.server, case.reference, case.log, case.db
    result = crawl(server.base_url, db, "--redis", redis_url, "--workers", "3")
    assert result.stderr.startswith("Crawl 1 finished (full): 330 records (330 new"), result.stderr[-2000:]
    assert archive(db) == archive(reference)
    asked = requested(log)
    assert 1 <= asked.pop("/robots.txt") <= 3  # each worker that asks for a page reads it
    assert set(asked.values()) == {1}, [uri for uri, n in asked.items() if n > 1][:5]  # every page once
    assert len(asked) == rows(reference, "SELECT requests - 1 FROM crawls")[0][0]
    # Each worker kept its own raw captures; together they hold every page once.
    warcs = sorted((db.parent / "warc").glob("*.warc.gz"))
    assert len(warcs) == 3
    assert rows(db, "SELECT status, complete, exit_code FROM crawls") == [("finished", 1, 0)]
    files = {f for (f,) in rows(db, "SELECT DISTINCT warc_file FROM records")}
    assert len(files) >= 2 and {Path(f).name for f in files} <= {w.name for w in warcs}  # pages went to several
    # `reparse` takes the workers' files together, and rebuilds the same archive from them alone.
    rebuilt = db.parent / "rebuilt.sqlite"
    run_cli("reparse", "--warc", *map(str, warcs), "--db", str(rebuilt), "--jsonl", "", "-q", cwd=db.parent)
    assert archive(rebuilt) == archive(db)
    # One crawl, as the writer recorded it (the workers' files say which crawl they were of).
    assert archive_rows(rebuilt, runs=False) == archive_rows(db, runs=False)


def test_an_incremental_shared_crawl_is_the_single_process_ones(setup: Callable[[int], Setup],
                                                                redis_url: str) -> None:
    """Second crawls, after the portal changed: the same conditional requests (304s), the same
    records new, changed and unchanged, the same history, as one process."""
    case = setup(100)
    server, reference, db = case.server, case.reference, case.db
    crawl(server.base_url, db, "--redis", redis_url, "--workers", "3")
    server.change({"op": "edit", "key": "news_100050", "title": "A new title"},
                  {"op": "edit", "key": "news_91045", "summary": "Edited."})
    crawl(server.base_url, reference)
    result = crawl(server.base_url, db, "--redis", redis_url, "--workers", "3")
    assert result.stderr.startswith("Crawl 2 finished (incremental)"), result.stderr[-2000:]
    counts = ("mode, records_new, records_changed, records_unchanged, records_gone, item_pages_fetched, "
              "item_pages_not_modified, appearances")
    assert rows(db, f"SELECT {counts} FROM crawls WHERE id = 2") == rows(reference, f"SELECT {counts} FROM crawls "
                                                                                   "WHERE id = 2")
    assert rows(db, "SELECT records_changed > 0, item_pages_not_modified > 0 FROM crawls WHERE id = 2") == [(1, 1)]
    assert archive(db) == archive(reference)
    versions = "SELECT record_id, title, summary, content_hash FROM record_versions ORDER BY record_id"
    assert rows(db, versions) == rows(reference, versions) and rows(db, versions)


def test_pages_that_failed_are_asked_again_by_the_next_shared_crawl(start_replica: Callable[..., Replica],
                                                                    redis_url: str, tmp_path: Path) -> None:
    server = start_replica(40)
    broken = [f"news_1000{n:02d}" for n in range(3)]
    server.change(*({"op": "break", "key": key, "status": 404} for key in broken))
    db = tmp_path / "archive.sqlite"
    crawl(server.base_url, db, "--redis", redis_url, "--workers", "2", "-s", "VERDICT_MAX_ERROR_RATE=0.5")
    assert rows(db, "SELECT crawl_id, reason, resolved_crawl_id FROM failures") == [(1, "HTTP 404 Not Found", None)] * 3
    server.change(*({"op": "break", "key": key, "status": 0} for key in broken))
    crawl(server.base_url, db, "--redis", redis_url, "--workers", "2")
    assert rows(db, "SELECT count(*) FROM failures WHERE resolved_crawl_id = 2") == [(3,)]
    marks = " OR ".join(f"url LIKE '%{key}.htm'" for key in broken)
    assert rows(db, f"SELECT count(*) FROM records WHERE ({marks}) AND body != ''") == [(3,)]


def test_rejects_are_the_single_process_ones(start_replica: Callable[..., Replica], redis_url: str,
                                                          tmp_path: Path) -> None:
    """A portal's quirks (an item without a title, one with an impossible date): the same rejects,
    with their reasons, as one process (workers send them to the writer when validation drops them)."""
    server = start_replica(30, None, "--quirks")
    single, shared = tmp_path / "single" / "archive.sqlite", tmp_path / "shared" / "archive.sqlite"
    for db in (single, shared):
        db.parent.mkdir()
    crawl(server.base_url, single, check=False)
    crawl(server.base_url, shared, "--redis", redis_url, "--workers", "2", check=False)
    for sql in ("SELECT record_id, url, reason FROM rejects ORDER BY url",
                "SELECT kind, url, reason, counted FROM failures ORDER BY url",
                "SELECT records, rejects, failures, exit_code FROM crawls"):
        assert rows(shared, sql) == rows(single, sql), sql
    assert [reason.split(":")[0] for (reason,) in rows(single, "SELECT reason FROM rejects ORDER BY url")] == \
        ["date_text", "title"]
    assert archive(shared) == archive(single)


def test_the_portals_delay_holds_for_all_workers_together(start_replica: Callable[..., Replica], redis_url: str,
                                                         tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    server = start_replica(20, None, "--log-requests", str(log))
    db = tmp_path / "archive.sqlite"
    crawl(server.base_url, db, "--redis", redis_url, "--workers", "3", "-s", "PORTAL_REPLICA_FULL_SPEED=false",
          "-s", "DOWNLOAD_DELAY=0.2", "-s", "AUTOTHROTTLE_ENABLED=false")
    times = sorted(float(json.loads(line)["t"]) for line in log.read_text().splitlines())
    assert len(times) > 40
    # No faster than one crawl's delay allows: three workers each keeping the delay on its own
    # would take a third of that. (Single gaps are not compared: the replica stamps a request when
    # it gets to it, so a busy moment of its own moves a stamp.)
    assert times[-1] - times[0] >= 0.2 * (len(times) - 1) * 0.98, (times[-1] - times[0], len(times))


def test_the_portals_concurrency_holds_for_all_workers_together(start_replica: Callable[..., Replica],
                                                               redis_url: str, tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    server = start_replica(20, None, "--faults", "1:slow", "--slow-seconds", "0.3", "--log-requests", str(log))
    db = tmp_path / "archive.sqlite"
    crawl(server.base_url, db, "--redis", redis_url, "--workers", "3", "-s", "PORTAL_REPLICA_FULL_SPEED=false",
          "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=false")
    asked = [json.loads(line) for line in log.read_text().splitlines()]
    # Item pages take 0.3 s to answer (robots.txt, the start page, the feeds and sitemaps do not): two
    # at a time for the whole crawl (three workers with two each would be three times as fast), never
    # more than two being answered at once.
    starts = sorted(float(r["t"]) for r in asked if r["uri"] not in ("/robots.txt", "/cps/en/natolive/index.htm")
                    and not r["uri"].endswith(".xml"))
    assert len(starts) > 40
    assert starts[-1] + 0.3 - starts[0] >= 0.9 * 0.3 * len(starts) / 2, (starts[-1] - starts[0], len(starts))
    # Looked at mid-answer, with 50 ms either side for the replica's own stamping delays.
    busy = max(sum(1 for s in starts if s + 0.05 <= t + 0.15 < s + 0.25) for t in starts)
    assert busy <= 2, busy


@pytest.mark.parametrize("killed", ["a worker", "the writer"])
def test_a_killed_process_loses_nothing(killed: str, setup: Callable[[int], Setup], redis_url: str) -> None:
    case = setup(200)
    server, reference, log, db = case.server, case.reference, case.log, case.db
    command = [sys.executable, "-m", "portalscraper.cli", "crawl", "nato", "--base-url", server.base_url, "--db",
               str(db), "--jsonl", "", "--warc", "", "-q", "--redis", redis_url, "--workers", "3",
               "-s", "PORTAL_REPLICA_FULL_SPEED=false", "-s", "DOWNLOAD_DELAY=0.01"]
    coordinator = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    workers = _children(coordinator.pid, 3)
    try:
        while len(log.read_text().splitlines()) < 80:  # well into the crawl
            assert coordinator.poll() is None, coordinator.communicate()
            time.sleep(0.05)  # bounded: the crawl asks for a page every 10 ms
        if killed == "a worker":  # the others take up its pages; the crawl finishes as if nothing happened
            workers[0].send_signal(signal.SIGKILL)
            _, stderr = coordinator.communicate(timeout=300)
            assert coordinator.returncode == 0, stderr[-2000:]
        else:  # the workers go on without it; --resume writes what they sent, and finishes the crawl
            coordinator.send_signal(signal.SIGKILL)
            coordinator.communicate(timeout=60)
            resumed = subprocess.run([*command, "--resume"], cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert resumed.returncode == 0, resumed.stderr[-2000:]
            assert rows(db, "SELECT id, status, resumed FROM crawls") == [(1, "finished", 1)]
            # The first writer's workers saw the crawl through and stopped by themselves.
            for worker in workers:  # not our children: psutil waits, without their exit codes
                worker.wait(timeout=60)
    finally:
        for process in (coordinator, *workers):
            if process.is_running() if hasattr(process, "is_running") else process.poll() is None:
                process.kill()
    assert archive(db) == archive(reference)


def test_workers_that_join_from_elsewhere(start_replica: Callable[..., Replica], redis_url: str,
                                          tmp_path: Path) -> None:
    """`--workers 0`: the writer starts none; `portalscraper worker` joins with only the Redis URL."""
    server = start_replica(60)
    db = tmp_path / "archive.sqlite"
    writer = subprocess.Popen([sys.executable, "-m", "portalscraper.cli", "crawl", "nato", "--base-url",
                               server.base_url, "--db", str(db), "--jsonl", "", "--warc", "warc", "-q", "--redis",
                               redis_url, "--workers", "0"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    joined = [subprocess.Popen([sys.executable, "-m", "portalscraper.cli", "worker", "--redis", redis_url],
                               cwd=elsewhere, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        _, stderr = writer.communicate(timeout=300)
        assert writer.returncode == 0, stderr[-2000:]
        assert all(worker.wait(timeout=60) == 0 for worker in joined)
    finally:
        for process in (writer, *joined):
            process.kill()
            process.wait(timeout=30)
    assert stderr.startswith("Crawl 1 finished (full): 90 records (90 new"), stderr
    assert len(list((elsewhere / "warc").glob("*.warc.gz"))) == 2  # each worker's captures, where it runs


@pytest.mark.parametrize(("url", "shown"), [("redis://127.0.0.1:1/0", "redis://127.0.0.1:1/0"),
                                            ("redis://:s3cret@127.0.0.1:1/0", "redis://:***@127.0.0.1:1/0")])
def test_a_redis_that_does_not_answer_is_one_line(url: str, shown: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from portalscraper.cli import main

    capsys.readouterr()
    code = main(["crawl", "nato", "--base-url", "http://127.0.0.1:9", "--db", str(tmp_path / "a.sqlite"), "--redis",
                 url])
    stderr = capsys.readouterr().err
    assert code == 2
    assert stderr.startswith(f"Error: cannot use Redis at {shown}") and len(stderr.strip().splitlines()) == 1, stderr
    assert "s3cret" not in stderr  # the password is not shown
    assert not (tmp_path / "a.sqlite").exists() or rows(tmp_path / "a.sqlite", "SELECT count(*) FROM crawls") == [(0,)]


def _children(pid: int, count: int) -> list[Any]:
    """The coordinator's worker processes, once it has started them."""
    import psutil

    deadline = time.monotonic() + 60
    while len(children := psutil.Process(pid).children()) < count:
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.05)  # bounded by the deadline
    return children
