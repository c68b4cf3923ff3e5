"""Raw captures: a crawl's WARC file is valid, and re-parsing it alone rebuilds the same records."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from tests.conftest import Replica, run_cli


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_crawl_writes_a_valid_warc_and_reparse_rebuilds_the_same_records(replica: Replica, tmp_path: Path) -> None:
    crawled, reparsed = tmp_path / "crawled.sqlite", tmp_path / "reparsed.sqlite"
    run_cli("crawl", "nato", "--base-url", replica.base_url, "--db", str(crawled), "--jsonl", "", "--warc",
            str(tmp_path / "warc"), "--log-level", "WARNING", cwd=tmp_path)
    warcs = sorted((tmp_path / "warc").glob("nato-*.warc.gz"))
    assert len(warcs) == 1
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v", str(warcs[0])], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]

    # Each record knows the capture its page came from.
    url, warc_file, offset = rows(crawled, "SELECT url, warc_file, warc_offset FROM records WHERE kind = 'news' "
                                           "ORDER BY id LIMIT 1")[0]
    assert warc_file == warcs[0].name
    with warcs[0].open("rb") as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)))
        assert record.rec_type == "response"
        assert record.rec_headers.get_header("WARC-Target-URI").endswith(url.rsplit("/", 1)[1])
        assert b"<h1>" in record.content_stream().read()

    # With the replica gone, the WARC file alone gives the same archive.
    result = run_cli("reparse", "--warc", str(warcs[0]), "--db", str(reparsed), "--jsonl", "", "--log-level",
                     "WARNING", cwd=tmp_path)
    assert "Re-parsing 1 WARC file(s) with the nato spider" in result.stderr
    query = "SELECT id, content_hash, warc_offset FROM records ORDER BY id"
    assert rows(reparsed, query) == rows(crawled, query)
    assert len(rows(crawled, query)) == 330
    listed = "SELECT record_id, section, position FROM appearances ORDER BY 1, 2, 3"
    assert rows(reparsed, listed) == rows(crawled, listed)


def test_reparse_needs_existing_files(tmp_path: Path) -> None:
    result = run_cli("reparse", "--warc", str(tmp_path / "missing.warc.gz"), cwd=tmp_path, check=False)
    assert result.returncode == 2 and result.stderr.startswith("Error: no WARC file at ")
