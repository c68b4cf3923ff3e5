"""`portalscraper serve`: the archive in a real Datasette on 127.0.0.1, with the project's metadata
and canned queries, read through Datasette's JSON API; its Atom feeds read with a real feed parser
after crawls of a replica that changed between them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser
import pytest

from portalscraper.serve import atom
from tests.conftest import Replica, run_cli, serve


@pytest.fixture(scope="module")
def served(replica: Replica, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("serve")
    db = folder / "archive.sqlite"
    run_cli("crawl", "nato", "--base-url", replica.base_url, "--db", str(db), "--jsonl", "", "-q", cwd=folder)
    with serve(db) as base:
        yield f"{base}/archive", db


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def test_records_newest_first_with_described_columns_and_internals_hidden(served: tuple[str, Path]) -> None:
    base, db = served
    shown = get(f"{base}/records.json?_shape=array&_size=5&_col=date_start")
    assert [r["date_start"] for r in shown] == [d for (d,) in rows(
        db, "SELECT date_start FROM records ORDER BY date_start DESC LIMIT 5")]
    tables = {t["name"]: t for t in get(f"{base}.json")["tables"]}
    assert tables["fts_pending"]["hidden"] and tables["records_fts"]["hidden"] and not tables["records"]["hidden"]
    meta = get(base.rsplit("/", 1)[0] + "/-/metadata.json")["databases"]["archive"]["tables"]["records"]
    assert meta["columns"]["date_start"].startswith("ISO 8601 date")


def test_ranked_search_and_a_records_history(served: tuple[str, Path]) -> None:
    base, db = served
    found = get(f"{base}/search.json?q=cyber&_shape=array")
    assert found and all("[cyber]" in r["snippet"].lower() or "cyber" in r["title"].lower() for r in found)
    ranked = [rid for (rid,) in rows(db, "SELECT r.id FROM records_fts JOIN records r ON r.rowid = records_fts.rowid "
                                         "WHERE records_fts MATCH 'cyber' ORDER BY rank")]
    assert [r["id"] for r in found] == ranked[:20]  # best matches first, not by id; 20 a page
    more = get(f"{base}/search.json?q=cyber&page=2&_shape=array")
    assert len(ranked) > 20 and [r["id"] for r in more] == ranked[20:40]
    rid = found[0]["id"]
    history = get(f"{base}/record_history.json?id={rid}&_shape=array")
    assert history[0]["version"] == "current" and history[0]["title"] == found[0]["title"]


def test_the_tables_search_box_and_a_records_links(served: tuple[str, Path]) -> None:
    base, db = served
    found = get(f"{base}/records.json?_search=cyber&_shape=array&_size=max&_col=id")
    expected = rows(db, "SELECT r.id FROM records_fts JOIN records r ON r.rowid = records_fts.rowid "
                        "WHERE records_fts MATCH 'cyber'")
    assert expected and sorted(r["id"] for r in found) == sorted(rid for (rid,) in expected)
    rid = expected[0][0]
    links = {t["other_table"]: t for t in get(f"{base}/records/{rid}.json?_extras=foreign_key_tables")
             ["foreign_key_tables"]}
    assert set(links) == {"appearances", "record_versions", "failures", "rejects"}
    assert links["appearances"]["count"] == rows(db, "SELECT count(*) FROM appearances WHERE record_id = ?", rid)[0][0]


def test_canned_queries_for_the_recipes(served: tuple[str, Path]) -> None:
    base, db = served
    months = get(f"{base}/items_per_month.json?_shape=array&_size=max")
    dated = rows(db, "SELECT count(*) FROM records WHERE length(date_start) >= 7")[0][0]
    assert sum(m["items"] for m in months) == dated
    assert [m["month"] for m in months] == sorted(m["month"] for m in months)
    blocks = get(f"{base}/homepage_blocks.json?crawl_id=1&_shape=array&_size=max")
    assert {b["section"] for b in blocks} == {"Features", "People & Activities", "NATO Review"}  # the homepage's
    changes = get(f"{base}/crawl_changes.json?crawl_id=1&_shape=array&_size=max")
    assert {c["change"] for c in changes} == {"new"} and len(changes) == rows(db, "SELECT count(*) FROM records")[0][0]


def test_serve_without_an_archive_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from portalscraper.cli import main

    capsys.readouterr()
    assert main(["serve", "--db", str(tmp_path / "missing.sqlite")]) == 2
    assert capsys.readouterr().err == f"Error: no archive at {tmp_path / 'missing.sqlite'}; run 'portalscraper crawl " \
                                      "nato' first or give --db\n"


def test_a_stopped_serve_leaves_nothing_running(served: tuple[str, Path], tmp_path: Path) -> None:
    _, db = served
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "portalscraper.cli", "serve", "--db", str(db), "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=5).close()
            break
        except (urllib.error.URLError, ConnectionError):
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)  # bounded by the deadline
    assert list(tmp_path.iterdir())  # the metadata's folder
    proc.send_signal(signal.SIGTERM)  # a systemd stop
    assert proc.wait(timeout=30) == 0
    with socket.socket() as again, contextlib.suppress(OSError):
        again.settimeout(2)
        assert again.connect_ex(("127.0.0.1", port)) != 0  # no Datasette left listening
    assert list(tmp_path.iterdir()) == []


def test_the_records_page_puts_its_column_descriptions_one_click_away(served: tuple[str, Path]) -> None:
    base, _ = served
    with urllib.request.urlopen(f"{base}/records", timeout=30) as response:
        page = response.read().decode()
    assert '<details class="columns"><summary>What each column holds</summary>' in page
    assert "<dt>date_start</dt><dd>ISO 8601 date" in page
    assert '<link rel="stylesheet" href="/-/portalscraper.css">' in page
    with urllib.request.urlopen(base.rsplit("/", 1)[0] + "/-/portalscraper.css", timeout=30) as response:
        assert "dl.column-descriptions { display: none; }" in response.read().decode()
    assert 'th.title = th.dataset.columnDescription' in page


# -- feeds ------------------------------------------------------------------------------------------

WORD = "cyber"
EDITS = {  # replica key -> the fields its edit changes, as the changed feed names them
    "news_91112": {"summary"},
    "news_91045": {"title", "date_text"},
    "news_100030": {"body"},
}
CHANGES = [
    {"op": "edit", "key": "news_91112", "summary": "A corrected summary: the clearing house met again."},
    {"op": "edit", "key": "news_91045", "title": "Transatlantic Trends 2012: strong support for NATO",
     "date_text": "13 Sep. 2012"},
    {"op": "edit", "key": "news_100030", "body": "Delegations met in Sarajevo.\n\nThey agreed on a new plan."},
    {"op": "add", "title": "Allies meet on cyber security", "date_text": "27 Sep. 2012",
     "summary": "Experts from all 28 Allies met in Tallinn."},
    {"op": "add", "title": "NATO welcomes new partner liaison office", "date_text": "28 Sep. 2012",
     "summary": "The office opened in Brussels on Friday."},
    {"op": "remove", "key": "news_100010"},
]
FEEDS = {"new": "new_records.atom", "cyber": f"new_records.atom?q={WORD}", "news": "new_records.atom?section=News",
         "changed": "changed_records.atom", "gone": "gone_records.atom"}


@dataclass
class Feeds:
    db: Path
    base: str  # the archive's database page
    after_two: dict[str, Any]  # each feed, parsed, after the second crawl
    after_three: dict[str, Any]  # and after a third that found nothing new


def read_feed(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
        parsed = feedparser.parse(response.read())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Feeds]:
    """Crawl 1, the portal's edits, additions and a removal, crawl 2 (complete, so that it sees the
    removal); the feeds read; crawl 3 with nothing changed; the feeds read again."""
    folder = tmp_path_factory.mktemp("feeds")
    db = folder / "archive.sqlite"
    portal = Replica(items=40)

    def crawl(*extra: str) -> None:
        run_cli("crawl", "nato", "--base-url", portal.base_url, "--db", str(db), "--jsonl", "", "--warc", "", "-q",
                *extra, cwd=folder)

    try:
        crawl()
        portal.change(*CHANGES)
        crawl("--full")
        with serve(db) as root:
            base = f"{root}/archive"
            after_two = {name: read_feed(f"{base}/{path}") for name, path in FEEDS.items()}
            crawl()
            after_three = {name: read_feed(f"{base}/{path}") for name, path in FEEDS.items()}
            yield Feeds(db, base, after_two, after_three)
    finally:
        portal.stop()


def record_of(db: Path, key: str) -> str:
    return rows(db, "SELECT id FROM records WHERE url = ?", f"https://www.nato.int/cps/en/natohq/{key}.htm")[0][0]


def test_the_changed_feed_holds_exactly_the_changed_records_with_what_changed(feeds: Feeds) -> None:
    db, base = feeds.db, feeds.base
    changed = {record_of(db, key): fields for key, fields in EDITS.items()}
    assert {rid for (rid,) in rows(db, "SELECT record_id FROM record_versions")} == set(changed)
    entries = feeds.after_two["changed"].entries
    assert sorted(e.id for e in entries) == sorted(atom.entry_id(rid, 2) for rid in changed)
    for entry in entries:
        rid = entry.id.split(":")[3]
        assert {t.term for t in entry.tags if t.scheme == atom.CHANGED_SCHEME} == changed[rid]
        (url, title, before_summary) = rows(
            db, "SELECT r.url, r.title, v.summary FROM records r JOIN record_versions v ON v.record_id = r.id "
                "WHERE r.id = ?", rid)[0]
        assert entry.title.startswith(f"{title} (changed: ")
        assert [(link.rel, link.href) for link in entry.links] == [("alternate", f"{base}/records/{rid}"),
                                                                  ("related", url)]
        content = entry.content[0].value
        assert f'Seen by <a href="{base}/crawls/2">crawl 2</a>' in content
        assert f'href="{base}/record_history?id={rid}"' in content
        if "summary" in changed[rid]:
            assert f"<del>{before_summary}</del><br /><ins>A corrected summary: the clearing house met again.</ins>" \
                   in content
        if "body" in changed[rid]:
            assert "<ins>" in content and "They agreed on a new plan." in content
        if "title" in changed[rid]:
            assert "<ins>Transatlantic Trends 2012: strong support for NATO</ins>" in content


def test_the_new_feed_filtered_by_a_word_holds_exactly_its_full_text_matches(feeds: Feeds) -> None:
    db = feeds.db
    matches = rows(db, "SELECT r.id, r.first_crawl_id FROM records_fts JOIN records r ON r.rowid = records_fts.rowid "
                       "WHERE records_fts MATCH ? ORDER BY r.first_seen DESC", WORD)
    entries = feeds.after_two["cyber"].entries
    assert sorted(e.id for e in entries) == sorted(atom.entry_id(rid, 1) for rid, _ in matches)
    assert feeds.after_two["cyber"].feed.title == f"New records matching '{WORD}': archive"
    # The item added with the word leads (newest first); the other one added is not there.
    (added,) = rows(db, "SELECT id FROM records WHERE title = 'Allies meet on cyber security'")
    (other,) = rows(db, "SELECT id FROM records WHERE title = 'NATO welcomes new partner liaison office'")
    assert entries[0].id == atom.entry_id(added[0], 1) and atom.entry_id(other[0], 1) not in {e.id for e in entries}
    assert entries[0].link == f"{feeds.base}/records/{added[0]}"
    assert "First archived by" in entries[0].content[0].value and "/crawls/2" in entries[0].content[0].value
    # Unfiltered, every record is in it (fewer than a feed holds), each at version 1.
    assert len(feeds.after_two["new"].entries) == rows(db, "SELECT count(*) FROM records")[0][0]


def test_the_new_feed_filtered_by_a_section(feeds: Feeds) -> None:
    entries = feeds.after_two["news"].entries
    expected = rows(feeds.db, "SELECT id FROM records WHERE section = 'News'")
    assert sorted(e.id for e in entries) == sorted(atom.entry_id(rid, 1) for (rid,) in expected)
    assert {t.term for e in entries for t in e.tags if t.scheme == atom.SECTION_SCHEME} == {"News"}


def test_the_gone_feed_holds_the_record_the_portal_removed(feeds: Feeds) -> None:
    rid = record_of(feeds.db, "news_100010")
    (entry,) = feeds.after_two["gone"].entries
    assert entry.id == atom.entry_id(rid, 1, gone_in_crawl=2) and entry.title.startswith("Gone: ")
    assert entry.link == f"{feeds.base}/records/{rid}"


def test_a_third_crawl_with_no_changes_adds_no_entry(feeds: Feeds) -> None:
    assert rows(feeds.db, "SELECT id, records_new, records_changed, records_gone FROM crawls") == [
        (1, 40 + 30, 0, 0), (2, 2, 3, 1), (3, 0, 0, 0)]
    for name in FEEDS:
        before, after = feeds.after_two[name], feeds.after_three[name]
        assert [(e.id, e.updated) for e in after.entries] == [(e.id, e.updated) for e in before.entries], name
        assert after.feed.updated == before.feed.updated


def test_a_feed_entrys_links_open_the_record_in_the_archive(feeds: Feeds) -> None:
    (entry, *_) = feeds.after_two["changed"].entries
    with urllib.request.urlopen(entry.link, timeout=30) as response:
        page = response.read().decode()
    rid = entry.id.split(":")[3]
    assert rows(feeds.db, "SELECT url FROM records WHERE id = ?", rid)[0][0] in page
    feed_page = feeds.after_two["changed"].feed.link  # the same rows as a page
    assert feed_page == f"{feeds.base}/changed_records"
    shown = get(f"{feeds.base}/changed_records.json?_shape=array")
    assert sorted(atom.entry_id(r["record_id"], r["version"]) for r in shown) == sorted(
        e.id for e in feeds.after_two["changed"].entries)


def test_an_empty_feed_is_a_feed_and_a_bad_search_is_one_line(feeds: Feeds) -> None:
    empty = read_feed(f"{feeds.base}/gone_records.atom?q=zzyzx")
    assert empty.entries == [] and empty.feed.updated  # the last crawl's time
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{feeds.base}/new_records.atom?q=cyber%20AND", timeout=30)
    assert refused.value.code == 400
    assert refused.value.read().decode() == ('Error: fts5: syntax error near ""; q is full-text search: words, '
                                             '"a phrase", OR, NOT, prefix*\n')


# -- feeds, as text (no Datasette) -----------------------------------------------------------------

def test_a_changed_body_is_shown_as_its_changed_passages() -> None:
    before = "NATO leaders met in Chicago on 20 May. They agreed on the transition in Afghanistan and on smart defence."
    after = "NATO leaders met in Chicago on 21 May. They agreed on the transition in Afghanistan and on smart defence."
    assert atom.body_changes(before, after) == [
        "NATO leaders met in Chicago on <del>20</del> <ins>21</ins> May. They agreed on the transition in "
        "Afghanistan …"]
    assert atom.body_changes(before, before.replace("\n", " ")) == []  # the same words: no change
    assert atom.body_changes("a x <b> c d", "a x <i> c d") == ["a x <del>&lt;b&gt;</del> <ins>&lt;i&gt;</ins> c d"]


def test_a_body_rewritten_through_is_one_change_and_far_apart_changes_are_passages() -> None:
    old = "The initiative builds on decisions taken by Allied leaders and on lessons from Kosovo."
    assert atom.body_changes(old, "Delegations met in Sarajevo. They agreed on a new plan.") == [
        f"<del>{old}</del> <ins>Delegations met in Sarajevo. They agreed on a new plan.</ins>"]
    words = [f"w{i}" for i in range(60)]
    edited = [*words[:3], "W3", *words[4:40], "W40", *words[41:]]
    two = atom.body_changes(" ".join(words), " ".join(edited))
    assert two == ["w0 w1 w2 <del>w3</del> <ins>W3</ins> w4 w5 w6 w7 w8 w9 w10 w11 …",
                   "… w32 w33 w34 w35 w36 w37 w38 w39 <del>w40</del> <ins>W40</ins> w41 w42 w43 w44 w45 w46 w47 "
                   "w48 …"]


def test_an_empty_feed_says_when_it_was_last_checked() -> None:
    feed = atom.Feed("http://127.0.0.1:8001/archive/gone_records.atom", "Records gone from the portal: archive",
                     "http://127.0.0.1:8001/archive/gone_records.atom", "http://127.0.0.1:8001/archive/gone_records",
                     "2012-10-12T06:00:00+00:00")
    parsed = feedparser.parse(atom.document(feed, []))
    assert not parsed.bozo and parsed.entries == [] and parsed.feed.updated == "2012-10-12T06:00:00+00:00"
    assert parsed.feed.author == "portalscraper"
