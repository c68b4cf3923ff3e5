"""Web-archive mode against pywb, a real Wayback server: a 2012 homepage time series.

The test builds a small web archive of the replica: three snapshots of the homepage and the
items it links to, a week apart, items leaving the homepage between them. pywb indexes and
serves it on 127.0.0.1; the crawl asks its CDX API for the homepage's captures and reads each
capture's original bytes through `id_` replay URLs.
"""

from __future__ import annotations

import io
import re
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from portalscraper.webarchive.wayback import Capture, capture_of, cdx_query, parse_cdx
from tests.conftest import SEED_ITEMS, Replica, run_cli
from tests.proxy import RecordingProxy
from tests.webarchive import HOME, ITEM_LINK, SIDEBAR_ITEM, SIDEBAR_OTHER, SIDEBAR_PAGE, SNAPSHOTS, fetch, pywb

HOMEPAGE = "https://www.nato.int/cps/en/natohq/index.htm"
# pywb is the tests' own archive: read at full speed (a web archive on loopback is not, unless told).
OWN_ARCHIVE = ("-s", "PORTAL_WAYBACK_FULL_SPEED=true")


def test_cdx_api_lists_the_three_homepage_captures(wayback: tuple[str, dict[str, list[str]]]) -> None:
    endpoint, _ = wayback
    with urllib.request.urlopen(cdx_query(endpoint, "https://www.nato.int" + HOME, "2012", "2012"), timeout=30) as r:
        captures, _ = parse_cdx(r.read().decode())
    assert [c.timestamp for c in captures] == [t for t, _ in SNAPSHOTS]
    assert all(c.original == "http://www.nato.int" + HOME for c in captures)


