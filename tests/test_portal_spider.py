"""The generic `portal` spider: an unknown portal crawled from a start URL, with no profile."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, SEED_ITEMS, Replica, run_cli

sys.path.insert(0, str(ROOT / "benchmarks"))
from evaluation.newsroom import ITEMS as NEWSROOM_ITEMS
from evaluation.newsroom import NewsroomServer

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


def test_portal_spider_needs_a_start_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from portalscraper.cli import main

    capsys.readouterr()
    assert main(["crawl", "portal", "--db", str(tmp_path / "a.sqlite")]) == 2
    assert capsys.readouterr().err.startswith("Error: start_url is required")
    assert main(["crawl", "portal", "--start-url", "http://127.0.0.1:9/", "--allow", "(", "--db",
                 str(tmp_path / "a.sqlite")]) == 2
    assert capsys.readouterr().err.startswith("Error: allow must be a regular expression")


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
    from portalscraper.extract.records import cut_version

    assert cut_version(listed, headline) is cut


@pytest.mark.slow
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


# -- a site learnt from its own evidence (#25): benchmarks/evaluation/newsroom.py ----------------------

COLUMNS = "url, title, date_start, date_end, summary, section, provenance, body, content_hash"


@dataclass
class Newsroom:
    base_url: str
    archives: list[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]
    hits: list[str]
    refused: list[str]
    recrawl: dict[str, Any]  # the first archive's second crawl, incremental: its crawl row
    recrawl_hits: list[str]
    recrawl_records: list[tuple[Any, ...]]
    exit_codes: list[int]

    def records(self, run: int = 0) -> dict[str, dict[str, Any]]:
        names = [c.strip() for c in COLUMNS.split(",")]
        return {row[0].removeprefix(self.base_url): dict(zip(names, row, strict=True)) for row in self.archives[run][0]}


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Newsroom]:
    """The newsroom crawled twice with no profile into two archives, through a recording proxy; then
    the first archive crawled again, the site unchanged."""
    from tests.proxy import RecordingProxy

    folder = tmp_path_factory.mktemp("newsroom")
    server = NewsroomServer()
    proxy = RecordingProxy([server.base_url])
    archives, codes = [], []
    try:
        for run in (1, 2):
            db = folder / f"site-{run}.sqlite"
            codes.append(run_cli("crawl", "portal", "--start-url", server.base_url + "/", "--db", str(db), "--jsonl",
                                 "", "--warc", "", "--log-level", "ERROR", cwd=folder, env=proxy.env(),
                                 check=False).returncode)
            with sqlite3.connect(db) as conn:
                archives.append((conn.execute(f"SELECT {COLUMNS} FROM records ORDER BY url").fetchall(),
                                 conn.execute("SELECT url, reason FROM failures").fetchall(),
                                 conn.execute("SELECT url, reason FROM rejects").fetchall()))
        hits = list(server.hits)
        server.hits.clear()
        db = folder / "site-1.sqlite"
        codes.append(run_cli("crawl", "portal", "--start-url", server.base_url + "/", "--db", str(db), "--jsonl", "",
                             "--warc", "", "--log-level", "ERROR", cwd=folder, env=proxy.env(), check=False).returncode)
        with sqlite3.connect(db) as conn:
            again = conn.execute(f"SELECT {COLUMNS} FROM records ORDER BY url").fetchall()
            conn.row_factory = sqlite3.Row
            recrawl = dict(conn.execute("SELECT * FROM crawls ORDER BY id DESC LIMIT 1").fetchone())
        yield Newsroom(server.base_url, archives, hits, list(proxy.refused), recrawl, list(server.hits), again, codes)
    finally:
        proxy.stop()
        server.stop()


def test_the_newsroom_every_item_right_and_nothing_else_twice(newsroom: Newsroom) -> None:
    """Every item with its title, dates, teaser and section; no other record; the same archive twice."""
    assert newsroom.refused == [] and newsroom.exit_codes == [0, 0, 0]
    assert newsroom.archives[0] == newsroom.archives[1]
    _, failures, rejects = newsroom.archives[0]
    assert failures == [] and rejects == []
    found = {path: (r["title"], r["date_start"], r["date_end"], r["summary"], r["section"])
             for path, r in newsroom.records().items()}
    assert found == {i.path: (i.title, i.date_start, i.date_end, i.summary, i.section) for i in NEWSROOM_ITEMS}


def test_an_article_is_never_read_as_a_listing(newsroom: Newsroom) -> None:
    """Category 1: the "Topics:" link in an article's text and its "More news" sidebar make no entry:
    no programme or topic page is a record, and every article keeps its own body."""
    records = newsroom.records()
    assert not [path for path in records if path.startswith(("/programmes/", "/topic/"))]
    for item in NEWSROOM_ITEMS:
        if item.kind == "article":
            assert records[item.path]["body"].startswith(f"By {item.author}") or \
                item.teaser in records[item.path]["body"], item.path


def test_ids_that_look_like_years_are_items(newsroom: Newsroom) -> None:
    """Category 2: /article/1900 ... /article/2099 are the site's items, as its listings show."""
    records = newsroom.records()
    years = [i.path for i in NEWSROOM_ITEMS if i.kind == "article" and 1900 <= i.number <= 2099]
    assert len(years) == 50 and all(path in records for path in years)
    assert "/archive/2013" not in records and "/archive/2012" not in records


