"""`portalscraper serve`: the archive in a real Datasette on 127.0.0.1, with the project's metadata
and canned queries, read through Datasette's JSON API."""

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
from pathlib import Path
from typing import Any

import pytest

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
                                         "WHERE records_fts MATCH 'cyber' ORDER BY rank LIMIT 200")]
    assert [r["id"] for r in found] == ranked  # best matches first, not by id
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


def test_serve_without_an_archive_is_one_line(tmp_path: Path) -> None:
    result = run_cli("serve", "--db", str(tmp_path / "missing.sqlite"), cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert result.stderr == f"Error: no archive at {tmp_path / 'missing.sqlite'}; run 'portalscraper crawl nato' " \
                            "first or give --db\n"


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
