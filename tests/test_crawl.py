"""The main job end to end: real Scrapy crawls of the replica over HTTP on loopback, real SQLite."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from portalscraper.items import RECORD_FIELDS
from tests.conftest import ROOT, SEED_ITEMS, Replica, run_cli

HOME_PATH = "/cps/en/natolive/index.htm"


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def iso(day: str) -> str:
    return dt.datetime.strptime(day.replace(".", ""), "%d %b %Y").date().isoformat()


@pytest.fixture(scope="module")
def archive(replica: Replica, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The replica crawled twice into one archive."""
    folder = tmp_path_factory.mktemp("archive")
    for _ in range(2):
        run_cli("crawl", "nato", "--base-url", replica.base_url, "--db", str(folder / "archive.sqlite"),
                "--jsonl", str(folder / "records.jsonl"), "--log-level", "WARNING", cwd=folder)
    return folder / "archive.sqlite"


def test_all_32_dated_homepage_items_with_detail_fields(archive: Path) -> None:
    columns = "title, date_text, summary, date_start, date_end, url, body, updated_at, updated_text, section, kind"
    by_title = {r[0]: r for r in rows(archive, f"SELECT {columns} FROM records")}
    for seed in SEED_ITEMS:
        _title, date_text, summary, start, end, url, body, updated_at, updated_text, section, kind = by_title[
            seed["title"]
        ]
        assert date_text == seed["date_text"]
        assert summary == " ".join(seed["summary"].split())
        first, _, last = seed["date_text"].partition(" - ")
        assert (start, end) == (iso(first), iso(last) if last else None)
        assert url.startswith("https://www.nato.int/")
        assert body and len(body) > len(summary)
        assert updated_at and updated_at.startswith("2012-") and updated_text.startswith("Last updated: ")
        assert (section, kind) in {("People & Activities", "news"), ("NATO Review", "review"),
                                   ("NATO Review", "edition")}
    assert by_title["Supporting defence education in partner countries"][3:5] == ("2012-09-13", "2012-09-14")
    # The NATO Review edition listed on the homepage is an item whose page is the edition's index.
    edition = by_title["Threats from within"]
    assert edition[5] == "https://www.nato.int/docu/review/2012/Threats-Within/EN/index.htm"
    assert edition[10] == "edition"
    assert edition[6]  # its page's intro
    assert by_title["Supporting defence education in partner countries"][7] == "2012-09-20T14:26+02:00"


def test_recrawl_never_duplicates(archive: Path, replica: Replica) -> None:
    assert rows(archive, "SELECT count(*), count(DISTINCT id), count(DISTINCT url) FROM records") == [(330, 330, 330)]
    crawls = rows(archive, "SELECT id, status, mode, records, records_new, records_unchanged, item_pages_fetched, "
                           "item_pages_not_modified FROM crawls")
    assert crawls[0] == (1, "finished", "full", 330, 330, 0, 330, 0)
    # The immediate re-crawl is incremental: every item it saw is unchanged, no item page was downloaded
    # but the two NATO Review editions' indexes, which are listings too and so always read whole.
    second_id, status, mode, seen, new, unchanged, fetched, not_modified = crawls[1]
    assert (second_id, status, mode, new, fetched) == (2, "finished", "incremental", 0, 2)
    assert 32 < seen == unchanged == not_modified + 2 < 330
    home = replica.url(HOME_PATH)
    per_crawl = rows(archive, "SELECT crawl_id, count(*), count(DISTINCT record_id) FROM appearances "
                              "WHERE source_url = ? AND date_text IS NOT NULL GROUP BY crawl_id", home)
    assert per_crawl == [(1, 32, 32), (2, 32, 32)]
    positions = rows(archive, "SELECT section, position, title FROM appearances WHERE crawl_id = 2 AND source_url = ? "
                              "AND section = 'People & Activities' ORDER BY position", home)
    assert [(p[1], p[2]) for p in positions] == [(n + 1, s["title"]) for n, s in enumerate(SEED_ITEMS[:5])]


