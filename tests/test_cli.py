"""The command line: the demo, and one-line errors with a non-zero exit for bad input."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, Replica, run_cli


@pytest.mark.slow
def test_demo_crawls_the_replica_into_exports(tmp_path: Path) -> None:
    result = run_cli("demo", "--items", "60", cwd=tmp_path)
    assert "Crawl 1 (full): finished, 90 records seen (90 new, 0 changed, 0 unchanged)" in result.stdout
    assert "      27  NATO Review" in result.stdout
    assert "Dates from 1999-" in result.stdout
    db = tmp_path / "exports/portalscraper.sqlite"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM records").fetchone() == (90,)
    assert len((tmp_path / "exports/records.jsonl").read_text("utf-8").splitlines()) == 90


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["crawl", "nope"], "Error: unknown spider 'nope'; known: nato, portal"),
        (["crawl", "nato", "--since", "yesterday"], "Error: since must be an ISO date such as 2012-09-01"),
        (["crawl", "nato", "--since", "2012-02-31"], "Error: since must be an ISO date"),
        (["crawl", "nato", "--base-url", "ftp://x"], "Error: base_url must be an http(s) URL such as https://www.nato.int"),
        (["crawl", "nato", "--lang", "xx"], "Error: lang must be one of en, fr, not 'xx'"),
        (["crawl", "nato", "--max-items", "-3"], "Error: max_items must be a positive whole number, not '-3'"),
        (["crawl", "nato", "-s", "oops"], "Error: -s takes NAME=VALUE, not 'oops'"),
        (["export", "--db", "missing.sqlite"], "Error: no archive at missing.sqlite; run 'portalscraper crawl nato'"),
        (["replica", "--items", "2"], "Error: --items must be from 5"),
        (["replica", "--items", "100000000000"],
         "Error: --items must be from 5 (the homepage's news items) to 2,000,000"),
        (["crawl", "nato", "--warc", "/proc/nope"], "Error: cannot create the WARC folder /proc/nope"),
        (["crawl", "nato", "--wayback", "http://127.0.0.1:9/x", "--from", "2013", "--to", "2012"],
         "Error: from (2013) is later than to (2012)"),
        (["replica", "--changes", "missing.json", "--port", "0"], "Error: cannot read the changes file missing.json"),
        (["crawl", "nato", "--base-url", "http://127.0.0.1:99999"],
         "Error: base_url 'http://127.0.0.1:99999' is not a usable URL: Port out of range 0-65535"),
        (["crawl", "nato", "--base-url", "http://127.0.0.1:0"], "Error: base_url 'http://127.0.0.1:0' names port 0"),
        (["crawl", "nato", "--wayback", "http://[::1/web"], "Error: wayback 'http://[::1/web' is not a usable URL"),
        (["worker", "--redis", "junk://"], "Error: cannot use Redis at junk://: Redis URL must specify one of"),
        (["demo", "--items", "0"], "Error: --items must be from 5 (the homepage's news items) to 2,000,000, not 0"),
        (["reparse", "--warc", "missing.warc.gz"], "Error: no WARC file at missing.warc.gz"),
        (["crawl", "nato", "--profile", "nope"], "Error: unknown profile 'nope'; known: nato"),
        (["crawl", "nato", "--profile", "missing.toml"], "Error: no profile file at missing.toml"),
        (["crawl", "nato", "--db", "/proc/1/archive.sqlite"], "Error: cannot open or create the archive"),
        (["crawl", "nato", "--jsonl", "/proc/1/records.jsonl"], "Error: cannot write the JSON Lines archive"),
        (["replica", "--faults", "2"], "Error: --faults: a fault rate is a number from 0 to 1, not 2.0"),
        (["replica", "--faults", "0.1:explode"], "Error: --faults: unknown fault mode 'explode'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """In this process: each is refused before anything starts (Scrapy, the replica, a file)."""
    if args[0] == "crawl" and "--db" not in args:
        args = [*args, "--db", str(tmp_path / "a.sqlite")]
    code, stderr = main_in_process(args, tmp_path, monkeypatch, capsys)
    assert code == 2, stderr
    assert stderr.startswith(message), stderr
    assert len(stderr.strip().splitlines()) == 1
    assert "Traceback" not in stderr
    assert not (tmp_path / "a.sqlite").exists()  # no archive made for a crawl that cannot start


# Settings (`crawl nato -s NAME=VALUE`) that would fail the crawl later, or hang it: refused first.
@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("DOWNLOAD_TIMEOUT=abc", "a number, 0 or more is expected"),
        ("RETRY_TIMES=many", "a whole number, 0 or more is expected"),
        ("ARCHIVE_BATCH_SIZE=x", "a whole number"),
        ("DOWNLOADER_MIDDLEWARES=junk", "a JSON object is expected, such as -s 'DOWNLOADER_MIDDLEWARES="),
        ("DEFAULT_REQUEST_HEADERS=[1, 2]", "a JSON object is expected"),
        ('ITEM_PIPELINES={"no.such.Pipeline": 300}', "cannot load 'no.such.Pipeline' (No module named 'no')"),
        ('EXTENSIONS={"portalscraper.crawl.progress.Progress": "first"}',
         "the order of 'portalscraper.crawl.progress.Progress' must be a number or null"),
        ('FEEDS={"out.json": "json"}', "each feed's options are a JSON object"),
        ("LOG_LEVEL=LOUD", "one of DEBUG, INFO, WARNING, ERROR, CRITICAL is expected"),
        ("LOG_FILE=/proc/nope/crawl.log", "cannot write the log there"),
        ("WARC_GZIP_LEVEL=12", "a whole number from 0 to 9 is expected"),
        ("CONCURRENT_REQUESTS_PER_DOMAIN=0", "a whole number, 1 or more is expected"),
    ],
)
def test_bad_settings_are_one_line_and_exit_2(setting: str, expected: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, stderr = main_in_process(["crawl", "nato", "-s", setting, "--db", str(tmp_path / "a.sqlite")], tmp_path,
                                   monkeypatch, capsys)
    name = setting.split("=")[0]
    assert code == 2, stderr
    assert stderr.startswith(f"Error: -s {name}") and expected in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1 and not (tmp_path / "a.sqlite").exists()


def main_in_process(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch,
                    capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The portalscraper command's exit code and standard error, run by its main function here."""
    from portalscraper.cli import main

    monkeypatch.chdir(cwd)
    capsys.readouterr()
    code = main(args)
    return code, capsys.readouterr().err


