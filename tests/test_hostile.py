"""The crawler on the hostile web: a hostile portal of the project's own on 127.0.0.1 (tests/hostile.py).

Every case crawls it with the real command, through a recording proxy on 127.0.0.1 that forwards
only the portal's own origin (tests/proxy.py): a request anywhere else is refused there and fails
the test, so no case can send a packet off the machine even when the code under test is wrong.
Each case must end within 60 s and 300 MB, without a traceback, with at most one `Error:` line,
its documented exit code, and its failure or reject rows with their reasons.
"""

from __future__ import annotations

import csv
import io
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import MEASURED, ROOT, Replica
from tests.hostile import ARCHIVE, HostileServer
from tests.proxy import RecordingProxy


@dataclass
class Outcome:
    code: int
    stderr: str
    seconds: float
    peak_mb: float
    db: Path
    refused: list[str] = field(default_factory=list)  # requests the proxy refused: to other origins
    other_hits: list[str] = field(default_factory=list)  # requests that reached the other port

    def rows(self, sql: str) -> list[tuple]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(sql).fetchall()


@pytest.fixture
def other_port() -> Iterator[tuple[int, list[str]]]:
    """Another port of 127.0.0.1, listening, that records whatever reaches it (nothing must)."""
    hits: list[str] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    stop = False

    def accept() -> None:
        while not stop:
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            hits.append(conn.recv(200).decode("latin-1"))
            conn.close()

    import threading

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1], hits
    stop = True
    thread.join(timeout=5)
    listener.close()


def crawl_hostile(case: str, other: tuple[int, list[str]], tmp_path: Path, *extra: str,
                  log_level: str = "WARNING", spider: str = "nato") -> tuple[Outcome, HostileServer]:
    server = HostileServer(case, other[0])
    proxy = RecordingProxy([server.base_url])
    db = tmp_path / "archive.sqlite"
    env = {**{k: v for k, v in os.environ.items() if "proxy" not in k.lower()}, "PYTHONPATH": str(ROOT),
           **proxy.env()}
    target = ["--base-url", server.base_url] if spider == "nato" else ["--start-url", server.base_url + "/cps/en/"
                                                                      "natolive/index.htm"]
    args = ["crawl", spider, *target, "--db", str(db), "--jsonl", str(tmp_path / "r.jsonl"),
            "--warc", str(tmp_path / "warc"), "--log-level", log_level, "-s", "RETRY_TIMES=1",
            "-s", "DOWNLOAD_TIMEOUT=10", "-s", "VERDICT_MAX_ERROR_RATE=0.5", *extra]  # a tiny portal: 1 failure is 10%
    started = time.monotonic()
    try:
        result = subprocess.run([sys.executable, "-c", MEASURED, *args], capture_output=True, text=True,
                                cwd=tmp_path, env=env, timeout=120)
    finally:
        proxy.stop()
        server.stop()
    seconds = time.monotonic() - started
    lines = result.stderr.splitlines()
    peak = next((int(line.split()[1]) / 1024 for line in lines if line.startswith("PEAK_RSS_KB")), 0.0)
    stderr = "\n".join(line for line in lines if not line.startswith("PEAK_RSS_KB"))
    return Outcome(result.returncode, stderr, seconds, peak, db, proxy.refused, list(other[1])), server


def check_bounds(outcome: Outcome, code: int) -> None:
    assert "Traceback" not in outcome.stderr, outcome.stderr[-3000:]
    assert sum(line.startswith("Error:") for line in outcome.stderr.splitlines()) <= 1, outcome.stderr[-2000:]
    assert outcome.code == code, outcome.stderr[-2000:]
    assert outcome.seconds < 60
    assert 0 < outcome.peak_mb < 300
    assert outcome.refused == []  # nothing asked of any origin but the portal's
    assert outcome.other_hits == []


def failure_reasons(outcome: Outcome) -> list[str]:
    return [r for (r,) in outcome.rows("SELECT reason FROM failures ORDER BY id")]


# -- security: the crawler goes nowhere else -------------------------------------------------------

def test_items_on_other_hosts_ports_and_schemes_are_never_fetched(other_port: tuple[int, list[str]],
                                                                  tmp_path: Path) -> None:
    outcome, server = crawl_hostile("offsite-items", other_port, tmp_path)
    check_bounds(outcome, 0)
    urls = [u for (u,) in outcome.rows("SELECT url FROM records")]
    assert sorted(urls) == sorted(f"https://www.nato.int/cps/en/natohq/news_{n}.htm" for n in (1, 2, 3))
    assert not any("news_9" in hit for hit in server.hits)  # not even rewritten onto the portal


@pytest.mark.parametrize("case", ["offsite-items", "next-other-port", "redirect-other-port"])
def test_the_portal_spider_stays_on_its_origin(case: str, other_port: tuple[int, list[str]], tmp_path: Path) -> None:
    outcome, server = crawl_hostile(case, other_port, tmp_path, spider="portal")
    check_bounds(outcome, 0)
    urls = [u for (u,) in outcome.rows("SELECT url FROM records")]
    assert urls and all(u.startswith(server.base_url + "/") for u in urls), urls


