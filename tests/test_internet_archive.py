"""Web-archive crawls against an archive that answers as the Internet Archive documents
web.archive.org answering (tests/iaserver.py): CDX answers capped with resume keys (or without),
adjacent-only collapse, `id_` replays redirected to the nearest capture's own time, 429s with and
without Retry-After. Every capture is read, no item is misreported, and refused requests come
back spread out, as the server's own request log shows.

The archive holds the replica's homepage (its Features and People & Activities blocks: 8 items)
the way public archives hold pages: a capture, a byte-identical repeat a day later, another
content a week later (one item gone), an archived 404, the first content again, an archived
redirect. Items: most captured an hour after the homepage; one only as a redirect to its other
address (captured beside it); one whose nearest capture is an archived 404, with a 200 capture
later; one captured only as a 404; one never captured.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy.settings import Settings

from portalscraper.crawl.politeness import politeness
from portalscraper.extract.urls import canonical_url
from portalscraper.middlewares.retry import HostBackoff
from portalscraper.profiles import load_profile
from portalscraper.webarchive.wayback import CdxReading, WaybackError, parse_cdx, worth_a_lookup
from tests.conftest import Replica, run_cli
from tests.iaserver import ArchiveServer, Captured, Hit, arrivals
from tests.proxy import RecordingProxy
from tests.webarchive import HOME, ITEM_LINK, fetch

PORTAL = "http://www.nato.int"
T1, T2, T3, T4, T5, T6 = ("20120928120000", "20120929120000", "20121005120000", "20121006120000", "20121007120000",
                          "20121008120000")
ITEMS_T1, ITEMS_T3, N_GOOD = "20120928130000", "20121005130000", "20120929180000"
NEVER_REASON, NO_200_REASON = "never captured by the archive", "no capture of it answered 200 in the archive"
_NEWS = re.compile(r"^/cps/en/natolive/news_\d+\.htm$")


@dataclass(frozen=True)
class Collection:
    captures: list[Captured]
    links_a: list[str]  # the items of the first homepage content
    links_b: list[str]  # of the second
    redirected: str  # captured only as a redirect to its natohq address
    bad_nearest: str  # nearest capture an archived 404, a 200 capture later
    only_404: str  # captured only as a 404
    never: str  # never captured
    removed: str  # gone from the second content


def trimmed(home: bytes) -> bytes:
    """The homepage without its NATO Review block: 8 items, a small crawl."""
    text = home.decode("utf-8")
    start, end = text.index('<div class="block" id="nato-review">'), text.index('\n<div id="footer">')
    return (text[:start] + text[end:]).encode("utf-8")


def links(home: bytes) -> list[str]:
    return list(dict.fromkeys(p.replace("&amp;", "&") for p in ITEM_LINK.findall(home.decode("utf-8"))))


@pytest.fixture(scope="module")
def collection() -> Collection:
    return build_collection()


def build_collection() -> Collection:
    """The archive's captures, made from a replica's pages."""
    server = Replica(60)
    try:
        home_a = trimmed(fetch(server.url(HOME))[2])
        links_a = links(home_a)
        redirected = next(p for p in links_a if _NEWS.match(p))
        bad_nearest, only_404, never, removed = [p for p in links_a if "news_" in p and p != redirected]
        pages = {p: fetch(server.url(p))[2] for p in links_a if p != never}
        key = re.search(r"news_\d+", removed)
        assert key is not None
        server.change({"op": "remove", "key": key[0]})
        home_b = trimmed(fetch(server.url(HOME))[2])
        links_b = links(home_b)
        pages.update({p: fetch(server.url(p))[2] for p in links_b if p not in pages and canonical(p) not in
                      {canonical(never), canonical(only_404)}})  # paths that moved with their positions
    finally:
        server.stop()
    not_found = b"<h1>Not found</h1>"
    captures = [Captured(PORTAL + HOME, T1, 200, home_a), Captured(PORTAL + HOME, T2, 200, home_a),
                Captured(PORTAL + HOME, T3, 200, home_b), Captured(PORTAL + HOME, T4, 404, not_found),
                Captured(PORTAL + HOME, T5, 200, home_a),
                Captured(PORTAL + HOME, T6, 302, b"", (("Location", PORTAL + "/cps/en/natohq/index.htm"),))]
    for path, body in pages.items():
        if path == redirected:
            target = path.replace("/natolive/", "/natohq/")
            captures += [Captured(PORTAL + path, ITEMS_T1, 302, b"", (("Location", PORTAL + target),)),
                         Captured(PORTAL + target, ITEMS_T1, 200, body)]
        elif path == bad_nearest:
            captures += [Captured(PORTAL + path, ITEMS_T1, 404, not_found), Captured(PORTAL + path, N_GOOD, 200, body)]
        elif path == only_404:
            captures.append(Captured(PORTAL + path, ITEMS_T1, 404, not_found))
        else:
            captures.append(Captured(PORTAL + path, ITEMS_T1, 200, body))
            if path in links_b:
                captures.append(Captured(PORTAL + path, ITEMS_T3, 200, body))
    return Collection(captures, links_a, links_b, redirected, bad_nearest, only_404, never, removed)


def canonical(path: str) -> str:
    return canonical_url(PORTAL + path, load_profile("nato").urls)


@contextmanager
def serving(collection: Collection, **options: Any) -> Iterator[ArchiveServer]:
    """The archive on a free port of 127.0.0.1 (options: see ArchiveServer)."""
    server = ArchiveServer(collection.captures, **options)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Crawl:
    db: Path
    log: str  # the crawl's stderr
    refused: list[str]  # requests the proxy refused: outside the archive


def crawl(server: ArchiveServer, db: Path, *settings: str, full_speed: bool = True) -> Crawl:
    """A web-archive crawl of the archive through a recording proxy, at INFO level."""
    proxy = RecordingProxy([server.endpoint])
    try:
        result = run_cli("crawl", "nato", "--wayback", server.endpoint, "--from", "2012", "--to", "2012",
                         "--db", str(db), "--jsonl", "", "--warc", "", "--log-level", "INFO",
                         *(("-s", "PORTAL_WAYBACK_FULL_SPEED=true") if full_speed else ()), *settings,
                         cwd=db.parent, env=proxy.env(), check=False)
        assert proxy.forwarded, "the crawl did not go through the proxy"
        assert result.returncode in (0, 4), result.stderr[-3000:]  # 4: the two items not to be had
        return Crawl(db, result.stderr, proxy.refused)
    finally:
        proxy.stop()


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def iso(timestamp: str) -> str:
    t = timestamp
    return f"{t[:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}+00:00"


def check_archive(result: Crawl, collection: Collection, endpoint: str) -> None:
    """Every homepage capture read, every item as the archive holds it: zero items misreported."""
    assert result.refused == []  # nothing asked outside the archive
    db = result.db
    homepage = rows(db, "SELECT capture_time, count(*) FROM appearances WHERE page_url = ? GROUP BY capture_time "
                        "ORDER BY capture_time", "https://www.nato.int/cps/en/natohq/index.htm")
    # The repeat (same digest as the capture before), the 404 and the 302 are not read; the page that
    # changed back to its first content is.
    a, b = len(collection.links_a), len(collection.links_b)
    assert homepage == [(iso(T1), a), (iso(T3), b), (iso(T5), a)]
    records = dict(rows(db, "SELECT url, capture_time FROM records"))
    expected = {canonical(p): iso(ITEMS_T1) for p in collection.links_a}
    expected[canonical(collection.bad_nearest)] = iso(N_GOOD)
    del expected[canonical(collection.never)], expected[canonical(collection.only_404)]
    assert records == expected
    failures = dict(rows(db, "SELECT item_url, reason FROM failures WHERE crawl_id = (SELECT max(id) FROM crawls)"))
    assert failures == {canonical(collection.never): f"HTTP 404 Not Found; {NEVER_REASON}",
                        canonical(collection.only_404): f"HTTP 404 Not Found; {NO_200_REASON}"}


def lookups(server: ArchiveServer) -> set[str]:
    """The items whose captures the crawl looked up in the archive's index."""
    found = set()
    for hit in server.hits("cdx"):
        url = parse_qs(urlsplit(hit.path).query)["url"][0]
        if not url.endswith(HOME):
            found.add(url.removeprefix(PORTAL))
    return found