def test_full_text_search_finds_homegrown_terrorism(archive: Path) -> None:
    found = {r[0] for r in rows(archive, "SELECT records.title FROM records_fts JOIN records "
                                         "ON records.rowid = records_fts.rowid WHERE records_fts MATCH 'terrorism'")}
    assert "Homegrown terrorism: how the EU sees it" in found
    assert "Homegrown terrorism in pictures" in found
    assert "Thoughts of a former extremist" in found  # "home-grown terrorism"
    assert "Message from President Obama" not in found


def test_archive_schema_indexes_and_wal(archive: Path) -> None:
    indexes = {r[0] for r in rows(archive, "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"idx_records_date_start", "idx_records_section", "idx_records_portal"} <= indexes
    assert rows(archive, "PRAGMA journal_mode") == [("wal",)]
    assert rows(archive, "PRAGMA integrity_check") == [("ok",)]
    assert rows(archive, "SELECT count(*) FROM rejects") == [(0,)]


def test_jsonl_streams_records_in_utf8(archive: Path) -> None:
    lines = (archive.parent / "records.jsonl").read_text("utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 330
    assert list(records[0]) == list(RECORD_FIELDS)
    assert any("Václav Havel" in line for line in lines)  # not ASCII-escaped
    assert any("NATO’s" in line for line in lines)


def test_export_json_and_csv(archive: Path, tmp_path: Path) -> None:
    run_cli("export", "--db", str(archive), "--format", "json", "-o", str(tmp_path / "all.json"))
    document = json.loads((tmp_path / "all.json").read_text("utf-8"))
    assert document["count"] == len(document["records"]) == 330
    assert [c["id"] for c in document["crawls"]] == [1, 2]
    run_cli("export", "--db", str(archive), "--format", "csv", "-o", str(tmp_path / "all.csv"))
    with (tmp_path / "all.csv").open(encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 330 and table[0].keys() == set(RECORD_FIELDS)
    jsonl = run_cli("export", "--db", str(archive), "--format", "jsonl").stdout.splitlines()
    assert len(jsonl) == 330


def test_scrapy_crawl_with_feed_export(replica: Replica, tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "nato", "-a", f"base_url={replica.base_url}", "-a", "max_items=40",
         "-O", str(tmp_path / "out.jsonl"), "-O", str(tmp_path / "out.csv"),
         "-s", f"ARCHIVE_SQLITE_PATH={tmp_path / 'a.sqlite'}",
         "-s", "ARCHIVE_JSONL_PATH=", "-s", f"WARC_DIR={tmp_path / 'warc'}", "-s", "LOG_LEVEL=WARNING"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text("utf-8").splitlines()]
    assert len(records) == 40
    assert all(list(r) == list(RECORD_FIELDS) for r in records)
    assert rows(tmp_path / "a.sqlite", "SELECT count(*) FROM records") == [(40,)]
    import csv

    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 40 and list(table[0]) == list(RECORD_FIELDS)
    by_id = {r["id"]: r for r in records}
    for row in table:  # provenance as JSON, as `portalscraper export --format csv` writes it
        assert json.loads(row["provenance"]) == by_id[row["id"]]["provenance"] and by_id[row["id"]]["provenance"]


def test_since_stops_the_archive_early(replica: Replica, crawl, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = crawl(replica.base_url, "--since", "2012-01-01")
    dated = rows(db, "SELECT min(date_start) FROM records WHERE date_start IS NOT NULL")
    assert dated[0][0] >= "2012-01-01"
    requests = rows(db, "SELECT requests FROM crawls")[0][0]
    assert requests < 80  # the full crawl needs about 350


def test_french_side(replica: Replica, crawl) -> None:  # type: ignore[no-untyped-def]
    db = crawl(replica.base_url, "--lang", "fr", "--max-items", "10")
    found = dict(rows(db, "SELECT title, updated_at FROM records WHERE kind = 'news' AND language = 'fr'"))
    assert found["Soutenir la formation à la défense dans les pays partenaires"] == "2012-10-19T12:39+02:00"
    assert all(url.startswith("https://www.nato.int/cps/fr/natohq/news_") for (url,) in
               rows(db, "SELECT url FROM records WHERE kind = 'news'"))


def test_bad_records_go_to_rejects(start_replica, crawl, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    changes = tmp_path / "changes.json"
    changes.write_text(json.dumps([
        {"op": "add", "title": "An impossible day", "date_text": "31 Feb. 2012", "summary": "Kept with a reason."},
    ]), encoding="utf-8")
    server = start_replica(items=20, changes=changes)
    db = crawl(server.base_url)
    rejects = rows(db, "SELECT url, reason, raw FROM rejects")
    assert len(rejects) == 1
    url, reason, raw = rejects[0]
    assert url == "https://www.nato.int/cps/en/natohq/news_93300.htm"
    assert reason == "date_text: impossible date '31 Feb. 2012': day is out of range for month"
    assert json.loads(raw)["title"] == "An impossible day"
    assert rows(db, "SELECT rejects FROM crawls") == [(1,)]
    assert rows(db, "SELECT count(*) FROM records WHERE title = 'An impossible day'") == [(0,)]


def test_records_match_the_json_schema(archive: Path) -> None:
    import jsonschema

    schema = json.loads((ROOT / "portalscraper/schema/record.schema.json").read_text("utf-8"))
    assert tuple(schema["properties"]) == RECORD_FIELDS
    for line in (archive.parent / "records.jsonl").read_text("utf-8").splitlines():
        jsonschema.validate(json.loads(line), schema)


# -- the portal's feeds and sitemap (#25) --------------------------------------------------------------

SOURCES = ("/cps/en/natolive/news_rss.xml", "/docu/review/rss.xml", "/sitemap.xml", "/sitemap-pages.xml",
           "/sitemap-news-1.xml")


def asked(log: Path) -> list[str]:
    lines = log.read_text("utf-8").splitlines()
    log.write_text("")
    return [json.loads(line)["uri"] for line in lines]


def test_the_nato_spider_reads_its_feeds_and_sitemap_with_the_same_records(start_replica, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                            archive: Path) -> None:
    log = tmp_path / "requests.jsonl"
    server = start_replica(300, None, "--log-requests", str(log))
    db = tmp_path / "a.sqlite"
    command = ("crawl", "nato", "--base-url", server.base_url, "--db", str(db), "--jsonl", "", "--log-level",
               "WARNING")
    run_cli(*command, cwd=tmp_path)
    first = asked(log)
    assert all(first.count(path) == 1 for path in SOURCES)
    # The same records as a crawl of the same portal without them: every item from its listing entry.
    same = "SELECT id, section, title, date_text, summary, content_hash FROM records ORDER BY id"
    assert rows(db, same) == rows(archive, same)
    assert not rows(db, "SELECT id FROM records WHERE provenance LIKE '%feed%' OR provenance LIKE '%sitemap%'")
    # Again at once: the sitemap index says no sitemap changed since the complete pass; the feeds name
    # nothing the listings did not, and nothing whose date moved.
    run_cli(*command, cwd=tmp_path)
    again = asked(log)
    assert {"/sitemap.xml", "/cps/en/natolive/news_rss.xml"} <= set(again)
    assert "/sitemap-news-1.xml" not in again and "/sitemap-pages.xml" not in again
    assert rows(db, "SELECT mode, item_pages_fetched, records_new FROM crawls WHERE id = 2") == [("incremental", 2, 0)]


def test_an_item_only_the_sitemap_names_is_archived(replica: Replica, tmp_path: Path) -> None:
    """Listings read no further than their second page: the sitemap names the items they would
    have listed, and each is archived from its own page, filed as the portal names its news."""
    db = tmp_path / "a.sqlite"
    run_cli("crawl", "nato", "--base-url", replica.base_url, "--db", str(db), "--jsonl", "", "--log-level", "ERROR",
            "-s", "PORTAL_MAX_LISTING_PAGES=2", cwd=tmp_path, check=False)
    assert rows(db, "SELECT count(*), count(DISTINCT id) FROM records") == [(330, 330)]
    deep = rows(db, "SELECT section, title, date_start, body FROM records WHERE url = ?",
                "https://www.nato.int/cps/en/natohq/news_100010.htm")
    assert len(deep) == 1 and deep[0][0] == "News" and deep[0][1] and deep[0][2] and deep[0][3]