@pytest.fixture(scope="module")
def series(wayback: tuple[str, dict[str, list[str]]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The web archive's three weekly homepage captures, crawled."""
    endpoint, _ = wayback
    folder = tmp_path_factory.mktemp("series")
    db = folder / "archive.sqlite"
    run_cli("crawl", "nato", "--wayback", endpoint, "--from", "20120101", "--to", "20121231", "--db", str(db),
            "--jsonl", "", "--warc", "", "--log-level", "WARNING", *OWN_ARCHIVE, cwd=folder)
    return db


def test_homepage_time_series_from_the_web_archive(wayback: tuple[str, dict[str, list[str]]], series: Path) -> None:
    endpoint, held = wayback
    with sqlite3.connect(series) as conn:
        records = conn.execute("SELECT id, url, capture_url, capture_time, title FROM records").fetchall()
        seen = conn.execute("SELECT r.url, a.capture_time FROM appearances a JOIN records r ON r.id = a.record_id "
                            "WHERE a.page_url = ?", [HOMEPAGE]).fetchall()
    # Every item once, as a record of the portal's canonical URL, made from a capture.
    assert len(records) == len({r[0] for r in records}) == 35
    assert all(url.startswith("https://www.nato.int/") and capture_url.startswith(endpoint)
               and capture_time.startswith("2012-") for _, url, capture_url, capture_time, _ in records)
    # One appearance per snapshot that carried the item, at the snapshot's capture time.
    by_item: dict[str, set[str]] = {}
    for url, capture_time in seen:
        by_item.setdefault(url.removeprefix("https://www.nato.int/cps/en/natohq/"), set()).add(capture_time)
    times = {iso(t) for t, _ in SNAPSHOTS}
    assert by_item["news_91112.htm"] == times
    assert by_item["news_90440.htm"] == times - {iso(SNAPSHOTS[2][0])}
    assert by_item["news_90387.htm"] == {iso(SNAPSHOTS[0][0])}
    assert by_item[f"{SIDEBAR_ITEM}.htm"] == times - {iso(SNAPSHOTS[0][0])}  # named by a sidebar first
    assert sum(len(v) for v in by_item.values()) == sum(len(paths) - 1 for paths in held.values()) - 1


def test_an_item_first_named_by_a_sidebar_has_its_homepage_block_entry(series: Path) -> None:
    """The first capture naming the item is an edition page's "Latest news" box (a bare headline);
    a later homepage capture lists it in its block: the record has the block's section and teaser,
    read from the item's capture nearest that homepage capture."""
    first, listed = iso(SNAPSHOTS[0][0]), iso(SNAPSHOTS[1][0])
    seed = next(i for i in SEED_ITEMS if i["title"].startswith("Latest Transatlantic Trends report"))
    with sqlite3.connect(series) as conn:
        rows = conn.execute("SELECT r.url, r.section, r.summary, json_extract(r.provenance, '$.summary'), "
                            "r.capture_time FROM records r WHERE r.url LIKE ?", [f"%/{SIDEBAR_ITEM}.htm"]).fetchall()
        sidebar = conn.execute("SELECT r.url, a.section, a.date_text, a.capture_time FROM appearances a "
                               "JOIN records r ON r.id = a.record_id WHERE a.page_url LIKE ? ORDER BY r.url",
                               [f"%{SIDEBAR_PAGE}"]).fetchall()
        other = conn.execute("SELECT section, summary FROM records WHERE url LIKE ?", [f"%/{SIDEBAR_OTHER}.htm"])
        other_row = other.fetchone()
    assert rows == [(f"https://www.nato.int/cps/en/natohq/{SIDEBAR_ITEM}.htm", "People & Activities",
                     seed["summary"], "listing", listed)]
    assert [(url.rsplit("/", 1)[1], section, date) for url, section, date, when in sidebar
            if section == "Latest news" and when == first] == [(f"{SIDEBAR_ITEM}.htm", "Latest news", None),
                                                              (f"{SIDEBAR_OTHER}.htm", "Latest news", None)]
    assert other_row[0] == "People & Activities" and len(other_row[1]) > 100  # the homepage's entry, kept


def test_replay_urls_and_memento_times() -> None:
    capture = capture_of("http://127.0.0.1:8080/nato/20121005120000id_/http://www.nato.int/cps/en/x.htm",
                         "Fri, 05 Oct 2012 12:00:07 GMT")
    assert capture == Capture("20121005120007", "http://www.nato.int/cps/en/x.htm")
    assert capture.time == "2012-10-05T12:00:07+00:00"
    ia = ('[["urlkey","timestamp","original","mimetype","statuscode","digest","length"],'
          '["gov,nato)/","20120928132524","http://www.nato.int/","text/html","200","X","1"],[],["next-key"]]')
    assert parse_cdx(ia) == ([Capture("20120928132524", "http://www.nato.int/", "200", "X")], "next-key")


# -- an archive holding captures the way public archives do -----------------------------------------
#
# Homepage: T1, a byte-identical repeat a day later (same digest), T3 a week later (one item gone), an
# archived 404 and an archived 302 after that. Items: captured an hour after T1 and again an
# hour after T3 (some under other paths: the replica varies its link forms by position); one only as a
# redirect (to the natohq form of its URL, captured beside it); one whose nearest capture is an archived
# 404, with a 200 capture 30 hours after T1; one never captured.

T1, T2, T3, T4, T5 = "20120928120000", "20120929120000", "20121005120000", "20121006120000", "20121007120000"
T1_ITEMS, T3_ITEMS, N_GOOD = "20120928130000", "20121005130000", "20120929180000"
_NEWS = re.compile(r"^/cps/en/natolive/news_\d+\.htm$")


def iso(timestamp: str) -> str:
    t = timestamp
    return f"{t[:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}+00:00"


def record(writer: WARCWriter, url: str, timestamp: str, status: int, body: bytes = b"",
           headers: list[tuple[str, str]] | None = None) -> None:
    http = StatusAndHeaders(f"{status} {'OK' if status == 200 else 'X'}",
                            [("Content-Type", "text/html; charset=utf-8"), *(headers or []),
                             ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                                  warc_headers_dict={"WARC-Date": iso(timestamp)[:19] + "Z"}))


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, object]]]:
    folder = tmp_path_factory.mktemp("messy")
    server = Replica(60)
    portal = "http://www.nato.int"
    try:
        _, _, home_a = fetch(server.url(HOME))
        links_a = list(dict.fromkeys(p.replace("&amp;", "&") for p in ITEM_LINK.findall(home_a.decode())))
        redirected = next(p for p in links_a if _NEWS.match(p))
        news = [p for p in links_a if "news_" in p and p != redirected]
        bad_nearest, never, removed = news[0], news[1], news[2]
        pages = {p: fetch(server.url(p))[2] for p in links_a if p != never}
        key = re.search(r"news_\d+", removed)
        assert key is not None
        server.change({"op": "remove", "key": key[0]})
        _, _, home_b = fetch(server.url(HOME))
        links_b = list(dict.fromkeys(p.replace("&amp;", "&") for p in ITEM_LINK.findall(home_b.decode())))
        pages.update({p: fetch(server.url(p))[2] for p in links_b  # paths that moved
                      if p not in pages and canonical(p) != canonical(never)})
    finally:
        server.stop()
    with (folder / "captures.warc.gz").open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        record(writer, portal + HOME, T1, 200, home_a)
        record(writer, portal + HOME, T2, 200, home_a)  # the same bytes again
        record(writer, portal + HOME, T3, 200, home_b)
        record(writer, portal + HOME, T4, 404, b"<h1>Not found</h1>")
        record(writer, portal + HOME, T5, 302, b"", [("Location", portal + "/cps/en/natohq/index.htm")])
        for path, body in pages.items():
            if path == redirected:
                target = path.replace("/natolive/", "/natohq/")
                record(writer, portal + path, T1_ITEMS, 302, b"", [("Location", portal + target)])
                record(writer, portal + target, T1_ITEMS, 200, body)
            elif path == bad_nearest:
                record(writer, portal + path, T1_ITEMS, 404, b"<h1>Not found</h1>")
                record(writer, portal + path, N_GOOD, 200, body)
            else:
                record(writer, portal + path, T1_ITEMS, 200, body)
                if path in links_b:
                    record(writer, portal + path, T3_ITEMS, 200, body)
    with pywb(folder) as endpoint:
        yield endpoint, {"links_a": links_a, "links_b": links_b, "redirected": redirected, "never": never,
                         "bad_nearest": bad_nearest, "removed": removed}


