"""The SQLite archive writer without Scrapy: history, the full-text index, crash safety, the lock."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from portalscraper.archive import ArchiveLock, ArchiveLockedError, SQLiteArchive
from portalscraper.items import RECORD_FIELDS


def row(rid: str, title: str, body: str, content_hash: str) -> dict[str, object]:
    values: dict[str, object] = dict.fromkeys(RECORD_FIELDS)
    values.update({"id": rid, "portal": "nato", "url": f"https://www.nato.int/{rid}", "language": "en",
                   "title": title, "body": body, "content_hash": content_hash, "provenance": {}})
    return values


def search(path: Path, query: str) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT r.id FROM records_fts JOIN records r ON r.rowid = "
                                           "records_fts.rowid WHERE records_fts MATCH ? ORDER BY r.id", [query])]


def test_full_text_index_follows_new_and_changed_records(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    archive = SQLiteArchive(path)
    archive.begin_crawl("nato", "nato", {})
    archive.add_record(row("a", "Maritime security", "Ships in the Mediterranean", "1"))
    archive.add_record(row("b", "Cyber defence", "Networks and partners", "2"))
    archive.finish_crawl("finished", "finished", {})
    assert search(path, "maritime") == ["a"] and search(path, "partner") == ["b"]  # porter: partners
    archive.begin_crawl("nato", "nato", {})
    archive.add_record(row("a", "Air policing", "Jets over the Baltic", "3"))  # changed
    archive.add_record(row("b", "Cyber defence", "Networks and partners", "2"))  # unchanged
    archive.finish_crawl("finished", "finished", {})
    archive.close()
    assert search(path, "maritime") == [] and search(path, "baltic") == ["a"] and search(path, "cyber") == ["b"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM record_versions").fetchone() == (1,)
        # FTS5 compares its index with the records' texts, and raises if they disagree.
        conn.execute("INSERT INTO records_fts(records_fts) VALUES('integrity-check')")


def test_a_killed_writer_leaves_the_index_to_the_next_one(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    archive = SQLiteArchive(path)
    archive.begin_crawl("nato", "nato", {})
    archive.add_record(row("a", "Maritime security", "Ships", "1"))
    archive.flush()  # committed, then the process dies: no finish_crawl, no sync
    archive.db.close()
    assert search(path, "maritime") == []
    SQLiteArchive(path).close()  # the next writer indexes what was left
    assert search(path, "maritime") == ["a"]


@pytest.mark.slow
def test_one_writer_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    with ArchiveLock(path):
        other = subprocess_lock(path)
        assert other.startswith("another crawl is writing to") and "pid" in other
    assert subprocess_lock(path) == "acquired"


def subprocess_lock(path: Path) -> str:
    import subprocess
    import sys

    code = ("import sys; from portalscraper.archive import ArchiveLock, ArchiveLockedError\n"
            "try:\n    ArchiveLock(sys.argv[1]).acquire(); print('acquired')\n"
            "except ArchiveLockedError as e:\n    print(e)")
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.slow
def test_a_second_writer_in_the_same_process_is_refused_too(tmp_path: Path) -> None:
    first, second = ArchiveLock(tmp_path / "a.sqlite"), ArchiveLock(tmp_path / "a.sqlite")
    first.acquire()
    with pytest.raises(ArchiveLockedError, match="another crawl is writing to"):
        second.acquire()
    assert subprocess_lock(tmp_path / "a.sqlite").startswith("another crawl")
    first.release()
    assert subprocess_lock(tmp_path / "a.sqlite") == "acquired"


def test_an_archive_from_before_foreign_keys_gets_them_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    archive = SQLiteArchive(path)
    crawl = archive.begin_crawl("nato", "nato", {})
    archive.add_record(row("a", "Maritime security", "Ships", "1"))
    archive.add_appearance({"crawl_id": crawl, "record_id": "a", "url": "https://www.nato.int/a",
                            "source_url": "https://www.nato.int/", "section": "News", "position": 1})
    archive.finish_crawl("finished", "finished", {})
    archive.close()
    with sqlite3.connect(path) as conn:  # as schema 3 wrote it: the same tables, no foreign keys
        conn.execute("PRAGMA writable_schema = ON")
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'appearances'").fetchone()[0]
        bare = re.sub(r'\s+REFERENCES "\w+"\("\w+"\)', "", sql)
        assert bare != sql
        conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'appearances'", [bare])
        conn.execute("PRAGMA user_version = 3")
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA foreign_key_list(appearances)").fetchall() == []
        before = conn.execute("SELECT rowid, * FROM appearances").fetchall()
    SQLiteArchive(path).close()
    with sqlite3.connect(path) as conn:
        links = {(r[3], r[2], r[4]) for r in conn.execute("PRAGMA foreign_key_list(appearances)")}
        assert links == {("record_id", "records", "id"), ("crawl_id", "crawls", "id")}
        assert conn.execute("SELECT rowid, * FROM appearances").fetchall() == before
        assert conn.execute("PRAGMA user_version").fetchone() == (4,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_an_archive_of_this_schema_is_opened_without_a_write(tmp_path: Path) -> None:
    """No migration, no VACUUM, not one statement that writes, when the archive is up to date: a
    crawl's start takes nothing away from readers."""
    from portalscraper.archive import ensure_schema, open_database

    path = tmp_path / "a.sqlite"
    SQLiteArchive(path).close()
    db = open_database(path)
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    ensure_schema(db)
    assert statements and all(s.startswith(("SELECT", "PRAGMA user_version", "PRAGMA application_id"))
                              for s in statements), statements


