"""`reparse --jobs N`: a crawl's pages spread over worker processes, and one archive written, the
one `--jobs 1` rebuilds (records with their ids, content hashes and fields, versions, appearances,
failures, rejects, crawl rows with their counts)."""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import pickle
import signal
import sqlite3
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import scrapy

from portalscraper.cli import main
from portalscraper.webarchive.reparse import warc_crawls
from portalscraper.webarchive.reparse_jobs import CAPTURES_PER_JOB, jobs_for, parse_jobs
from portalscraper.webarchive.reparse_worker import SHARE, Handover, _handed, _taken, owner, shares
from tests.conftest import Replica, run_cli
from tests.test_scheduling import read_until, start_crawl
from tests.test_warc import archive_rows


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def reparse(warcs: list[Path], db: Path, jobs: int) -> subprocess.CompletedProcess[str]:
    return run_cli("reparse", "--warc", *map(str, warcs), "--db", str(db), "--jsonl", "", "-q", "--jobs", str(jobs),
                   cwd=db.parent)


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5", "", " 2"])
def test_a_jobs_value_that_is_no_count_of_processes_is_one_line(value: str, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    warc = tmp_path / "crawl.warc.gz"
    warc.write_bytes(b"")
    assert main(["reparse", "--warc", str(warc), "--jobs", value, "--db", str(tmp_path / "x.sqlite")]) == 2
    assert capsys.readouterr().err == f"Error: --jobs takes a number of worker processes, 1 or more, not {value!r}\n"
    assert not (tmp_path / "x.sqlite").exists()


def write_captures(path: Path, count: int) -> None:
    """A crawl's WARC file (its warcinfo as crawls write it) of `count` small captures."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=False)
        writer.write_record(writer.create_warcinfo_record(path.name, {
            "spider": "nato", "portalscraper-base_url": "http://127.0.0.1:9", "portalscraper-full": "True"}))
        for n in range(count):
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(f"http://127.0.0.1:9/cps/en/natolive/news_{n}.htm",
                                                          "response", payload=io.BytesIO(b"<p>x</p>"),
                                                          http_headers=http))


def test_jobs_are_one_per_core_unless_given_and_a_small_crawl_takes_one(tmp_path: Path) -> None:
    assert parse_jobs(None) is None and parse_jobs("3") == 3
    warc = tmp_path / "crawl.warc"
    write_captures(warc, 3 * CAPTURES_PER_JOB)
    (crawl,) = warc_crawls([warc], "nato")
    assert jobs_for(crawl, None) == min(os.cpu_count() or 1, 3) and jobs_for(crawl, 5) == 5
    small = tmp_path / "small.warc"
    write_captures(small, CAPTURES_PER_JOB - 10)
    (crawl,) = warc_crawls([small], "nato")
    assert jobs_for(crawl, None) == 1 and jobs_for(crawl, 2) == 2


def test_a_record_has_the_same_worker_in_every_process_and_the_first_worker_reads_fewer() -> None:
    # Not Python's hash (seeded per process): the workers agree on it.
    assert [owner(rid, 2) for rid in ("news_90387", "news_91045", "topics_49208", "news_100020")] == [1, 1, 1, 0]
    # The first worker reads the shared pages too: it reads fewer item pages, the others even parts.
    assert shares(1) == [1.0] and sum(shares(3)) == pytest.approx(1.0)
    counts = Counter(owner(f"news_{n}", 2) for n in range(100_000, 102_000))
    assert counts[0] + counts[1] == 2_000 and 0.35 < counts[0] / 2_000 < 0.47
    counts = Counter(owner(f"news_{n}", 4) for n in range(100_000, 104_000))
    assert sorted(counts) == [0, 1, 2, 3] and counts[0] < min(counts[1], counts[2], counts[3])
    assert max(counts[k] for k in (1, 2, 3)) - min(counts[k] for k in (1, 2, 3)) < 200
    # With enough workers, reading the shared pages is the first one's whole part.
    assert shares(8)[0] == 0 and 0 not in {owner(f"news_{n}", 8) for n in range(100_000, 101_000)}


@pytest.mark.slow
def test_a_scheduled_jobs_crawls_of_a_quirky_portal_rebuild_alike_on_two_processes(
        start_replica: Callable[..., Replica], tmp_path: Path) -> None:
    """Three crawls as cron runs them (a complete pass, a weekly one after the portal changed,
    an incremental one answered by 304s), of a portal with a real one's quirks (bad items, a
    section robots.txt closes, an item listed twice): two processes rebuild what one does."""
    server = start_replica(40, None, "--quirks")
    crawled, warc = tmp_path / "crawled.sqlite", tmp_path / "warc"

    def crawl(*extra: str) -> None:
        run_cli("crawl", "nato", "--base-url", server.base_url, "--db", str(crawled), "--jsonl", "", "--warc",
                str(warc), "-q", *extra, cwd=tmp_path, check=False)

    crawl()
    server.change({"op": "edit", "key": "news_91112", "summary": "A corrected summary."},
                  {"op": "add", "title": "Allies meet on maritime security", "date_text": "27 Sep. 2012",
                   "summary": "Naval experts met in Northwood."},
                  {"op": "remove", "key": "news_100020"}, {"op": "break", "key": "news_100030", "status": 404})
    crawl("-s", "PORTAL_FULL_PASS_DAYS=0")
    crawl()
    server.stop()
    warcs = sorted(warc.glob("nato-*.warc.gz"))
    assert len(warcs) == 3

    one, two = tmp_path / "one/archive.sqlite", tmp_path / "two/archive.sqlite"
    one.parent.mkdir()
    two.parent.mkdir()
    reparse(warcs, one, 1)
    result = reparse(warcs, two, 2)
    assert "Re-parsing 3 WARC files of 3 crawls" in result.stderr
    assert archive_rows(two) == archive_rows(one)
    assert archive_rows(two)["records"]  # and what was compared is there:
    assert rows(two, "SELECT count(*), sum(records_changed), sum(records_gone), sum(item_pages_not_modified) > 0, "
                     "sum(rejects) > 0, sum(failures) > 0 FROM crawls") == [(3, 1, 1, 1, 1, 1)]
    assert rows(two, "SELECT count(*) > 0 FROM record_versions") == [(1,)]
    # Each item page was read by one process: the counts are one process's.
    counts = "SELECT mode, requests, responses, item_pages_fetched, item_pages_not_modified, duplicates FROM crawls"
    assert rows(two, counts) == rows(one, counts) == rows(crawled, counts)


@pytest.mark.slow
def test_a_killed_and_resumed_crawl_rebuilds_alike_on_two_processes(start_replica: Callable[..., Replica],
                                                                   tmp_path: Path) -> None:
    server = start_replica(items=200)
    killed = tmp_path / "killed.sqlite"
    proc = start_crawl(server.base_url, killed, "-s", "ARCHIVE_BATCH_SIZE=20")
    read_until(proc, lambda line: "Committed crawl 1:" in line and int(line.rsplit(": ", 1)[1].split()[0]) >= 40)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert rows(killed, "SELECT records FROM crawls")[0][0] < 230
    run_cli("crawl", "nato", "--base-url", server.base_url, "--db", str(killed), "--jsonl", "", "--resume", "-q",
            cwd=tmp_path)
    server.stop()
    warcs = sorted((tmp_path / "exports/warc").glob("nato-*.warc.gz"))
    assert len(warcs) == 2

    one, two = tmp_path / "one.sqlite", tmp_path / "two.sqlite"
    reparse(warcs, one, 1)
    result = run_cli("reparse", "--warc", *map(str, warcs), "--db", str(two), "--jsonl", "", "--jobs", "2",
                     "--log-level", "INFO", cwd=two.parent)
    assert "in 2 processes" in result.stderr
    # The item pages were shared out: each process read some, none read them all.
    counts = [line.rsplit(": ", 1)[1].split(", ") for line in result.stderr.splitlines()
              if "Item pages read by each process: " in line]
    assert counts and all(len(c) == 2 and min(map(int, c)) > 0 for c in counts), counts
    assert archive_rows(two) == archive_rows(one)
    assert archive_rows(two, runs=False) == archive_rows(killed, runs=False)
    assert rows(two, "SELECT status, mode, resumed, records FROM crawls") == [("finished", "full+resume", 1, 230)]


class _Spider(scrapy.Spider):
    name = "handover"

    def parse_item(self, response: object, listing: object = None) -> None:
        """An item page's callback."""

    def item_failed(self, failure: object) -> None:
        """Its errback."""