def crawl_archive(endpoint: str, db: Path) -> list[str]:
    """A web-archive crawl through a recording proxy; returns the requests it refused."""
    proxy = RecordingProxy([endpoint])
    try:
        run_cli("crawl", "nato", "--wayback", endpoint, "--from", "2012", "--to", "2012", "--db", str(db),
                "--jsonl", "", "--warc", "", "--log-level", "WARNING", *OWN_ARCHIVE, cwd=db.parent, env=proxy.env(),
                check=False)
        assert proxy.forwarded, "the crawl did not go through the proxy"
        return proxy.refused
    finally:
        proxy.stop()


def canonical(path: str) -> str:
    """The portal's canonical URL of a replica path (see the profile's URL rules)."""
    from portalscraper.extract.urls import canonical_url
    from portalscraper.profiles import load_profile

    return canonical_url("http://www.nato.int" + path, load_profile("nato").urls)


def test_a_web_archive_as_public_archives_hold_it(messy: tuple[str, dict[str, object]], tmp_path: Path) -> None:
    endpoint, facts = messy
    db = tmp_path / "one.sqlite"
    assert crawl_archive(endpoint, db) == []  # zero requests outside the archive
    with sqlite3.connect(db) as conn:
        homepage = conn.execute("SELECT capture_time, count(*) FROM appearances "
                                "WHERE source_url LIKE '%natolive/index.htm' GROUP BY capture_time "
                                "ORDER BY capture_time").fetchall()
        records = {url: (capture_url, capture_time) for url, capture_url, capture_time
                   in conn.execute("SELECT url, capture_url, capture_time FROM records")}
        failures = conn.execute("SELECT url, item_url, reason FROM failures").fetchall()
    # Each content capture once: the repeat (same digest), the 404 and the 302 captures are not read.
    links_a, links_b = facts["links_a"], facts["links_b"]
    assert isinstance(links_a, list) and isinstance(links_b, list)
    assert homepage == [(iso(T1), len(links_a)), (iso(T3), len(links_b))]
    # Items at their documented capture: the one nearest the first homepage capture listing them.
    for path in links_a:
        url = canonical(path)
        if path == facts["never"]:
            assert url not in records
        elif path == facts["redirected"]:
            target = path.replace("/natolive/", "/natohq/")
            assert records[url] == (f"{endpoint}/{T1_ITEMS}id_/http://www.nato.int{target}", iso(T1_ITEMS))
        elif path == facts["bad_nearest"]:
            assert records[url] == (f"{endpoint}/{N_GOOD}id_/http://www.nato.int{path}", iso(N_GOOD))
        else:
            assert records[url] == (f"{endpoint}/{T1_ITEMS}id_/http://www.nato.int{path}", iso(T1_ITEMS)), path
    # The never-captured item is a failure, with its canonical URL beside the replay URL.
    never = facts["never"]
    assert isinstance(never, str)
    assert [(u, i) for u, i, _ in failures] == [(f"{endpoint}/{T1}id_/http://www.nato.int{never}", canonical(never))]
    assert "never captured" in failures[0][2]


def test_the_same_web_archive_crawl_twice_gives_the_same_archive(messy: tuple[str, dict[str, object]],
                                                                  tmp_path: Path) -> None:
    endpoint, _ = messy
    archives = []
    for name in ("first.sqlite", "second.sqlite"):
        db = tmp_path / name
        assert crawl_archive(endpoint, db) == []
        with sqlite3.connect(db) as conn:
            archives.append((
                conn.execute("SELECT id, content_hash, capture_url, capture_time FROM records ORDER BY id").fetchall(),
                conn.execute("SELECT record_id, source_url, section, position, date_text, capture_url, capture_time "
                             "FROM appearances ORDER BY capture_time, source_url, section, position").fetchall(),
                conn.execute("SELECT url, item_url, reason FROM failures ORDER BY url").fetchall(),
            ))
    assert archives[0] == archives[1]
    assert len(archives[0][0]) > 30


def test_each_change_of_a_page_once() -> None:
    from portalscraper.webarchive.wayback import distinct_captures, nearest

    url = "http://www.nato.int/"
    page = [Capture("20120928120000", url, "200", "A"), Capture("20120929120000", url, "200", "A"),
            Capture("20121001120000", url, "302", "B"), Capture("20121002120000", url, "404", "C"),
            Capture("20121005120000", url, "200", "D")]
    kept, last = distinct_captures(page, None)
    assert [c.timestamp for c in kept] == ["20120928120000", "20121005120000"] and last == "D"
    # A repeat of the capture before, on the index's next page, is left out; a page that changes back
    # to an earlier content is read again (the Internet Archive's collapse is of adjacent rows only).
    assert distinct_captures([Capture("20121006120000", url, "200", "D")], last) == ([], "D")
    assert [c.timestamp for c in distinct_captures([Capture("20121007120000", url, "200", "A")], last)[0]] == \
        ["20121007120000"]
    assert nearest(page, "20120930120000") == page[1]  # the good capture nearest in time; errors never
    assert nearest(page[2:4], "20121001") is None