@pytest.mark.parametrize("case", ["next-file", "next-other-port", "next-ftp"])
def test_next_links_elsewhere_are_refused_and_recorded(case: str, other_port: tuple[int, list[str]],
                                                       tmp_path: Path) -> None:
    outcome, _ = crawl_hostile(case, other_port, tmp_path)
    check_bounds(outcome, 0)
    reasons = outcome.rows("SELECT kind, reason FROM failures")
    assert [kind for kind, _ in reasons] == ["listing"] and "another site, not requested" in reasons[0][1]
    warc = b"".join(p.read_bytes() for p in (tmp_path / "warc").glob("*.warc.gz"))
    assert b"root:x:" not in warc  # /etc/passwd was never read


@pytest.mark.parametrize(("case", "reason"), [
    ("redirect-other-port", "redirected to another site, not followed"),
    ("meta-refresh-offsite", "another site, not requested"),
])
def test_redirects_elsewhere_fail_visibly(case: str, reason: str, other_port: tuple[int, list[str]],
                                          tmp_path: Path) -> None:
    outcome, _ = crawl_hostile(case, other_port, tmp_path)
    check_bounds(outcome, 0)
    assert any(reason in r for r in failure_reasons(outcome)), failure_reasons(outcome)


def test_cookies_need_no_outside_lookup(other_port: tuple[int, list[str]], tmp_path: Path) -> None:
    outcome, _ = crawl_hostile("cookie", other_port, tmp_path)
    check_bounds(outcome, 0)  # the public-suffix list would have been a CONNECT to the proxy
    assert outcome.rows("SELECT count(*) FROM records") == [(3,)]


def test_csv_export_neutralises_formulas(other_port: tuple[int, list[str]], tmp_path: Path) -> None:
    outcome, _ = crawl_hostile("formula-title", other_port, tmp_path)
    check_bounds(outcome, 0)
    assert outcome.rows("SELECT title FROM records WHERE url LIKE '%news_500.htm'") == [
        ('=HYPERLINK("http://evil.example/","click")',)]  # the archive keeps the text as published
    result = subprocess.run([sys.executable, "-m", "portalscraper.cli", "export", "--format", "csv", "--db",
                             str(outcome.db)], capture_output=True, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60, check=True)
    titles = [row["title"] for row in csv.DictReader(io.StringIO(result.stdout))]
    assert "'=HYPERLINK(\"http://evil.example/\",\"click\")" in titles
    assert not any(t.startswith(("=", "+", "-", "@")) for t in titles)


def test_control_characters_are_stripped(other_port: tuple[int, list[str]], tmp_path: Path) -> None:
    outcome, _ = crawl_hostile("control-chars", other_port, tmp_path)
    check_bounds(outcome, 0)
    assert outcome.rows("SELECT title FROM records WHERE url LIKE '%news_500.htm'") == [("The special item",)]
    text = (tmp_path / "r.jsonl").read_text("utf-8")
    assert "\x1b" not in text and "\\u001b" not in text and "\\u0007" not in text


# -- bounded time and memory on any page -----------------------------------------------------------

@pytest.mark.parametrize(("case", "expect"), [
    ("deep", "record"),
    ("xml", "record"),
    ("binary", "binary content served as a text page"),
    ("huge-title", "title: 1,000,000 characters, more than the 1,000 kept"),
])
def test_misshapen_item_pages(case: str, expect: str, other_port: tuple[int, list[str]], tmp_path: Path) -> None:
    outcome, _ = crawl_hostile(case, other_port, tmp_path)
    check_bounds(outcome, 0)
    special = outcome.rows("SELECT title, body FROM records WHERE url LIKE '%news_500.htm'")
    if expect == "record":
        assert special and special[0][0] == "The special item"
        if case == "xml":
            assert special[0][1].startswith("The ministers met")
        return
    assert special == []
    reasons = failure_reasons(outcome) + [r for (r,) in outcome.rows("SELECT reason FROM rejects")]
    assert any(expect in r for r in reasons), reasons
    assert os.path.getsize(outcome.db) < 20_000_000


def test_a_binary_listing_page_is_a_failure_with_its_reason(other_port: tuple[int, list[str]],
                                                           tmp_path: Path) -> None:
    outcome, _ = crawl_hostile("binary-listing", other_port, tmp_path)
    check_bounds(outcome, 7)  # finished, but a listing page could not be read (health.EXIT_INCOMPLETE)
    assert "Error: 1 listing page(s) could not be read" in outcome.stderr
    assert outcome.rows("SELECT kind, reason LIKE 'binary content served as a text page%' FROM failures") == [
        ("listing", 1)]
    assert outcome.rows("SELECT count(*) FROM records") == [(3,)]


def test_pagination_that_repeats_itself_stops(other_port: tuple[int, list[str]], tmp_path: Path) -> None:
    outcome, server = crawl_hostile("endless-same", other_port, tmp_path)
    check_bounds(outcome, 0)
    assert sum(hit.startswith(ARCHIVE) for hit in server.hits) <= 2
    assert "lists only items of its earlier pages" in outcome.stderr