def test_every_capture_read_through_resume_keys(collection: Collection, tmp_path: Path) -> None:
    with serving(collection, row_cap=2) as archive:
        result = crawl(archive, tmp_path / "archive.sqlite")
    check_archive(result, collection, archive.endpoint)
    homepage_pages = [h.path for h in archive.hits("cdx") if HOME.replace("/", "%2F") in h.path]
    assert len(homepage_pages) == 2 and "resumeKey=" in homepage_pages[1]
    assert "the archive cut its answer at 2 captures, short of the 5000 asked for: reading on from its resume key" \
        in result.log
    # The archive was asked for an item's captures only where its replay said it has none there.
    assert lookups(archive) == {collection.bad_nearest, collection.only_404, collection.never}


def test_every_capture_read_by_time_where_the_archive_gives_no_resume_key(collection: Collection,
                                                                          tmp_path: Path) -> None:
    with serving(collection, row_cap=2, resume_keys=False) as archive:
        result = crawl(archive, tmp_path / "archive.sqlite")
    check_archive(result, collection, archive.endpoint)
    assert "WARNING: Index of the archive" in result.log
    assert f"the archive's answer stopped at 2 captures without a resume key, short of the 5000 asked for: 1 more " \
           f"found by asking from {T5} on" in result.log


def retries(hits: list[Hit]) -> list[Hit]:
    """The requests that asked again for something refused (429) before."""
    return [later for same in arrivals(hits).values() for n, later in enumerate(same)
            if any(h.status == 429 for h in same[:n])]