def test_bad_archive_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    from portalscraper.archive import SQLiteArchive

    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"this is not a database" * 100)
    (tmp_path / "folder").mkdir()
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as conn:  # another program's database, with a table called records
        conn.execute("CREATE TABLE records (id INTEGER PRIMARY KEY, name TEXT)")
    newer = tmp_path / "newer.sqlite"
    SQLiteArchive(newer).close()  # a real archive, of no items
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    (tmp_path / "a-file").write_text("x")
    for option, path, message in (
            ("--db", corrupt, "is not a usable SQLite archive"), ("--db", tmp_path / "folder", "is a folder"),
            ("--db", Path("/dev/null"), "is not a regular file"),
            ("--db", foreign, "is not a portalscraper archive (it holds the tables records)"),
            ("--db", newer, "was written by a newer portalscraper (archive schema 99"),
            ("--warc", tmp_path / "a-file", "is not a folder")):
        extra = ["--db", str(tmp_path / "ok.sqlite")] if option == "--warc" else []
        code, stderr = main_in_process(["crawl", "nato", "--base-url", "http://127.0.0.1:9", option, str(path), *extra],
                                       tmp_path, monkeypatch, capsys)
        assert code == 2, stderr
        assert message in stderr and len(stderr.strip().splitlines()) == 1, stderr
    with sqlite3.connect(foreign) as conn:  # untouched: not migrated
        assert [c[1] for c in conn.execute("PRAGMA table_info(records)")] == ["id", "name"]


@pytest.mark.slow
def test_a_bad_archive_is_one_line_from_the_process_too(tmp_path: Path) -> None:
    """What the in-process tables show, once through a real process: one line, exit 2, no traceback."""
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"this is not a database" * 100)
    result = run_cli("crawl", "nato", "--base-url", "http://127.0.0.1:9", "--db", str(corrupt), cwd=tmp_path,
                     check=False)
    assert result.returncode == 2, result.stderr
    assert "is not a usable SQLite archive" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_crawl_that_finds_nothing_exits_3(replica: Replica, tmp_path: Path) -> None:
    result = run_cli("crawl", "nato", "--base-url", replica.url("/nothing-here"), "--db", str(tmp_path / "a.sqlite"),
                     "--log-level", "ERROR", cwd=tmp_path, check=False)
    assert result.returncode == 3
    assert "Error: cannot fetch the start page " in result.stderr and "(HTTP 404 Not Found)" in result.stderr


