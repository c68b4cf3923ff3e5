"""Unattended crawls: kill and resume, one writer at a time, readers during a crawl, exit codes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from portalscraper.crawl.verdict import (
    EXIT_DRIFT,
    EXIT_ERROR_RATE,
    EXIT_INCOMPLETE,
    EXIT_LOCKED,
    Failures,
    drift_alarms,
    verdict,
)
from tests.conftest import ROOT, Replica, run_cli


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def start_crawl(base_url: str, db: Path, *extra: str) -> subprocess.Popen[str]:
    """A crawl in the background, logging at DEBUG to a pipe the test reads."""
    command = [sys.executable, "-m", "portalscraper.cli", "crawl", "nato", "--base-url", base_url, "--db", str(db),
               "--jsonl", "", "--log-level", "DEBUG", *extra]
    return subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=db.parent,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def read_until(proc: subprocess.Popen[str], wanted: Callable[[str], bool]) -> str:
    assert proc.stderr is not None
    for line in proc.stderr:
        if wanted(line):
            return line
    raise AssertionError(f"the crawl ended (exit {proc.wait()}) before the awaited log line")


def drain(proc: subprocess.Popen[str]) -> threading.Thread:
    assert proc.stderr is not None
    thread = threading.Thread(target=proc.stderr.read, daemon=True)
    thread.start()
    return thread


# -- Ctrl-C and SIGTERM -----------------------------------------------------------------------


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_crawl_says_how_to_resume_and_resumes(stop: signal.Signals, big_portal: Replica,
                                                             tmp_path: Path) -> None:
    server = big_portal
    db = tmp_path / "a.sqlite"
    proc = start_crawl(server.base_url, db, "-s", "ARCHIVE_BATCH_SIZE=100")
    read_until(proc, lambda line: "Committed crawl 1:" in line and int(line.rsplit(": ", 1)[1].split()[0]) >= 200)
    proc.send_signal(stop)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "Error: the crawl was interrupted (Ctrl-C or SIGTERM); continue it with the same command and --resume" \
        in stderr
    assert rows(db, "SELECT status, finish_reason FROM crawls") == [("interrupted", "shutdown")]
    run_cli("crawl", "nato", "--base-url", server.base_url, "--db", str(db), "--jsonl", "", "--resume",
            "--log-level", "WARNING", cwd=tmp_path)
    assert rows(db, "SELECT id, status, resumed, records FROM crawls") == [(1, "finished", 1, 1030)]


# -- resume after SIGKILL ---------------------------------------------------------------------


class KillMoment:
    """When to kill a crawl: right after a commit that took it to 300 records or more, or at the
    start of the next commit (the kill lands in the middle of a transaction, and of the WARC
    writer thread's work, not between two)."""

    def __init__(self, during: bool) -> None:
        self.during, self.stored = during, 0

    def __call__(self, line: str) -> bool:
        if "Committed crawl 1:" in line:
            self.stored = int(line.rsplit(": ", 1)[1].split()[0])
            return not self.during and self.stored >= 300
        return self.during and self.stored >= 300 and "Committing crawl 1:" in line


@pytest.fixture(scope="module")
def big_portal() -> Iterator[Replica]:
    """A 1,000-item replica, never changed: the tests that kill or lock a long crawl share it."""
    server = Replica(items=1000)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def reference_archive(big_portal: Replica, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The big portal crawled once, uninterrupted."""
    folder = tmp_path_factory.mktemp("reference")
    run_cli("crawl", "nato", "--base-url", big_portal.base_url, "--db", str(folder / "reference.sqlite"), "--jsonl",
            "", "--warc", "", "--log-level", "WARNING", cwd=folder)
    return folder / "reference.sqlite"


@pytest.mark.parametrize("during", [False, True], ids=["after-a-commit", "during-a-commit"])
def test_a_killed_crawl_resumes_to_the_same_archive(during: bool, big_portal: Replica, reference_archive: Path,
                                                    tmp_path: Path) -> None:
    server, reference, killed = big_portal, reference_archive, tmp_path / "killed.sqlite"

    proc = start_crawl(server.base_url, killed, "-s", "ARCHIVE_BATCH_SIZE=100")
    read_until(proc, KillMoment(during))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert rows(killed, "PRAGMA integrity_check") == [("ok",)]
    stored_before, status = rows(killed, "SELECT records, status FROM crawls")[0]
    assert 300 <= stored_before < 1030 and status == "running"

    run_cli("crawl", "nato", "--base-url", server.base_url, "--db", str(killed), "--jsonl", "", "--resume",
            "--log-level", "WARNING", cwd=tmp_path)

    query = "SELECT id, content_hash FROM records ORDER BY id"
    assert rows(killed, query) == rows(reference, query)
    assert len(rows(killed, query)) == 1030
    assert rows(killed, "SELECT count(*) - count(DISTINCT id) FROM records") == [(0,)]
    listed = "SELECT record_id, source_url, section, position FROM appearances ORDER BY 1, 2, 3, 4"
    assert rows(killed, listed) == rows(reference, listed)
    crawl = rows(killed, "SELECT id, status, resumed, records, records_new, exit_code, item_pages_fetched FROM crawls")
    assert len(crawl) == 1
    crawl_id, status, resumed, records, new, exit_code, fetched_after_resume = crawl[0]
    assert (crawl_id, status, resumed, records, new, exit_code) == (1, "finished", 1, 1030, 1030, 0)
    assert fetched_after_resume <= 1030 - stored_before  # what was stored before the kill was not fetched again
    assert rows(killed, "PRAGMA integrity_check") == [("ok",)]
    assert_raw_captures_match(killed, tmp_path / "exports/warc")


def test_a_killed_and_resumed_crawl_is_rebuilt_from_both_runs_files(start_replica: Callable[..., Replica],
                                                                      tmp_path: Path) -> None:
    """The WARC files of a crawl killed and resumed (one per run, the first cut off anywhere) are
    one crawl: reparse gives back its row (one crawl, resumed once), records and appearances."""
    from tests.test_warc import archive_rows

    server = start_replica(items=300)
    killed = tmp_path / "killed.sqlite"
    proc = start_crawl(server.base_url, killed, "-s", "ARCHIVE_BATCH_SIZE=50")
    read_until(proc, lambda line: "Committed crawl 1:" in line and int(line.rsplit(": ", 1)[1].split()[0]) >= 100)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 100 <= rows(killed, "SELECT records FROM crawls")[0][0] < 330
    run_cli("crawl", "nato", "--base-url", server.base_url, "--db", str(killed), "--jsonl", "", "--resume", "-q",
            cwd=tmp_path)
    assert rows(killed, "SELECT id, status, mode, resumed, records, records_new FROM crawls") == [
        (1, "finished", "full+resume", 1, 330, 330)]
    warcs = sorted((tmp_path / "exports/warc").glob("nato-*.warc.gz"))
    assert len(warcs) == 2

    rebuilt = tmp_path / "rebuilt.sqlite"
    result = run_cli("reparse", "--warc", *map(str, warcs), "--db", str(rebuilt), "--jsonl", "", "-q", cwd=tmp_path)
    assert "Re-parsing 2 WARC file(s) with the nato spider" in result.stderr
    # A resumed crawl's row counts its last run's requests: the rebuild's are both runs'.
    assert archive_rows(rebuilt, runs=False) == archive_rows(killed, runs=False)


def assert_raw_captures_match(db: Path, folder: Path) -> None:
    """Every record's WARC offset, written before and after the kill, is the response record of
    its own page, whole: nothing committed points into a capture the kill cut short."""
    from warcio.archiveiterator import ArchiveIterator

    from portalscraper.extract.urls import canonical_url, record_id
    from portalscraper.profiles import load_profile

    rules = load_profile("nato").urls
    checked = 0
    for rid, warc_file, offset in rows(db, "SELECT id, warc_file, warc_offset FROM records WHERE kind = 'news'"):
        with (folder / warc_file).open("rb") as stream:
            stream.seek(offset)
            capture = next(iter(ArchiveIterator(stream)))
            target = capture.rec_headers.get_header("WARC-Target-URI")
            assert capture.rec_type == "response" and len(capture.content_stream().read()) > 0
        assert record_id(canonical_url(target, rules.with_local_origin(target.split("/cps/")[0]))) == rid
        checked += 1
    assert checked >= 1000


def test_resume_with_nothing_to_resume_starts_a_new_crawl(replica: Replica, crawl, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = crawl(replica.base_url, "--max-items", "10", "--resume")
    assert rows(db, "SELECT id, status, resumed FROM crawls") == [(1, "finished", 0)]


# -- one writer, many readers -----------------------------------------------------------------


def test_second_writer_fails_at_once_while_readers_read(big_portal: Replica, tmp_path: Path) -> None:
    server = big_portal
    db = tmp_path / "archive.sqlite"
    proc = start_crawl(server.base_url, db)
    read_until(proc, lambda line: "Committed crawl 1:" in line)
    drained = drain(proc)

    second = run_cli("crawl", "nato", "--base-url", server.base_url, "--db", str(db), "--jsonl", "", cwd=tmp_path,
                     check=False)
    assert second.returncode == EXIT_LOCKED
    assert second.stderr.startswith(f"Error: another crawl is writing to {db} (pid {proc.pid}, since ")
    assert len(second.stderr.strip().splitlines()) == 1

    counts, errors = [], []
    with sqlite3.connect(db, timeout=0.5) as reader:
        while proc.poll() is None:
            try:
                counts.append(reader.execute("SELECT count(*) FROM records").fetchone()[0])
                reader.execute("SELECT count(*) FROM records_fts WHERE records_fts MATCH 'NATO'").fetchone()
            except sqlite3.OperationalError as exc:
                errors.append(str(exc))
    drained.join()
    assert proc.wait() == 0
    assert errors == []
    assert len(counts) > 10 and counts == sorted(counts) and counts[-1] > counts[0]
    assert rows(db, "SELECT count(*), status FROM crawls") == [(1, "finished")]


# Readers as an analyst's tools are: plain sqlite3 connections without a busy timeout, one kept
# open (the sqlite3 shell, Datasette), and one opened read-only for each read (a script), in turn.
# From the moment the archive file exists, as fast as they can, until `stop` exists; each read
# also notes which crawl it saw running.
READERS = """
import collections, json, os, sqlite3, sys
db, stop = sys.argv[1], sys.argv[2]
QUERIES = ["SELECT count(*) FROM records", "SELECT count(*) FROM appearances",
           "SELECT count(*) FROM records_fts WHERE records_fts MATCH 'nato'", "SELECT count(*) FROM changes"]
errors, seen = [], collections.Counter()
while not os.path.exists(db):
    pass
kept = sqlite3.connect(db, timeout=0)
while not os.path.exists(stop):
    for reader in (kept, None):
        try:
            reader = reader or sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0)
            for query in QUERIES:
                reader.execute(query).fetchall()
            seen[reader.execute("SELECT max(id) FROM crawls WHERE status = 'running'").fetchone()[0]] += 1
            if reader is not kept:
                reader.close()
        except sqlite3.Error as exc:
            errors.append(str(exc))
print(json.dumps({"errors": errors[:10], "count": len(errors), "running": dict(seen)}))
"""


def test_readers_never_fail_while_crawls_write(start_replica: Callable[..., Replica], tmp_path: Path) -> None:
    """A first crawl (the archive made), then an incremental one that finds the full-text index
    out of step and rebuilds it: readers without a busy timeout get no error, ever."""
    from portalscraper.archive import open_database
    from portalscraper.archive.schema import close_database

    server = start_replica(items=20)
    db, stop = tmp_path / "archive.sqlite", tmp_path / "stop"
    readers = subprocess.Popen([sys.executable, "-c", READERS, str(db), str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        crawl = ("crawl", "nato", "--base-url", server.base_url, "--db", str(db), "--jsonl", "", "--warc", "", "-q")
        run_cli(*crawl, cwd=tmp_path)
        server.change({"op": "edit", "key": "news_91112", "summary": "A corrected summary."})
        archive = open_database(db)  # a maintenance script empties the index (the records are left)
        with archive.conn:
            archive.execute("INSERT INTO records_fts (records_fts) VALUES ('delete-all')")
        close_database(archive)
        result = run_cli(*crawl, cwd=tmp_path)
    finally:
        stop.touch()
        report = json.loads(readers.communicate(timeout=60)[0])
    assert "full-text index of" in result.stderr and "rebuilding it" in result.stderr
    assert rows(db, "SELECT mode, records_changed FROM crawls") == [("full", 0), ("incremental", 1)]
    assert rows(db, "SELECT count(*) FROM records_fts_docsize") == rows(db, "SELECT count(*) FROM records")
    assert (report["count"], report["errors"]) == (0, [])
    # Each crawl was read while it ran, many times.
    assert all(report["running"].get(str(crawl_id), 0) >= 200 for crawl_id in (1, 2)), report["running"]


# -- verdicts for schedulers --------------------------------------------------------------------


def test_drift_alarm_section_gone_and_fill_rate_drop(start_replica: Callable[..., Replica], crawl,  # type: ignore[no-untyped-def]
                                                     tmp_path: Path) -> None:
    server = start_replica(items=60)
    db = crawl(server.base_url)
    server.change({"op": "hide", "block": "nato-review"},
                  *({"op": "edit", "key": key, "date_text": ""} for key in
                    ("news_91112", "news_91045", "news_90839", "news_90440", "news_90387")))
    args = ("crawl", "nato", "--base-url", server.base_url, "--db", str(db), "--jsonl", "", "-s",
            "VERDICT_MAX_FILL_DROP=0.05", "--log-level", "WARNING")
    for crawl_id in (2, 3):  # the baseline is the last healthy crawl: the alarm repeats until fixed
        result = run_cli(*args, cwd=tmp_path, check=False)
        assert result.returncode == EXIT_DRIFT, result.stderr[-2000:]
        assert "Error: section 'NATO Review' yielded no items (previous crawl: 27)" in result.stderr
        assert "Error: field 'date_start' filled in " in result.stderr
        status, exit_code, alarms = rows(db, "SELECT status, exit_code, alarms FROM crawls WHERE id = ?", crawl_id)[0]
        assert (status, exit_code) == ("finished", EXIT_DRIFT)
        assert any(a.startswith("section 'NATO Review'") for a in json.loads(alarms))


def test_error_rate_above_threshold(start_replica: Callable[..., Replica], crawl, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = start_replica(items=20)
    server.change(*({"op": "break", "key": f"news_1000{n:02d}", "status": 404} for n in range(5)))
    db = tmp_path / "archive.sqlite"
    result = run_cli("crawl", "nato", "--base-url", server.base_url, "--db", str(db), "--jsonl", "",
                     "--log-level", "CRITICAL", cwd=tmp_path, check=False)
    assert result.returncode == EXIT_ERROR_RATE
    assert result.stderr.startswith("Error: 5 of ")
    errors, requests, rate, failed, exit_code = rows(
        db, "SELECT errors, requests, error_rate, item_pages_failed, exit_code FROM crawls")[0]
    assert (errors, failed, exit_code) == (5, 5, EXIT_ERROR_RATE) and rate == round(5 / requests, 4)
    # Each failed page is listed with its reason and its listing entry; nothing half-made is archived.
    failures = rows(db, "SELECT url, reason, status, json_extract(listing, '$.title') IS NOT NULL, resolved_crawl_id "
                        "FROM failures ORDER BY url")
    assert [f[1:] for f in failures] == [("HTTP 404 Not Found", 404, 1, None)] * 5
    broken = [f"https://www.nato.int/cps/en/natohq/news_1000{n:02d}.htm" for n in range(5)]
    marks = ", ".join("?" for _ in broken)
    assert rows(db, f"SELECT count(*) FROM records WHERE url IN ({marks})", *broken) == [(0,)]
    assert rows(db, f"SELECT count(*) FROM appearances WHERE url IN ({marks})", *broken) == [(5,)]
    # Raise the threshold and the same crawl is fine; the pages are asked for again, and fail again.
    result = run_cli("crawl", "nato", "--base-url", server.base_url, "--db", str(db), "--jsonl", "",
                     "-s", "VERDICT_MAX_ERROR_RATE=0.5", "--log-level", "CRITICAL", cwd=tmp_path, check=False)
    assert result.returncode == 0
    assert rows(db, "SELECT crawl_id, count(*) FROM failures GROUP BY crawl_id") == [(1, 5), (2, 5)]
    # Once the pages answer, the failures are settled and the items archived.
    server.change(*({"op": "break", "key": f"news_1000{n:02d}", "status": 0} for n in range(5)))
    run_cli("crawl", "nato", "--base-url", server.base_url, "--db", str(db), "--jsonl", "", "--log-level",
            "WARNING", cwd=tmp_path)
    assert rows(db, "SELECT count(*) FROM failures WHERE resolved_crawl_id = 3") == [(10,)]
    assert rows(db, f"SELECT count(*) FROM records WHERE url IN ({marks}) AND body != ''", *broken) == [(5,)]


def test_verdict_order_and_drift_rules() -> None:
    previous = {"sections": {"News": 25, "Features": 3}, "fill_rates": {"date_start": 1.0, "title": 1.0},
                "records_seen": 100}
    current = {"sections": {"News": 25}, "fill_rates": {"date_start": 0.6, "title": 1.0}, "records_seen": 100}
    alarms = drift_alarms(previous, current, max_fill_drop=0.2, min_records=20)
    assert alarms == ["section 'Features' yielded no items (previous crawl: 3)",
                      "field 'date_start' filled in 60% of records (previous crawl: 100%)"]
    assert drift_alarms(previous, {**current, "records_seen": 5}, 0.2, 20) == alarms[:1]  # too few to judge
    assert drift_alarms(None, current, 0.2, 20) == []
    assert verdict("shutdown", 10, Failures(50, 100), 0.05, alarms).exit_code == 1
    assert verdict("finished", 0, Failures(50, 100), 0.05, alarms).exit_code == 3
    assert verdict("finished", 10, Failures(6, 100), 0.05, alarms).exit_code == 4
    assert verdict("finished", 10, Failures(5, 100), 0.05, alarms).exit_code == 5
    assert verdict("finished", 10, Failures(5, 100), 0.05, []).exit_code == 0
    incomplete = verdict("finished", 10, Failures(5, 100, listings=1), 0.05, alarms)  # before drift, after rate
    assert incomplete.exit_code == EXIT_INCOMPLETE and incomplete.alarms[0].startswith("1 listing page(s) could not")
    assert verdict("finished", 10, Failures(6, 100, listings=1), 0.05, alarms).exit_code == EXIT_ERROR_RATE


@pytest.mark.parametrize("extra", [["--full"], []])
def test_crawl_rows_count_requests_bytes_and_duration(replica: Replica, crawl, extra: list[str]) -> None:  # type: ignore[no-untyped-def]
    db = crawl(replica.base_url, "--max-items", "30", *extra)
    row = rows(db, "SELECT status, exit_code, requests, bytes, records, records_new, duration_s, finished_at, "
                   "mode, pid FROM crawls")[0]
    status, exit_code, requests, size, records, new, duration, finished_at, mode, pid = row
    assert (status, exit_code, records, new, mode) == ("finished", 0, 30, 30, "full")
    assert requests > 30 and size > 30 * 1000 and duration > 0 and finished_at and pid > 0
