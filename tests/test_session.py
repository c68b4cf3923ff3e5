"""A crawl's session without Scrapy: the one lock, the crawl row from start to verdict, resume."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from portalscraper.archive import ArchiveLockedError, CrawlSession, CrawlTotals
from portalscraper.crawl.verdict import EXIT_FAILED, EXIT_NO_ITEMS, EXIT_OK
from portalscraper.items import Appearance, FetchFailure, Record, Sightings
from tests.conftest import SessionArgs


def record(n: int) -> Record:
    return Record(id=f"{n:016x}", portal="nato", url=f"https://www.nato.int/cps/en/natohq/news_{n}.htm",
                  language="en", title=f"Item {n}", section="News", content_hash=str(n))


def crawl_rows(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT id, status, complete, exit_code, alarms, records, appearances, failures "
                            "FROM crawls ORDER BY id").fetchall()


def test_a_session_owns_its_crawl_from_lock_to_verdict(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    session = CrawlSession.open(path, SessionArgs())
    with pytest.raises(ArchiveLockedError, match="another crawl is writing to"):
        CrawlSession.open(path, SessionArgs())  # the same process too: one writer
    sightings = Sightings("https://www.nato.int/cps/en/natolive/index.htm")
    for n in (1, 2):
        session.store(record(n))
        sightings.appearances.append(Appearance(f"{n:016x}", f"https://www.nato.int/{n}", sightings.source_url,
                                                "News", n))
    session.store(sightings)
    session.store(FetchFailure("https://www.nato.int/x", "item", "HTTP 503 Service Unavailable", 503, "x"))
    assert session.memory.known == {}  # what earlier crawls left: nothing yet
    verdict = session.finish("finished", CrawlTotals(requests=100, errors=1, complete_pass=True))
    assert (verdict.exit_code, verdict.alarms) == (EXIT_OK, [])
    assert session.row is not None and session.row["status"] == "finished"
    session.close()
    assert crawl_rows(path) == [(1, "finished", 1, 0, None, 2, 2, 1)]

    later = CrawlSession.open(path, SessionArgs())  # released: the next crawl remembers the first
    assert set(later.memory.known) == {f"{1:016x}", f"{2:016x}"}
    assert later.memory.record(f"{1:016x}")["title"] == "Item 1"  # type: ignore[index]
    assert [kind for kind, _, _ in later.memory.unresolved_failures()] == ["item"]
    verdict = later.finish("finished", CrawlTotals(requests=3, complete_pass=True))
    later.close()
    assert verdict.exit_code == EXIT_NO_ITEMS
    # A complete pass that listed nothing: both records gone, and the crawl row says why it alarms.
    assert crawl_rows(path)[1][:4] == (2, "finished", 1, EXIT_NO_ITEMS)
    assert json.loads(crawl_rows(path)[1][4]) == verdict.alarms


def test_an_interrupted_crawl_is_resumed_by_the_same_arguments_only(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    first = CrawlSession.open(path, SessionArgs())
    first.store(record(1))
    first.close()  # never finished: a crash, as far as the archive knows
    other = CrawlSession.open(path, SessionArgs(lang="fr", resume=True))
    assert (other.resumed, other.crawl_id) == (False, 2)  # other arguments: a new crawl
    other.close()
    again = CrawlSession.open(path, SessionArgs(resume=True))
    assert (again.resumed, again.crawl_id) == (True, 1)
    assert again.memory.stored_in_this_crawl(f"{1:016x}")
    again.finish("finished", CrawlTotals(requests=1))
    again.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT id, status, resumed FROM crawls ORDER BY id").fetchall() == [
            (1, "finished", 1), (2, "interrupted", 0)]


def test_an_unwritable_archive_fails_the_crawl_with_its_reason(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    session = CrawlSession.open(path, SessionArgs())
    session.store(record(1))
    session.fail("cannot write the archive: database or disk is full")
    verdict = session.finish("archive_unwritable", CrawlTotals())
    session.close()
    assert (verdict.exit_code, verdict.alarms) == (EXIT_FAILED, ["cannot write the archive: database or disk is full"])
    assert crawl_rows(path)[0][:2] == (1, "failed")
    with sqlite3.connect(path) as conn:  # what was buffered was dropped, not half-written
        assert conn.execute("SELECT count(*) FROM records").fetchone() == (0,)
