"""What analysts ask of an archive is answered through its indexes, not by reading every row: the
plans SQLite chooses (EXPLAIN QUERY PLAN) for the SQL `portalscraper serve` runs, on a small
archive written by the archive's own writer. A million records make a full scan seconds long; a
plan is the same at any size, so no timing here (benchmarks/bench.py, section 7, has the figures)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portalscraper.archive import SQLiteArchive
from portalscraper.archive.schema import SCHEMA_VERSION
from portalscraper.items import RECORD_FIELDS
from portalscraper.serve.config import FACETS, HOMEPAGE_SIGHTINGS, QUERIES, SETTINGS, default_facets, metadata

HOME = "https://www.nato.int/cps/en/natohq/index.htm"
SECTIONS = ("News", "Press releases", "Speeches")


def record(n: int, version: int = 0) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(RECORD_FIELDS)
    values.update({
        "id": f"{n:016x}", "portal": "nato", "section": SECTIONS[n % 3], "kind": "news",
        "language": "fr" if n % 4 == 3 else "en", "url": f"https://www.nato.int/cps/en/natohq/news_{n}.htm",
        "title": f"Allies meet in Brussels, meeting {n}" + (" (updated)" if version else ""),
        "summary": "Ministers discussed maritime security.", "body": f"Ships and partners, item {n}.",
        "date_text": f"{n % 28 + 1} Sep. 2012 -", "date_start": f"2012-09-{n % 28 + 1:02d}",
        "content_hash": f"{n}-{version}", "provenance": {},
    })
    return values


def crawl(archive: SQLiteArchive, numbers: range, version: int = 0) -> None:
    """A crawl that reads the homepage first (its first five items), then the sections' listings."""
    archive.begin_crawl("nato", "nato", {})
    for position, n in enumerate(numbers[:5], 1):
        archive.add_appearance({"record_id": f"{n:016x}", "url": f"https://www.nato.int/{n}", "source_url": HOME,
                                "page_url": HOME, "section": "Top stories", "position": position})
    for position, n in enumerate(numbers, 1):
        archive.add_record(record(n, version), {"page_fetched": True})
        archive.add_appearance({"record_id": f"{n:016x}", "url": f"https://www.nato.int/{n}",
                                "source_url": f"https://www.nato.int/news.htm?page={position // 20}",
                                "section": SECTIONS[n % 3], "position": position % 20})
    archive.finish_crawl("finished", "finished", {})


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("analysts") / "archive.sqlite"
    archive = SQLiteArchive(path, fts_sync_rows=50)  # several syncs: several segments before the merge
    crawl(archive, range(300))
    crawl(archive, range(0, 300, 7), version=1)  # some records changed: their history
    archive.close()
    return path