def test_an_item_request_is_handed_over_whole_and_a_dead_worker_is_handed_nothing(
        caplog: pytest.LogCaptureFixture) -> None:
    spider = _Spider()
    listing = {"record_id": "news_1", "title": "Allies meet"}
    request = scrapy.Request("http://127.0.0.1:9/news_1.htm", spider.parse_item, errback=spider.item_failed,
                             headers={"If-None-Match": '"e1"'}, meta={"listing": listing, SHARE: 1}, priority=5,
                             dont_filter=True, cb_kwargs={"listing": listing})
    taken = _taken(pickle.loads(pickle.dumps(_handed(request, spider))), spider)
    assert taken.to_dict(spider=spider) == request.to_dict(spider=spider)
    # A request of another class goes as Scrapy's request_to_dict has it.
    form = scrapy.FormRequest("http://127.0.0.1:9/", spider.parse_item, formdata={"q": "x"})
    assert isinstance(_handed(form, spider), dict) and _taken(_handed(form, spider), spider).body == b"q=x"

    receive, send = multiprocessing.Pipe(duplex=False)
    handover = Handover([send], spider)
    handover.give(1, request)
    handover.flush()
    assert _taken(receive.recv()[0], spider).url == request.url
    receive.close()  # the worker died
    handover.give(1, request)
    with caplog.at_level(logging.ERROR):
        handover.flush()
        handover.give(1, request)
        handover.close()
    assert handover.gone == {1} and handover.batches == [[]]
    assert [r.getMessage() for r in caplog.records] == ["Reparse worker 2 is gone: its item pages are not read"]
