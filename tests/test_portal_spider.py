"""The generic `portal` spider: an unknown portal crawled from a start URL, with no profile."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEED_ITEMS, Replica, run_cli

HOME = "/cps/en/natolive/index.htm"


def iso(day: str) -> str:
    import datetime as dt

    return dt.datetime.strptime(day.replace(".", ""), "%d %b %Y").date().isoformat()


def test_scrapy_crawl_portal_yields_the_32_dated_homepage_items(replica: Replica, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "portal", "-a", f"start_url={replica.url(HOME)}",
         "-a", "max_pages=1", "-O", str(tmp_path / "out.jsonl"), "-s", f"ARCHIVE_SQLITE_PATH={tmp_path / 'a.sqlite'}",
         "-s", "ARCHIVE_JSONL_PATH=", "-s", f"WARC_DIR={tmp_path / 'warc'}", "-s", "LOG_LEVEL=WARNING"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    records = {r["title"]: r for r in map(json.loads, (tmp_path / "out.jsonl").read_text("utf-8").splitlines())}
    for seed in SEED_ITEMS:
        record = records[seed["title"]]
        first, _, last = seed["date_text"].partition(" - ")
        assert (record["date_start"], record["date_end"]) == (iso(first), iso(last) if last else None), seed["title"]
        assert record["summary"] == " ".join(seed["summary"].split())
        assert record["url"].startswith(replica.base_url + "/") and record["portal"] == "127.0.0.1"
        assert record["body"]  # the item page was fetched and extracted
    assert len(records) <= 32 + 3  # and the three undated features: one page visited, its items only


def test_portal_spider_walks_the_site_within_its_domain(replica: Replica, tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite"
    run_cli("crawl", "portal", "--start-url", replica.url(HOME), "--allow", r"/cps/en/", "--db", str(db),
            "--jsonl", "", "--log-level", "WARNING", cwd=tmp_path)
    with sqlite3.connect(db) as conn:
        urls = [u for (u,) in conn.execute("SELECT url FROM records")]
        news = conn.execute("SELECT count(*) FROM records WHERE section = 'News'").fetchone()[0]
        undated = conn.execute("SELECT count(*) FROM records WHERE kind = 'page' AND section = 'News' "
                               "AND date_start IS NULL").fetchone()[0]
    # The archive's pagination was followed to its end: every news item, each dated. (Without a
    # profile, an item linked under two URL forms, as the homepage does, is two records.)
    assert 295 <= news <= 300 and undated == 0
    assert all(u.startswith(replica.base_url + "/cps/en/") for u in urls)  # allow= kept the French side out


def test_portal_spider_needs_a_start_url(tmp_path: Path) -> None:
    result = run_cli("crawl", "portal", "--db", str(tmp_path / "a.sqlite"), cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("Error: start_url is required")
    result = run_cli("crawl", "portal", "--start-url", "http://127.0.0.1:9/", "--allow", "(", "--db",
                     str(tmp_path / "a.sqlite"), cwd=tmp_path, check=False)
    assert result.returncode == 2 and result.stderr.startswith("Error: allow must be a regular expression")


@pytest.mark.parametrize(
    ("listed", "headline", "cut"),
    [
        ("Record number of applications for…", "Record number of applications for the 2013 fellowships", True),
        ("Record number of applications for ...", "Record number of applications for the 2013 fellowships", True),
        ("Record number of applications for", "Record number of applications for the 2013 fellowships", True),
        ("Allies meet", "Allies meet in Brussels", False),  # short: a listing's own wording
        ("Allies meet in Brussels", "Allies meet in Brussels", False),
        ("Allies meet in Brussels…", "Partners train in Norway", False),
        ("Allies meet in Brussels…", None, False),
    ],
)
def test_a_cut_listing_title_yields_to_the_headline(listed: str, headline: str | None, cut: bool) -> None:
    from portalscraper.records import cut_version

    assert cut_version(listed, headline) is cut


def test_a_press_portal_unlike_the_replica_every_item_and_nothing_else(tmp_path: Path) -> None:
    """benchmarks/evaluation/site.py: WordPress-like and Drupal-like listings, /page/N/ and ?page=N
    pagers, year archives with counts, a carousel under a hidden heading with utm_ links, cut
    titles, datelines, ranges across months, a venue line above teasers, a 404, navigation of all
    kinds; crawled with no profile, through a recording proxy, twice."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from evaluation.site import SITE_ITEMS, SiteServer

    from tests.proxy import RecordingProxy

    server = SiteServer()
    proxy = RecordingProxy([server.base_url])
    archives = []
    try:
        for run in (1, 2):
            db = tmp_path / f"site-{run}.sqlite"
            run_cli("crawl", "portal", "--start-url", server.base_url + "/", "--db", str(db), "--jsonl", "",
                    "--warc", "", "--log-level", "ERROR", cwd=tmp_path, env=proxy.env())
            with sqlite3.connect(db) as conn:
                archives.append((
                    conn.execute("SELECT url, title, date_start, date_end, summary, updated_at, content_hash, section "
                                 "FROM records ORDER BY url").fetchall(),
                    conn.execute("SELECT url, reason FROM failures").fetchall(),
                    conn.execute("SELECT url, reason FROM rejects").fetchall()))
    finally:
        proxy.stop()
        server.stop()
    assert proxy.refused == []
    assert archives[0] == archives[1]  # the same archive, whatever order responses arrived in
    records, failures, rejects = archives[0]
    found = {row[0].removeprefix(server.base_url): tuple(row[1:6]) for row in records}
    expected = {
        i.path: (i.title, i.date_start, i.date_end, i.summary,
                 f"{i.date_start}T{i.updated.rsplit(' ', 1)[1]}" if i.updated else None)
        for i in SITE_ITEMS if not i.missing}
    assert found == expected  # every item, each field right, no duplicate, no navigation record
    assert failures == [(server.base_url + "/news/withdrawn-statement", "HTTP 404 Not Found")]
    assert rejects == []
    # The calendar, linked like an item, is an item and a listing: its own event was found through it.
    assert "/events/data-standards-workshop" in found and "/events/calendar/all" in found