def plan(path: Path, sql: str, params: Any = ()) -> list[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return [detail for (_, _, _, detail) in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


def full_scans(steps: list[str], *tables: str) -> list[str]:
    """The steps that read a whole table's rows (`SCAN t`, no index)."""
    return [s for s in steps if any(s == f"SCAN {t}" or (s.startswith(f"SCAN {t} ") and "INDEX" not in s)
                                    for t in tables)]


def datasette_sql(path: Path, url: str) -> list[tuple[str, dict[str, Any]]]:
    """The SQL Datasette (with the project's metadata and settings) runs to answer `url`."""
    from datasette.app import Datasette

    ds = Datasette([str(path)], metadata=metadata(path), settings={**SETTINGS, "trace_debug": True})

    async def traced() -> Any:
        response = await ds.client.get(f"/{path.stem}{url}{'&' if '?' in url else '?'}_trace=1")
        assert response.status_code == 200, response.text
        return response.json()["_trace"]["traces"]

    return [(t["sql"], t["params"] or {}) for t in asyncio.run(traced())
            if "records" in t["sql"] and "sqlite_master" not in t["sql"]]


def test_the_records_table_page_reads_the_newest_rows_through_the_date_index(archive_path: Path) -> None:
    queries = datasette_sql(archive_path, "/records.json")
    page = [(sql, params) for sql, params in queries if "limit 101" in sql]
    assert len(page) == 1 and "order by date_start desc" in page[0][0]
    steps = plan(archive_path, *page[0])
    # Read newest first from the index, a page's rows and no more (at most rows of one date sorted by a tie-break).
    assert steps[0] == "SCAN records USING INDEX idx_records_date_start", steps
    assert "USE TEMP B-TREE FOR ORDER BY" not in steps
    for sql, params in queries:  # the count, the facets of the metadata
        steps = plan(archive_path, sql, params)
        assert not full_scans(steps, "records"), (sql, steps)


@pytest.mark.parametrize("column", ["section", "kind", "language"])
def test_each_facet_is_counted_from_an_index(archive_path: Path, column: str) -> None:
    facets = [(sql, params) for sql, params in datasette_sql(archive_path, f"/records.json?_facet={column}&_size=0")
              if sql.startswith(f"select {column} as value")]
    assert facets
    for sql, params in facets:
        steps = plan(archive_path, sql, params)
        assert any(f"COVERING INDEX idx_records_{column}" in s for s in steps), steps
        assert not full_scans(steps, "records"), steps


def test_the_charts_and_the_homepage_queries_search_a_crawls_homepage_through_indexes(archive_path: Path) -> None:
    for sql in (HOMEPAGE_SIGHTINGS, QUERIES["homepage_stays"][1], QUERIES["homepage_blocks"][1]):
        steps = plan(archive_path, sql, {"crawl_id": ""})
        assert not [s for s in steps if s.startswith(("SCAN a", "SCAN appearances"))], steps
        assert any("idx_appearances_crawl_id_page" in s for s in steps), steps
    with sqlite3.connect(archive_path) as conn:
        sightings = conn.execute(HOMEPAGE_SIGHTINGS, {"crawl_id": ""}).fetchall()
    assert len(sightings) == 10 and {title for _, title, _, _ in sightings} == {None}
    assert {rid for rid, _, _, _ in sightings} == {f"{n:016x}" for n in (*range(5), 0, 7, 14, 21, 28)}


def test_items_per_month_counts_in_the_month_index_alone(archive_path: Path) -> None:
    steps = plan(archive_path, QUERIES["items_per_month"][1])
    assert steps == ["SCAN records USING COVERING INDEX idx_records_month"], steps  # no rows read, nothing sorted


def test_a_records_history_and_a_ranked_search_look_up_what_they_need(archive_path: Path) -> None:
    steps = plan(archive_path, QUERIES["record_history"][1], {"id": f"{7:016x}"})
    assert any(s.startswith("SEARCH records") for s in steps) and not [s for s in steps if s.startswith("SCAN")], steps
    steps = plan(archive_path, QUERIES["search"][1], {"q": "maritime", "page": ""})
    index = [s.rsplit(" ", 1)[1] for s in steps if s.startswith("SCAN records_fts VIRTUAL TABLE INDEX")]
    # Three reads of the index: the newest matches (rowids, newest first), the best of those ranked
    # within a rowid bound, and each row shown found by its rowid for its snippet.
    assert len(index) == 3 and any(">" in i for i in index) and any("=" in i for i in index), steps
    assert "SEARCH r USING INTEGER PRIMARY KEY (rowid=?)" in steps and not full_scans(steps, "records"), steps


def test_a_ranked_search_ranks_the_newest_5000_matches(tmp_path: Path) -> None:
    """A word that 6,000 records hold: the best of the 5,000 most recently archived, although the
    oldest rank better (the word more often in shorter texts); a word that fewer hold: all ranked."""
    path = tmp_path / "search.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE records (id TEXT, date_start TEXT, title TEXT, section TEXT, url TEXT, "
                     "summary TEXT, body TEXT)")
        conn.execute("CREATE VIRTUAL TABLE records_fts USING FTS5 (title, summary, body, tokenize='porter', "
                     "content='records')")
        conn.executemany("INSERT INTO records (rowid, id, title, summary, body) VALUES (?, ?, ?, ?, ?)", [
            (n, f"r{n}", "summit summit" if n <= 1000 else f"summit and other words of record {n}",
             "rare" if n % 60 == 0 else "", "") for n in range(1, 6001)])
        conn.execute("INSERT INTO records_fts (records_fts) VALUES ('rebuild')")
        ids = {q: [row[4] for page in ("", "2", "3", "4", "5", "6")
                   for row in conn.execute(QUERIES["search"][1], {"q": q, "page": page})] for q in ("summit", "rare")}
        best_recent = [rid for (rid,) in conn.execute(
            "SELECT r.id FROM records_fts JOIN records r ON r.rowid = records_fts.rowid WHERE records_fts MATCH "
            "'summit' AND records_fts.rowid > 1000 ORDER BY rank LIMIT 120")]
        all_rare = [rid for (rid,) in conn.execute(
            "SELECT r.id FROM records_fts JOIN records r ON r.rowid = records_fts.rowid WHERE records_fts MATCH "
            "'rare' ORDER BY rank")]
        first = [row[4] for row in conn.execute(QUERIES["search"][1], {"q": "rare", "page": "1"})]
        junk = [row[4] for row in conn.execute(QUERIES["search"][1], {"q": "rare", "page": "x"})]
    assert ids["summit"] == best_recent and len(best_recent) == 120  # six pages of 20, the first left empty
    assert ids["rare"] == all_rare and len(all_rare) == 100  # five pages, the sixth empty
    assert first == junk == all_rare[:20]


def fts_segments(path: Path) -> int:
    """Segments of the full-text index, from FTS5's structure record (rowid 10 of its data table):
    a 4-byte cookie, then varints: levels, segments."""
    with sqlite3.connect(path) as conn:
        (blob,) = conn.execute("SELECT block FROM records_fts_data WHERE id = 10").fetchone()
    varints = iter(_varints(blob[4:]))
    next(varints)  # levels
    return next(varints)


def _varints(data: bytes) -> Iterator[int]:
    value = 0
    for byte in data:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            yield value
            value = 0


def test_a_crawl_that_indexed_much_leaves_the_full_text_index_in_one_segment(tmp_path: Path,
                                                                             archive_path: Path) -> None:
    assert fts_segments(archive_path) == 1
    path = tmp_path / "a.sqlite"
    archive = SQLiteArchive(path, fts_sync_rows=50)
    crawl(archive, range(300))
    assert fts_segments(path) == 1
    crawl(archive, range(0, 300, 20), version=1)  # 15 records of 300 changed: not worth rewriting the index for
    archive.close()
    assert fts_segments(path) > 1
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO records_fts(records_fts) VALUES('integrity-check')")


def test_an_archive_without_the_newer_indexes_gets_them_when_a_crawl_opens_it(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    SQLiteArchive(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP INDEX idx_records_language")
        conn.execute("DROP INDEX idx_appearances_crawl_id_page")
        conn.execute("DROP INDEX idx_records_month")
    SQLiteArchive(path).close()
    with sqlite3.connect(path) as conn:
        names = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"idx_records_language", "idx_appearances_crawl_id_page", "idx_records_month"} <= names
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)  # no table changed


def test_a_large_archive_opens_its_records_with_one_facet(archive_path: Path) -> None:
    assert default_facets(archive_path) == list(FACETS) == ["section", "kind", "language"]
    assert default_facets(archive_path, large_archive=100) == ["section"]  # 300 records: "large" here
    assert metadata(archive_path, large_archive=100)["databases"]["archive"]["tables"]["records"]["facets"] == [
        "section"]