@pytest.mark.parametrize("retry_after", [1, None], ids=["Retry-After", "no Retry-After"])
def test_refused_requests_come_back_spread_out(collection: Collection, retry_after: int | None,
                                              tmp_path: Path) -> None:
    with serving(collection, row_cap=2, limits={"web": (4, 0.5), "cdx": (2, 0.5)},
                 retry_after=retry_after) as server:
        result = crawl(server, tmp_path / "archive.sqlite")
    check_archive(result, collection, server.endpoint)
    hits = server.hits("web") + server.hits("cdx")
    refused = [h for h in hits if h.status == 429]
    again = sorted(retries(hits), key=lambda h: h.at)
    assert refused and again, "the archive refused nothing: the test does not bite"
    # Retries do not come back together (they all did, within a few milliseconds): from the server's
    # own log, at most one pair within 50 ms (the proxy's and a busy machine's own jitter), and
    # hardly one refused again.
    close = [(round(a.at, 3), round(b.at, 3)) for a, b in itertools.pairwise(again) if b.at - a.at < 0.05]
    assert len(close) <= 1, close
    assert sum(h.status == 429 for h in again) <= 2, [(round(h.at, 2), h.path[-40:], h.status) for h in again]
    if retry_after is not None:  # and never sooner than the archive asked
        for same in arrivals(hits).values():
            for first, then in itertools.pairwise(same):
                assert first.status != 429 or then.at - first.at >= 0.95
    # A refusal is not "none there": no item was looked up for a 429.
    assert lookups(server) == {collection.bad_nearest, collection.only_404, collection.never}


def test_an_item_refused_to_the_end_is_a_transient_failure(collection: Collection, tmp_path: Path) -> None:
    """An item whose replays the archive refuses (429, no Retry-After) until its retries run out is
    recorded as refused, and fetched by the next run: it was captured (as a redirect to its other
    address), and a refusal says nothing of the archive's captures. Nor does an index answer that
    is no answer (an error page): the item never captured is not said to be, until the index says so."""
    db = tmp_path / "archive.sqlite"
    with serving(collection, retry_after=None, refuse={collection.redirected},
                 unreadable={collection.never}) as server:
        crawl(server, db, "-s", "RETRY_TIMES=1", "-s", "BACKOFF_BASE=0.05")
        assert collection.redirected not in lookups(server)
    failed = dict(rows(db, "SELECT item_url, reason FROM failures"))
    assert failed[canonical(collection.redirected)] == "HTTP 429 Too Many Requests"
    assert failed[canonical(collection.never)].startswith(
        "HTTP 404 Not Found; the archive's index of its captures could not be read (not a CDX answer")
    with serving(collection) as server:
        crawl(server, db)
    assert rows(db, "SELECT resolved_crawl_id FROM failures WHERE item_url = ? AND crawl_id = 1",
                canonical(collection.redirected)) == [(2,)]
    assert rows(db, "SELECT count(*) FROM records WHERE url = ?", canonical(collection.redirected)) == [(1,)]
    assert rows(db, "SELECT reason FROM failures WHERE item_url = ? AND crawl_id = 2",
                canonical(collection.never)) == [(f"HTTP 404 Not Found; {NEVER_REASON}",)]


def test_a_web_archive_on_loopback_is_asked_one_request_at_a_time(collection: Collection, tmp_path: Path) -> None:
    """127.0.0.1 may be a tunnel or proxy to a public archive: it is asked one request at a time (and
    PORTAL_WAYBACK_DELAY apart: test_a_web_archive_is_read_politely_wherever_it_is), unless
    PORTAL_WAYBACK_FULL_SPEED says the archive is one's own. (-s DOWNLOAD_DELAY=0: a quick test.)"""
    with serving(collection, latency=0.05) as archive:
        result = crawl(archive, tmp_path / "archive.sqlite", "-s", "DOWNLOAD_DELAY=0", full_speed=False)
    check_archive(result, collection, archive.endpoint)
    spans = sorted((h.at, h.done) for h in archive.log)
    assert len(spans) > 10 and all(done <= then for (_, done), (then, _) in itertools.pairwise(spans))


# -- the pure parts -------------------------------------------------------------------------------

IA_HEADER = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]


