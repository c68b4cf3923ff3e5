"""Shared crawls of the modes that hold items back until every page is read: the `portal` spider
(benchmarks/evaluation/newsroom.py) and a web-archive crawl (tests/iaserver.py), each compared with
a single-process crawl of the same site: the same archive, the same pages asked, each once.

The protocol underneath (the held entries, the worker elected to request them, a dead one's claims
undone) is played step by step in tests/test_frontier.py.
"""

from __future__ import annotations

import sqlite3
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, run_cli
from tests.iaserver import ArchiveServer
from tests.proxy import RecordingProxy
from tests.test_internet_archive import build_collection

sys.path.insert(0, str(ROOT / "benchmarks"))
from evaluation.newsroom import NewsroomServer

RECORD = "id, content_hash, url, title, section, kind, date_text, date_start, summary, body, provenance, capture_time"
APPEARANCE = "record_id, page_url, section, position, date_text, title, capture_time"
CRAWL = ("mode, status, complete, exit_code, records, records_new, records_changed, records_unchanged, records_gone, "
         "item_pages_fetched, item_pages_not_modified, appearances, rejects, failures")


def archive(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a crawl wrote, row by row (the crawl rows without their times)."""
    with sqlite3.connect(db) as conn:
        return {
            "records": sorted(conn.execute(f"SELECT {RECORD} FROM records")),
            "appearances": sorted(conn.execute(f"SELECT {APPEARANCE} FROM appearances")),
            "rejects": sorted(conn.execute("SELECT crawl_id, record_id, url, reason FROM rejects")),
            "failures": sorted(conn.execute("SELECT crawl_id, kind, url, item_url, reason, counted FROM failures")),
            "crawls": conn.execute(f"SELECT {CRAWL} FROM crawls ORDER BY id").fetchall(),
        }


def crawl(way: str, redis_url: str, proxy: RecordingProxy, folder: Path, *args: str) -> None:
    """`portalscraper crawl ARGS` into FOLDER/WAY.sqlite, by one process (`single`) or by two
    workers (`shared`), every request through the recording proxy; its exit code 0, or 4 when
    items could not be read."""
    shared = ("--redis", redis_url, "--workers", "2") if way == "shared" else ()
    result = run_cli("crawl", *args, "--db", str(folder / f"{way}.sqlite"), "--jsonl", "", "--warc", "", "-q",
                     *shared, cwd=folder, env=proxy.env(), check=False)
    assert result.returncode in (0, 4), result.stderr[-2000:]


def same_archive(proxy: RecordingProxy, folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The one process's archive, once the two workers' is found the same, and nothing was asked
    elsewhere."""
    assert proxy.refused == []
    single = archive(folder / "single.sqlite")
    assert archive(folder / "shared.sqlite") == single
    return single


def test_a_shared_portal_crawl_is_the_single_process_one(redis_url: str, tmp_path: Path) -> None:
    """A site learnt from its own evidence (templates from every page, each item's best entry from
    every listing, its feed's and sitemap's entries): crawled, then crawled again unchanged (the
    sitemap's dates save every item page), by one process and by two workers."""
    server = NewsroomServer(articles=20)
    proxy = RecordingProxy([server.base_url])
    asked: dict[str, list[Counter[str]]] = {"single": [], "shared": []}
    try:
        for _ in ("crawled", "crawled again"):
            for way in ("single", "shared"):
                server.hits.clear()
                crawl(way, redis_url, proxy, tmp_path, "portal", "--start-url", server.base_url + "/")
                asked[way].append(Counter(server.hits))
    finally:
        proxy.stop()
        server.stop()
    single = same_archive(proxy, tmp_path)
    assert [c[3] for c in single["crawls"]] == [0, 0]  # exit codes
    assert len(single["records"]) >= 20 and [c[:3] for c in single["crawls"]] == [("full", "finished", 1),
                                                                                   ("incremental", "finished", 0)]
    for first, again in zip(asked["single"], asked["shared"], strict=True):
        # The sitemaps it names, once; and for its rules, once by each worker that asks for a page.
        assert again.pop("/robots.txt") - first.pop("/robots.txt") in (0, 1)
        assert again == first  # the same pages, each once
    assert max(asked["shared"][0].values()) == 1 and "/feed.xml" in asked["shared"][0]
    assert not [p for p in asked["shared"][1] if p.startswith("/article/")]  # unchanged: no item page again


def test_a_shared_web_archive_crawl_is_the_single_process_one(redis_url: str, tmp_path: Path) -> None:
    """The archive's index answered two captures at a time (each next page read by whichever worker
    takes it), homepage captures walked oldest first, items asked once every capture is read, failed
    replays looked up in the index: by one process and by two workers."""
    server = ArchiveServer(build_collection().captures, row_cap=2)
    proxy = RecordingProxy([server.endpoint])
    asked = []
    try:
        for way in ("single", "shared"):
            start = len(server.log)
            crawl(way, redis_url, proxy, tmp_path, "nato", "--wayback", server.endpoint, "--from", "2012", "--to",
                  "2012", "-s", "PORTAL_WAYBACK_FULL_SPEED=true")
            asked.append(Counter(hit.path for hit in server.log[start:]))
    finally:
        proxy.stop()
        server.stop()
    single = same_archive(proxy, tmp_path)
    assert len(single["records"]) == 6 and len(single["failures"]) == 2  # two items the archive does not have
    assert [c[3] for c in single["crawls"]] == [4]  # and the exit code says so
    assert len({row[-1] for row in single["appearances"]}) == 3  # three homepage captures read
    assert asked[1].pop("/robots.txt") - asked[0].pop("/robots.txt") in (0, 1)  # read by each worker that asks
    assert asked[1] == asked[0] and max(asked[1].values()) == 1  # the same requests, each once
    index = [path for path in asked[1] if path.startswith("/cdx/")]
    assert any("resumeKey=" in path for path in index)  # the index's next page, read by whichever worker
    assert sum("index.htm" not in path for path in index) >= 2  # the failed items' captures looked up
