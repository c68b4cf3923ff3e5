"""A portal on a bad night: every fault mode of the replica, one at a time, then all at once.

The replica answers `--faults RATE:MODES`: each faulty page fails its first request (or always
has its shape: malformed, mis-declared charsets). Each test checks the archive against a
crawl of the same replica without faults: same record ids and content hashes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from portalscraper.replica.render import ROBOTS_CLOSED
from tests.conftest import Replica, run_cli

FAST = ("-s", "DOWNLOAD_TIMEOUT=1", "-s", "BACKOFF_BASE=0.05", "-s", "DOWNLOAD_MAXSIZE=1000000")
REPLICA_FAST = ("--slow-seconds", "2", "--large-bytes", "1500000")


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def records(db: Path) -> list[tuple]:
    return rows(db, "SELECT id, content_hash FROM records ORDER BY id")


def crawl(base_url: str, db: Path, *extra: str, check: bool = True) -> int:
    result = run_cli("crawl", "nato", "--base-url", base_url, "--db", str(db), "--jsonl", "", "--log-level", "ERROR",
                     *FAST, *extra, cwd=db.parent, check=False)
    if check:
        assert result.returncode in (0, 3, 4), result.stderr[-3000:]
    return result.returncode


def requests_log(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> list[tuple]:
    """The records of a fault-free crawl of the 20-item replica."""
    folder = tmp_path_factory.mktemp("clean")
    server = Replica(20)
    try:
        crawl(server.base_url, folder / "clean.sqlite")
    finally:
        server.stop()
    return records(folder / "clean.sqlite")


@pytest.mark.parametrize("mode", ["500", "503", "429", "slow", "drop", "truncate", "redirect-chain"])
def test_retried_faults_lose_nothing_in_one_run(mode: str, clean: list[tuple], start_replica: Callable[..., Replica],
                                                tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    server = start_replica(20, None, "--faults", f"1:{mode}", *REPLICA_FAST, "--log-requests", str(log))
    db = tmp_path / "archive.sqlite"
    assert crawl(server.base_url, db) == 0
    assert records(db) == clean
    assert rows(db, "SELECT count(*) FROM failures") == [(0,)]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    seen: dict[str, list[float]] = {}
    for request in requests_log(log):
        seen.setdefault(str(request["uri"]).split("?_hop")[0], []).append(float(request["t"]))  # type: ignore[arg-type]
    asked_twice = [times for times in seen.values() if len(times) >= 2]
    assert asked_twice, "no page was asked for twice: the fault did not bite"
    if mode in ("503", "429"):  # Retry-After: 1 was honoured
        assert all(times[1] - times[0] >= 0.95 for times in asked_twice)


@pytest.mark.parametrize(("mode", "reason"), [
    ("redirect-loop", "max redirections"),
    ("offsite", "redirected to another site, not followed"),
    ("large", "Cancelled"),
])
def test_failed_pages_are_listed_and_fetched_by_the_next_run(mode: str, reason: str, clean: list[tuple],
                                                             start_replica: Callable[..., Replica],
                                                             tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    server = start_replica(20, None, "--faults", f"1:{mode}", *REPLICA_FAST, "--log-requests", str(log))
    db = tmp_path / "archive.sqlite"
    assert crawl(server.base_url, db) in (3, 4)  # every faulty page failed: no items, or too many errors
    failed = rows(db, "SELECT kind, reason, resolved_crawl_id FROM failures")
    assert failed and all(reason.lower() in r.lower() and resolved is None for _, r, resolved in failed), failed[:3]
    assert rows(db, "SELECT complete FROM crawls WHERE id = 1") == [(0,)]
    crawl(server.base_url, db)  # the next run: a complete pass, and every page that failed asked again
    assert rows(db, "SELECT mode, complete FROM crawls WHERE id = 2") == [("full", 1)]
    assert rows(db, "SELECT count(*) FROM failures WHERE crawl_id = 1 AND resolved_crawl_id = 2") == [(len(failed),)]
    # Items first seen in run 2 (on the archive page that failed in run 1) failed their first request
    # then; run 3 fetches them.
    assert crawl(server.base_url, db) == 0
    assert records(db) == clean
    assert rows(db, "SELECT count(*) FROM failures WHERE resolved_crawl_id IS NULL") == [(0,)]
    assert all(str(r["host"]).startswith("127.0.0.1:") for r in requests_log(log))  # never followed offsite


@pytest.mark.parametrize("mode", ["malformed", "charset-cp1252", "charset-meta"])
def test_misshapen_pages_give_the_same_records(mode: str, clean: list[tuple], start_replica: Callable[..., Replica],
                                               tmp_path: Path) -> None:
    server = start_replica(20, None, "--faults", f"1:{mode}")
    db = tmp_path / "archive.sqlite"
    assert crawl(server.base_url, db) == 0
    assert records(db) == clean
    titles = [t for (t,) in rows(db, "SELECT title FROM records")]
    assert "Thoughts of a former extremist" in titles
    assert any("’" in (s or "") for (s,) in rows(db, "SELECT summary FROM records"))  # curly quotes intact
    assert not any("â€" in (b or "") or "\ufffd" in (b or "") for (b,) in rows(db, "SELECT body FROM records"))


def test_a_real_portals_quirks(start_replica: Callable[..., Replica], tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    server = start_replica(300, None, "--quirks", "--log-requests", str(log))
    db = tmp_path / "archive.sqlite"
    assert crawl(server.base_url, db) == 0
    # robots.txt: the closed block of items is never asked for, and is listed as skipped, not failed
    asked = [str(r["uri"]) for r in requests_log(log)]
    assert not [u for u in asked if u.startswith(ROBOTS_CLOSED)]
    skipped = rows(db, "SELECT count(*), min(reason), max(counted) FROM failures")
    assert skipped == [(100, "forbidden by robots.txt", 0)]
    assert rows(db, "SELECT errors, exit_code FROM crawls") == [(0, 0)]
    # documents and images listed like items are not fetched as pages
    assert not [u for u in asked if u.endswith((".pdf", ".jpg"))]
    # bad items: rejected with their reasons; an empty summary is allowed
    reasons = sorted(r for (r,) in rows(db, "SELECT reason FROM rejects"))
    assert reasons == ["date_text: impossible date '31 Feb. 2012': day is out of range for month", "title: missing"]
    calendar = "NATO publishes its annual exercise calendar"
    assert rows(db, "SELECT summary FROM records WHERE title = ?", calendar) == [("",)]
    # the item listed on two archive pages: one record, two appearances
    doubled = rows(db, "SELECT record_id, count(DISTINCT source_url) FROM appearances WHERE source_url LIKE "
                       "'%news.htm%' GROUP BY record_id HAVING count(DISTINCT source_url) > 1")
    assert doubled and rows(db, "SELECT count(*) - count(DISTINCT id) FROM records") == [(0,)]
    # every request honest and at home
    assert all(str(r["host"]).startswith("127.0.0.1:") for r in requests_log(log))
    assert all(str(r["agent"]).startswith("portalscraper/") and "+" in str(r["agent"]) for r in requests_log(log))


def test_soak_ten_percent_of_requests_faulted(start_replica: Callable[..., Replica], tmp_path: Path) -> None:
    """800 items, one request in ten misbehaving in every way at once, a real portal's quirks:
    the scheduled runs end with exactly the archive of a fault-free crawl."""
    clean_db, db, log = tmp_path / "clean.sqlite", tmp_path / "faulty.sqlite", tmp_path / "requests.jsonl"
    crawl(start_replica(800, None, "--quirks").base_url, clean_db)
    server = start_replica(800, None, "--quirks", "--faults", "0.1", *REPLICA_FAST, "--log-requests", str(log))

    crawl(server.base_url, db)
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    first_failures = rows(db, "SELECT kind, url, reason FROM failures WHERE counted = 1")
    assert first_failures and all(reason for _, _, reason in first_failures)
    reasons = {reason.split(" (")[0].split(":")[0] for _, _, reason in first_failures}
    assert len(reasons) >= 3, reasons  # several kinds of failure, each with its reason
    assert sorted(r for (r,) in rows(db, "SELECT reason FROM rejects")) == [
        "date_text: impossible date '31 Feb. 2012': day is out of range for month", "title: missing"]
    runs = 1
    while rows(db, "SELECT count(*) FROM failures WHERE counted = 1 AND resolved_crawl_id IS NULL") != [(0,)]:
        runs += 1
        assert runs <= 4, "failures still unsettled after four runs"
        crawl(server.base_url, db)
    assert records(db) == records(clean_db)
    assert len(records(db)) > 700
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    requests = requests_log(log)
    faulted = {str(r["uri"]) for r in requests}
    assert all(str(r["host"]).startswith("127.0.0.1:") for r in requests)  # redirects off site never followed
    assert not [u for u in faulted if u.startswith(ROBOTS_CLOSED) or u.endswith((".pdf", ".jpg"))]