def ia_answer(timestamps: list[str], key: str | None = None) -> str:
    rows: list[list[str]] = [IA_HEADER, *(["int,nato)/", t, "http://www.nato.int/", "text/html", "200", t, "1"]
                                          for t in timestamps)]
    return json.dumps(rows + ([[], [key]] if key else []) if timestamps else [])


def test_a_cdx_query_is_read_to_its_end() -> None:
    query = "http://archive.test/cdx/search/cdx?url=www.nato.int&output=json&limit=5000&from=2012&to=2012"
    # Resume keys, where the archive gives them; an answer without one is the last.
    reading = CdxReading(query)
    captures, more, note = reading.read(ia_answer(["20120101000000", "20120201000000"], "int%2Cnato%29%2F+2012!"))
    assert [c.timestamp for c in captures] == ["20120101000000", "20120201000000"]
    assert more == f"{query}&resumeKey=int%2Cnato%29%2F+2012%21"  # as the archive wrote it, made safe
    assert note is not None and note[0] == logging.INFO and "cut its answer at 2 captures" in note[1]
    assert reading.read(ia_answer(["20120301000000"]))[1:] == (None, None)
    # No resume key: the next page by time, from the last capture's second on, until nothing is new.
    reading = CdxReading(query)
    _, more, note = reading.read(ia_answer(["20120101000000", "20120201000000"]))
    assert more is not None and parse_qs(urlsplit(more).query)["from"] == ["20120201000000"] and note is None
    captures, more, note = reading.read(ia_answer(["20120201000000", "20120301000000"]))
    assert [c.timestamp for c in captures] == ["20120301000000"]  # the capture read before is left out
    assert note is not None and note[0] == logging.WARNING and "stopped at 2 captures without a resume key" in note[1]
    assert more is not None and parse_qs(urlsplit(more).query)["from"] == ["20120301000000"]
    assert reading.read(ia_answer(["20120301000000"])) == ([], None, None)
    # An archive known to give keys (an earlier answer had one) ends where it gives none.
    assert CdxReading(query, keys=True).read(ia_answer(["20120101000000"]))[1] is None
    # The same key twice would never end.
    reading = CdxReading(query)
    reading.read(ia_answer(["20120101000000"], "k"))
    _, more, note = reading.read(ia_answer(["20120201000000"], "k"))
    assert more is None and note is not None and "same resume key twice" in note[1]


@pytest.mark.parametrize(("status", "archived", "lookup"), [
    (404, False, True),  # the archive has none there
    (404, True, True),  # the nearest capture is an archived 404
    (500, True, True),  # an archived 5xx
    (429, False, False),  # the archive refuses: transient
    (503, False, False),
    (502, False, False),
])
def test_a_capture_is_looked_up_only_where_the_archive_has_none(status: int, archived: bool, lookup: bool) -> None:
    assert worth_a_lookup(status, archived) is lookup


def test_a_web_archive_is_read_politely_wherever_it_is() -> None:
    settings = Settings()
    settings.setmodule("portalscraper.settings")
    replica, archive = "http://127.0.0.1:8080", "http://127.0.0.1:8081/web"
    assert politeness(settings, replica, False) == {}  # polite until it answers as the replica
    assert politeness(settings, archive, True) == {"DOWNLOAD_DELAY": 3.0, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}
    settings.set("PORTAL_WAYBACK_FULL_SPEED", True)
    assert politeness(settings, archive, True)["DOWNLOAD_DELAY"] == 0  # an archive of one's own, when told


def test_a_host_backoff_spreads_requests_and_ends() -> None:
    backoff = HostBackoff(start=0.5, cap=30)
    backoff.refused(now=10.0, wait=1.0, sent=9.9)  # Retry-After: 1
    assert backoff.turn(10.0, 1.0) == pytest.approx(1.0)  # nothing before the archive's time
    assert backoff.turn(11.0, 1.0) == 0  # then one
    assert backoff.turn(11.0, 1.0) == pytest.approx(0.5)  # and the next a gap later
    backoff.refused(now=11.1, wait=1.0, sent=9.95)  # sent before the gap was set: the same burst
    assert backoff.gap == 0.5
    backoff.refused(now=11.2, wait=1.0, sent=11.0)  # sent spread out, refused still: a wider gap
    assert backoff.gap == 1.0
    while not backoff.answered(now=13.0):
        pass
    assert backoff.gap < 0.125


@pytest.mark.parametrize("text", ["<html><h1>Temporarily offline</h1></html>", '[["timestamp","original"],["x"]]',
                                  '[["timestamp","original"],["not-a-time","http://www.nato.int/"]]', '{"url": 1}'])
def test_an_answer_that_is_no_cdx_answer_says_so(text: str) -> None:
    with pytest.raises(WaybackError, match="not a CDX answer"):
        parse_cdx(text)