def one_crawl(path: Path, *records: dict[str, object]) -> None:
    """A finished crawl of `records` into the archive at `path`, closed."""
    archive = SQLiteArchive(path)
    archive.begin_crawl("nato", "nato", {})
    for record in records:
        archive.add_record(record)
    archive.finish_crawl("finished", "finished", {})
    archive.close()


def test_an_archive_without_its_full_text_index_gets_it_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    one_crawl(path, row("a", "Maritime security", "Ships in the Mediterranean", "1"))
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE records_fts")
    SQLiteArchive(path).close()
    assert search(path, "mediterranean") == ["a"]


def test_closing_the_archive_leaves_an_empty_wal_and_takes_no_lock(tmp_path: Path) -> None:
    """The last connection to close would lock the whole file to checkpoint and delete the WAL (a
    reader opening it then gets "database is locked"): the WAL is emptied first, and kept."""
    path = tmp_path / "a.sqlite"
    one_crawl(path, row("a", "Maritime security", "Ships", "1"))
    wal = path.with_name(path.name + "-wal")
    assert wal.exists() and wal.stat().st_size == 0
    assert search(path, "maritime") == ["a"]


def test_jsonl_export_is_each_record_as_dumps_writes_it(tmp_path: Path) -> None:
    """SQLite writes the exported JSON (json_object): line for line what decoding every row and
    encoding it in Python gives, in the same order, whatever the texts' escapes."""
    import io
    import json

    from portalscraper.archive import open_database
    from portalscraper.archive.export import export, record_lines
    from portalscraper.archive.jsonl import dumps
    from portalscraper.archive.sqlite import iter_records

    path = tmp_path / "a.sqlite"
    archive = SQLiteArchive(path)
    archive.begin_crawl("nato", "nato", {})
    texts = ["NATO’s “smart defence”", 'a "quoted", \\ back\\slash', "line\nbreak\ttab\x01\x7f\x00\x1f\x08\x0c\r",
             "Václav Havel \u2028 ☃ 北约", "}, {", ""]
    provenances = [{}, {"title": "selector"}, {"title": "selector", "date_start": "jsonld"},
                   {"body": "h1.title, p \"x\": ü"}]
    for n in range(40):
        record = row(f"r{n:02d}", texts[n % len(texts)] or "Untitled", texts[(n + 1) % len(texts)], str(n))
        record.update(provenance=provenances[n % len(provenances)], portal="nato" if n % 3 else "other",
                      date_start=f"2012-09-{n % 28 + 1:02d}" if n % 5 else None, summary=None if n % 2 else "s")
        archive.add_record(record)
    archive.finish_crawl("finished", "finished", {})
    archive.close()
    with sqlite3.connect(path) as conn:  # an older writer's empty and missing provenance
        conn.execute("UPDATE records SET provenance = '' WHERE id = 'r00'")
        conn.execute("UPDATE records SET provenance = NULL WHERE id = 'r04'")
    db = open_database(path)
    for portal in (None, "nato"):
        expected = [dumps(r) for r in iter_records(db, portal)]
        got = [line for lines in record_lines(db, portal, batch=7) for line in lines]
        assert got == expected and len(got) == (40 if portal is None else 26)
        out = io.StringIO()
        assert export(db, out, "jsonl", portal) == len(expected)
        assert out.getvalue() == "".join(line + "\n" for line in expected)
        out = io.StringIO()
        export(db, out, "json", portal)
        assert json.loads(out.getvalue())["records"] == [json.loads(line) for line in expected]
    assert json.loads(expected[0])["provenance"] in provenances
