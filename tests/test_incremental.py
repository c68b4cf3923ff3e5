"""Scheduled crawls: incremental re-crawls, history of changed items, removed items marked gone."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import SEED_ITEMS, Replica

EDITED = "news_91112"  # on the homepage and on the archive's first page
ADDED = [
    {"op": "add", "title": "Allies meet on maritime security", "date_text": "27 Sep. 2012",
     "summary": "Naval experts from all 28 Allies met in Northwood."},
    {"op": "add", "title": "NATO welcomes new partner liaison office", "date_text": "28 Sep. 2012",
     "summary": "The office opened in Brussels on Friday."},
]
REMOVED = "news_100150"  # deep in the archive (page 6 of 12)


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def crawl_row(db: Path, crawl_id: int) -> dict[str, object]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM crawls WHERE id = ?", [crawl_id]).fetchone())


def url_of(key: str) -> str:
    return f"https://www.nato.int/cps/en/natohq/{key}.htm"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Replica]:
    """Crawl 1 (first, complete), then changes, then crawl 2 with --full."""
    from tests.conftest import run_cli

    folder = tmp_path_factory.mktemp("history")
    server = Replica(items=300)
    db = folder / "archive.sqlite"

    def crawl(*extra: str) -> None:
        run_cli("crawl", "nato", "--base-url", server.base_url, "--db", str(db), "--jsonl", str(folder / "r.jsonl"),
                "--log-level", "WARNING", *extra, cwd=folder)

    crawl()
    server.change({"op": "edit", "key": EDITED, "summary": "A corrected summary of the Secretary General's visit."},
                  *ADDED, {"op": "remove", "key": REMOVED})
    crawl("--full")
    yield db, server
    server.stop()


def test_changes_between_two_crawls(history: tuple[Path, Replica]) -> None:
    db, _ = history
    first, second = crawl_row(db, 1), crawl_row(db, 2)
    assert (first["records_new"], first["complete"], first["mode"]) == (330, 1, "full")
    assert (second["records_new"], second["records_changed"], second["records_gone"]) == (2, 1, 1)
    assert second["records_unchanged"] == 330 - 1 - 1  # all others, less the changed and the removed one
    assert (second["status"], second["exit_code"], second["complete"]) == ("finished", 0, 1)
    assert rows(db, "SELECT count(*) FROM records") == [(332,)]
    titles = {t for (t,) in rows(db, "SELECT title FROM records WHERE first_crawl_id = 2")}
    assert titles == {c["title"] for c in ADDED}


def test_the_changed_item_keeps_its_previous_version(history: tuple[Path, Replica]) -> None:
    db, _ = history
    versions = rows(db, "SELECT record_id, summary, first_crawl_id, last_crawl_id, replaced_in_crawl_id, content_hash "
                        "FROM record_versions")
    assert len(versions) == 1
    record_id, old_summary, valid_from, valid_to, replaced_in, old_hash = versions[0]
    assert (valid_from, valid_to, replaced_in) == (1, 1, 2)
    assert old_summary == " ".join(SEED_ITEMS[0]["summary"].split())  # news_91112 leads People & Activities
    current = rows(db, "SELECT url, summary, content_hash, version_crawl_id, first_crawl_id FROM records WHERE id = ?",
                   record_id)
    assert current == [(url_of(EDITED), "A corrected summary of the Secretary General's visit.", current[0][2], 2, 1)]
    assert current[0][2] != old_hash


def test_the_removed_item_is_marked_gone_not_deleted(history: tuple[Path, Replica]) -> None:
    db, _ = history
    gone = rows(db, "SELECT url, gone_crawl_id, gone_since IS NOT NULL, title IS NOT NULL FROM records "
                    "WHERE gone_since IS NOT NULL")
    assert gone == [(url_of(REMOVED), 2, 1, 1)]


def test_what_changed_in_a_crawl_is_one_query(history: tuple[Path, Replica]) -> None:
    db, _ = history
    changes = rows(db, "SELECT change, url FROM changes WHERE crawl_id = 2 ORDER BY change, url")
    new = sorted(u for c, u in changes if c == "new")
    assert [c for c, _ in changes].count("new") == 2 and len(new) == 2
    assert [(c, u) for c, u in changes if c != "new"] == [("changed", url_of(EDITED)), ("gone", url_of(REMOVED))]


def test_json_lines_archive_is_the_current_archive(history: tuple[Path, Replica]) -> None:
    db, _ = history
    lines = (db.parent / "r.jsonl").read_text("utf-8").splitlines()
    assert len(lines) == 332
    edited = [json.loads(line) for line in lines if url_of(EDITED) in line]
    assert edited[0]["summary"] == "A corrected summary of the Secretary General's visit."


def test_an_incremental_recrawl_fetches_only_what_changed(history: tuple[Path, Replica]) -> None:
    from tests.conftest import run_cli

    db, server = history
    server.change({"op": "edit", "key": "news_91045", "summary": "Edited again."},
                  {"op": "add", "title": "A third new item", "date_text": "28 Sep. 2012", "summary": "Fresh."},
                  {"op": "remove", "key": "news_100100"})
    run_cli("crawl", "nato", "--base-url", server.base_url, "--db", str(db), "--jsonl", "", "--log-level", "WARNING",
            cwd=db.parent)
    third = crawl_row(db, 3)
    assert (third["mode"], third["complete"], third["exit_code"]) == ("incremental", 0, 0)
    assert (third["records_new"], third["records_changed"], third["records_gone"]) == (1, 1, 0)
    # Only the new and the edited item's pages came back whole, and the two NATO Review editions'
    # indexes (listings as much as items: always read whole); every other item page answered 304.
    assert third["item_pages_fetched"] == 2 + 2
    assert third["item_pages_not_modified"] == third["records"] - 2 - 2
    # The archive's pagination stopped early: far fewer requests than the complete pass before it.
    assert third["requests"] < crawl_row(db, 2)["requests"] / 3
    # An incremental crawl cannot see removals deep in the archive; it marks nothing gone.
    assert rows(db, "SELECT gone_since FROM records WHERE url = ?", url_of("news_100100")) == [(None,)]


def test_an_item_that_comes_back_is_no_longer_gone(
    start_replica: Callable[..., Replica], crawl: Callable[..., Path], tmp_path: Path
) -> None:
    changes = tmp_path / "gone.json"
    changes.write_text(json.dumps([{"op": "remove", "key": "news_100010"}]), encoding="utf-8")
    with_item, without_item = start_replica(items=20), start_replica(items=20, changes=changes)
    db = crawl(with_item.base_url)
    crawl(without_item.base_url, "--full")
    # Another base URL (a mirror) is the same portal: records are canonical, so the removal is seen.
    assert rows(db, "SELECT url, gone_crawl_id FROM records WHERE gone_since IS NOT NULL") == [
        (url_of("news_100010"), 2)]
    crawl(with_item.base_url, "--full")
    assert rows(db, "SELECT count(*) FROM records WHERE gone_since IS NOT NULL") == [(0,)]
    assert rows(db, "SELECT records_new, records_unchanged FROM crawls WHERE id = 3") == [(0, 50)]


def test_failed_items_are_asked_again_at_the_current_base_url(start_replica: Callable[..., Replica],
                                                               tmp_path: Path) -> None:
    from tests.conftest import run_cli

    db = tmp_path / "a.sqlite"
    first = start_replica(60)
    first.change({"op": "break", "key": "news_91112", "status": 500})
    run_cli("crawl", "nato", "--base-url", first.base_url, "--db", str(db), "--jsonl", "", "--log-level", "ERROR",
            "-s", "RETRY_TIMES=0", cwd=tmp_path, check=False)
    assert rows(db, "SELECT count(*) FROM failures WHERE url LIKE '%news_91112%'") == [(1,)]
    first.stop()
    moved = start_replica(60)  # the same portal, on another port
    run_cli("crawl", "nato", "--base-url", moved.base_url, "--db", str(db), "--jsonl", "", "--log-level", "ERROR",
            cwd=tmp_path)
    assert rows(db, "SELECT count(*) FROM records WHERE url LIKE '%news_91112.htm'") == [(1,)]
    assert rows(db, "SELECT count(*) FROM failures WHERE resolved_crawl_id IS NULL") == [(0,)]