def test_pagination_without_end_stops_at_the_listing_limit(other_port: tuple[int, list[str]],
                                                           tmp_path: Path) -> None:
    outcome, server = crawl_hostile("endless-new", other_port, tmp_path, "-s", "PORTAL_MAX_LISTING_PAGES=15")
    check_bounds(outcome, 0)
    assert sum(hit.startswith(ARCHIVE) for hit in server.hits) == 15
    assert "PORTAL_MAX_LISTING_PAGES (15) reached" in outcome.stderr


def test_a_robots_txt_that_cannot_be_read_whole_allows_nothing(other_port: tuple[int, list[str]],
                                                               tmp_path: Path) -> None:
    outcome, server = crawl_hostile("robots-huge", other_port, tmp_path)
    check_bounds(outcome, 3)
    assert server.hits == ["/robots.txt"]  # nothing else asked
    assert "Error: cannot fetch the start page" in outcome.stderr and "robots.txt could not be read" in outcome.stderr


def test_every_retry_after_wait_is_logged(other_port: tuple[int, list[str]], tmp_path: Path) -> None:
    outcome, _ = crawl_hostile("retry-after", other_port, tmp_path, log_level="INFO")
    check_bounds(outcome, 0)
    assert "Waiting 2.0 s before retry 1 of" in outcome.stderr and "(Retry-After)" in outcome.stderr
    assert outcome.rows("SELECT count(*) FROM records WHERE url LIKE '%news_500.htm'") == [(1,)]


def test_what_arrived_is_committed_while_a_page_hangs(other_port: tuple[int, list[str]], tmp_path: Path) -> None:
    """ARCHIVE_FLUSH_SECONDS is a timer, not a check made when an item arrives: with one page that
    never answers, the records already received are on disk while the crawl waits."""
    server = HostileServer("hang", other_port[0])
    db = tmp_path / "archive.sqlite"
    args = ["crawl", "nato", "--base-url", server.base_url, "--db", str(db), "--jsonl", "", "--warc", "",
            "--log-level", "ERROR", "-s", "ARCHIVE_FLUSH_SECONDS=0.5", "-s", "ARCHIVE_BATCH_SIZE=100000",
            "-s", "DOWNLOAD_TIMEOUT=60", "-s", "RETRY_TIMES=0"]
    proc = subprocess.Popen([sys.executable, "-m", "portalscraper.cli", *args], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    committed = 0
    try:
        deadline = time.monotonic() + 45
        while committed < 3 and proc.poll() is None and time.monotonic() < deadline:
            if db.exists():
                with sqlite3.connect(db, timeout=5) as conn:
                    if conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'records'").fetchone()[0]:
                        committed = conn.execute("SELECT count(*) FROM records").fetchone()[0]
            if committed < 3:
                time.sleep(0.2)  # polling the archive from outside, the way a reader would
        assert proc.poll() is None, "the crawl ended before the hanging page answered"
        assert committed == 3  # the three good items, committed while the fourth page hangs
    finally:
        server.release.set()
        proc.communicate(timeout=60)
        server.stop()
    assert proc.returncode == 0


# -- a full disk -----------------------------------------------------------------------------------

def test_a_full_disk_stops_the_crawl_with_exit_1_and_loses_nothing_committed(start_replica: Callable[..., Replica],
                                                                              tmp_path: Path) -> None:
    """The crawl's files may grow to 1.5 MB (RLIMIT_FSIZE: the kernel refuses writes past it, as a
    full disk does); the archive stops there, says so in one line, and the next run completes it."""
    import resource
    import signal

    server = start_replica(1500)

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a refused write is an error, not a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_500_000, 1_500_000))

    args = ["crawl", "nato", "--base-url", server.base_url, "--db", str(tmp_path / "a.sqlite"), "--jsonl",
            str(tmp_path / "r.jsonl"), "--warc", "", "--log-level", "ERROR"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    full = subprocess.run([sys.executable, "-m", "portalscraper.cli", *args], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120, preexec_fn=small_disk)
    assert full.returncode == 1, full.stderr
    assert "Traceback" not in full.stderr
    errors = [line for line in full.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].startswith("Error: cannot write the archive: ")
    assert not (tmp_path / "r.jsonl.part").exists()
    with sqlite3.connect(tmp_path / "a.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        status, reason, code, stored = conn.execute(
            "SELECT status, finish_reason, exit_code, records FROM crawls").fetchone()
        committed = {r for (r,) in conn.execute("SELECT id FROM records")}
    assert (status, reason, code) == ("failed", "archive_unwritable", 1)
    assert 0 < stored == len(committed) < 1530
    again = subprocess.run([sys.executable, "-m", "portalscraper.cli", *args], capture_output=True, text=True,
                           cwd=tmp_path, env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(tmp_path / "a.sqlite") as conn:
        after = {r for (r,) in conn.execute("SELECT id FROM records")}
    assert committed <= after and len(after) == 1530