@pytest.mark.slow
def test_a_portal_that_cannot_be_reached_is_one_line_and_exit_3(tmp_path: Path) -> None:
    result = run_cli("crawl", "nato", "--base-url", "http://127.0.0.1:9", "-s", "RETRY_TIMES=0", "--log-level",
                     "CRITICAL", "--db", str(tmp_path / "a.sqlite"), cwd=tmp_path, check=False)
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("Error: cannot fetch the start page http://127.0.0.1:9/cps/en/natolive/index.htm "
                                    "(robots.txt could not be read (Connection was refused"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_the_replicas_change_api_answers_bad_bodies_400_with_the_reason(
        start_replica: Callable[..., Replica]) -> None:
    server = start_replica(20)
    answers = []
    for body in (b"\xff\xfe[{}]", b"[" * 5000 + b"]" * 5000, b"x" * (1024 * 1024 + 1), b"[1, 2]"):
        request = urllib.request.Request(server.url("/_replica/changes"), data=body, method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        answers.append((refused.value.code, json.loads(refused.value.read())["error"]))
    server.stop()
    assert answers == [(400, "changes are not UTF-8 text (invalid start byte at byte 0)"),
                       (400, "changes are nested too deeply to be read as JSON"),
                       (400, "changes are larger than 1,048,576 bytes"),
                       (400, "changes must be a JSON object or a list of objects")]
    assert server.proc.stdout is not None
    log = server.proc.stdout.read()
    assert "Traceback" not in log and "Error" not in log, log[-2000:]


# One case per way `scrapy crawl` refuses (a bad argument, a bad profile, an unknown spider), each
# through a real process; the arguments' messages themselves are test_args.py's table.
@pytest.mark.slow
@pytest.mark.parametrize(
    ("spargs", "message"),
    [
        (["nato", "-a", "since=yesterday"], "Error: since must be an ISO date such as 2012-09-01, not 'yesterday'"),
        (["nato", "-a", "profile=nope"], "Error: unknown profile 'nope'"),
        (["nope"], "Error: unknown spider 'nope'; known: nato, portal"),
    ],
)
def test_scrapy_crawl_bad_arguments_are_one_line(spargs: list[str], message: str) -> None:
    result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", *spargs, "-s", "LOG_LEVEL=ERROR"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and result.stderr.startswith(message)
    assert "Traceback" not in result.stderr


def test_version_and_a_quiet_crawl(replica: Replica, tmp_path: Path) -> None:
    version = run_cli("--version", cwd=tmp_path)
    assert re.fullmatch(r"portalscraper \d+\.\d+\.\d+\S*\n", version.stdout), version.stdout
    quiet = run_cli("crawl", "nato", "--base-url", replica.base_url, "--max-items", "5", "--db", str(tmp_path / "a.db"),
                    "-q", cwd=tmp_path)
    # -q: warnings and errors only (a clean crawl has none), and the crawl's one-line summary
    assert re.fullmatch(r"Crawl 1 finished \(full\): 5 records \(5 new, 0 changed, 0 unchanged, 0 gone\), \d+ "
                        r"appearances, 0 rejects, 0 errors in [\d.]+ s; exit code 0\n", quiet.stderr), quiet.stderr
    loud = run_cli("crawl", "nato", "--base-url", replica.base_url, "--max-items", "5", "--db", str(tmp_path / "a.db"),
                   "-v", cwd=tmp_path)
    assert "Committing crawl 2:" in loud.stderr and " DEBUG: " in loud.stderr


def test_an_export_into_a_pipe_that_closes_ends_quietly(replica: Replica, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    run_cli("crawl", "nato", "--base-url", replica.base_url, "--db", str(db), "-q", cwd=tmp_path)
    for fmt in ("jsonl", "json", "csv"):  # `| head -1`: the reader stops after one line
        export = subprocess.Popen([sys.executable, "-m", "portalscraper.cli", "export", "--format", fmt, "--db",
                                   str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
        assert export.stdout is not None and export.stderr is not None
        assert export.stdout.readline()
        export.stdout.close()
        assert export.wait(timeout=60) == 0
        assert export.stderr.read() == b""


def test_progress_lines_while_crawling(replica: Replica, tmp_path: Path) -> None:
    # A line every 50 ms: a crawl of the 300-item replica shows many, as one of 2,000 items did at 0.5 s.
    result = run_cli("crawl", "nato", "--base-url", replica.base_url, "--db", str(tmp_path / "a.db"), "--jsonl", "",
                     "--log-level", "INFO", "-s", "PROGRESS_INTERVAL=0.05", cwd=tmp_path)
    lines = [line.split("Progress: ", 1)[1] for line in result.stderr.splitlines() if "Progress: " in line]
    assert len(lines) >= 2, result.stderr[-2000:]
    done = [int(line.split(" pages done")[0].replace(",", "")) for line in lines]
    assert done == sorted(done) and done[-1] > done[0] >= 0  # a loaded machine's first line may come before any page
    assert re.search(r"\d[\d,]* queued; records [\d,]+ new, [\d,]+ changed, [\d,]+ unchanged \([\d,]+ pages answered "
                     r"304\); [\d,]+ failed; \d+ pages/s; (about \d+:\d\d:\d\d left for what is queued|nothing queued"
                     r"|waiting)$", lines[0]), lines[0]
    assert "Crawled " not in result.stderr  # Scrapy's own LogStats line is replaced, not doubled


@pytest.mark.slow
def test_the_demo_shows_its_progress_and_nothing_of_scrapys_log(tmp_path: Path) -> None:
    result = run_cli("demo", "--items", "200", "-s", "PROGRESS_INTERVAL=0.05", cwd=tmp_path)
    lines = result.stderr.splitlines()
    progress = [line for line in lines if line.startswith("Progress: ")]
    assert progress and re.match(r"Progress: [\d,]+ pages done, [\d,]+ queued; records [\d,]+ new", progress[0])
    assert len(progress) == len(lines), result.stderr[-2000:]  # no INFO line of Scrapy's, no timestamps
    assert "Crawl 1 (full): finished, 230 records seen" in result.stdout


def test_reparse_shows_its_progress(replica: Replica, tmp_path: Path) -> None:
    run_cli("crawl", "nato", "--base-url", replica.base_url, "--db", str(tmp_path / "a.db"), "--jsonl", "",
            "--warc", str(tmp_path / "warc"), "-q", cwd=tmp_path)
    result = run_cli("reparse", "--warc", *map(str, (tmp_path / "warc").glob("*.warc.gz")), "--db",
                     str(tmp_path / "b.db"), "--jsonl", "", "--log-level", "INFO", "-s", "PROGRESS_INTERVAL=0.02",
                     cwd=tmp_path)
    progress = [line for line in result.stderr.splitlines() if "Progress: " in line]
    assert progress and re.search(r"Progress: [\d,]+ pages done, [\d,]+ queued; records [\d,]+ new", progress[0])


def test_progress_line_without_an_archive_and_at_the_end() -> None:
    from portalscraper.crawl.progress import progress_line

    stats = {"downloader/response_count": 1200, "scheduler/enqueued": 1300, "scheduler/dequeued": 1250,
             "item_scraped_count": 1100, "portal/item_page_failed": 2, "portal/listing_failed": 1}
    assert progress_line(stats, None, 25.0) == ("Progress: 1,200 pages done, 50 queued; 1,100 items; 3 failed; "
                                                "25 pages/s; about 0:00:02 left for what is queued")
    counts = {"records_new": 10, "records_changed": 2, "records_unchanged": 3}
    finished = {**stats, "scheduler/dequeued": 1300, "portal/item_page_not_modified": 3}
    assert progress_line(finished, counts, 0.0).endswith("records 10 new, 2 changed, 3 unchanged (3 pages answered "
                                                         "304); 3 failed; 0 pages/s; nothing queued")


def test_no_resource_warnings(replica: Replica, tmp_path: Path) -> None:
    """Nothing left open (files, sockets, databases) by a crawl, a re-parse or an export."""
    def run(*args: str) -> str:
        command = [sys.executable, "-X", "dev", "-W", "always::ResourceWarning", "-m", "portalscraper.cli", *args]
        result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stderr

    stderr = run("crawl", "nato", "--base-url", replica.base_url, "--max-items", "20", "-q")
    stderr += run("reparse", "--warc", *map(str, (tmp_path / "exports/warc").glob("*.warc.gz")), "--db",
                  str(tmp_path / "re.sqlite"), "-q")
    stderr += run("export", "--format", "csv", "-o", str(tmp_path / "out.csv"))
    assert "ResourceWarning" not in stderr, stderr[-3000:]


def test_a_quiet_crawl_says_each_failure_once_and_nothing_of_outputs_switched_off(
        start_replica, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = start_replica(60, None, "--faults", "0.1:redirect-loop")
    result = run_cli("crawl", "nato", "--base-url", server.base_url, "--db", str(tmp_path / "a.db"), "--jsonl", "",
                     "--warc", "", "-q", cwd=tmp_path, check=False)
    with sqlite3.connect(tmp_path / "a.db") as conn:
        failed = [url for (url,) in conn.execute("SELECT url FROM failures")]
    assert failed, "no page failed: the fault did not bite"
    lines = result.stderr.splitlines()
    for url in failed:  # each failure in one line of the log, not once per retry or per component
        assert sum(url in line for line in lines) == 1, (url, result.stderr[-3000:])
    assert not [line for line in lines if "jsonl" in line.lower() or "warc" in line.lower()], result.stderr
    assert re.match(r"Crawl 1 finished", lines[-1]) or lines[-1].startswith("Error: "), lines[-1]