def test_teasers_without_bylines_pagers_or_venues(newsroom: Newsroom) -> None:
    """Category 3: "Alice Johnson wrote" is never part of a teaser (short ones included), nor is a
    pager's "Next →" (the only card of Sport's last page), nor a venue line."""
    records = newsroom.records()
    found = [item for item in NEWSROOM_ITEMS if item.path in records]
    assert len(found) >= 10
    for item in found:
        summary = records[item.path]["summary"]
        assert summary == item.summary and "wrote" not in summary and "Next" not in summary, item.path
    assert records["/events/tidal-energy-forum"]["summary"] != "Bergen, Norway"


def test_sections_are_the_sites_navigation_names(newsroom: Newsroom) -> None:
    """Category 5: an article is filed under "Business", not "12 articles in the Business category"."""
    sections = {path: r["section"] for path, r in newsroom.records().items()}
    expected = {i.path: i.section for i in NEWSROOM_ITEMS if i.path in sections}
    assert len(expected) >= 10 and {path: sections[path] for path in expected} == expected
    assert set(sections.values()) == {"Business", "Science", "World", "Culture", "Sport", "Events", ""}


def test_feeds_and_sitemaps_are_read_one_record_per_item(newsroom: Newsroom) -> None:
    """Category 6: robots.txt's sitemap index, its sitemaps and the feed the pages announce are read;
    the article only the feed names and those only the sitemap names are archived, each once, with
    each field's provenance."""
    assert {"/robots.txt", "/sitemap_index.xml", "/sitemap-articles.xml", "/sitemap-pages.xml",
            "/feed.xml"} <= set(newsroom.hits)
    records = newsroom.records()
    feed_only = next(i for i in NEWSROOM_ITEMS if i.listed == "feed")
    record = records[feed_only.path]
    assert json.loads(record["provenance"])["title"] == "feed" and json.loads(record["provenance"])["summary"] == "feed"
    assert (record["title"], record["summary"], record["section"]) == (feed_only.title, feed_only.summary,
                                                                      feed_only.category)
    sitemap_only = [i for i in NEWSROOM_ITEMS if i.listed == "sitemap"]
    assert len(sitemap_only) == 3
    for item in sitemap_only:
        assert records[item.path]["title"] == item.title and records[item.path]["date_start"] == item.date_start
    # One record for an item that a listing, the feed and the sitemap all name: its texts from the listing.
    listed = next(i for i in NEWSROOM_ITEMS if i.listed == "category" and i.number == 2122)
    assert json.loads(records[listed.path]["provenance"])["summary"] == "listing"
    assert len(records) == len(NEWSROOM_ITEMS)


def test_a_recrawl_of_the_unchanged_site_asks_for_no_item_page(newsroom: Newsroom) -> None:
    """The sitemap's lastmod and the feed's dates say nothing moved: no item page is asked for, not even
    conditionally, and the archive is the same."""
    crawl = newsroom.recrawl
    assert (crawl["mode"], crawl["item_pages_fetched"], crawl["item_pages_not_modified"]) == ("incremental", 0, 0)
    assert (crawl["records"], crawl["records_unchanged"], crawl["exit_code"]) == (64, 64, 0)  # seen, as archived
    assert newsroom.recrawl_records == newsroom.archives[0][0]  # nothing changed, nothing lost
    assert not [hit for hit in newsroom.recrawl_hits if hit.startswith(("/article/", "/events/") )
                and hit != "/events/"]
    assert "/sitemap-articles.xml" in newsroom.recrawl_hits
