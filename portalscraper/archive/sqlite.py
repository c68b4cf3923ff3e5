"""The SQLite archive (through sqlite-utils): records, appearances, crawls, rejects; usable without Scrapy.

Writes are buffered and committed in batches, one transaction each; the journal is WAL so
readers can query during a crawl.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import sqlite_utils

from portalscraper.items import RECORD_FIELDS

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_RECORD_COLUMNS: dict[str, type] = {name: str for name in RECORD_FIELDS}
_RECORD_COLUMNS.update({"first_seen": str, "last_seen": str, "first_crawl_id": int, "last_crawl_id": int})
_APPEARANCE_COLUMNS: dict[str, type] = {
    "id": int, "crawl_id": int, "record_id": str, "url": str, "source_url": str, "section": str,
    "position": int, "date_text": str, "title": str, "seen_at": str,
}
_CRAWL_COLUMNS: dict[str, type] = {
    "id": int, "spider": str, "portal": str, "args": str, "started_at": str, "finished_at": str,
    "status": str, "finish_reason": str, "records": int, "records_new": int, "records_changed": int,
    "records_unchanged": int, "appearances": int, "rejects": int, "duplicates": int, "requests": int,
    "responses": int, "bytes": int, "errors": int, "duration_s": float,
}
_REJECT_COLUMNS: dict[str, type] = {
    "id": int, "crawl_id": int, "record_id": str, "url": str, "reason": str, "raw": str, "rejected_at": str,
}


class ArchiveError(Exception):
    """The archive file cannot be opened or written."""


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def open_database(path: str | Path) -> sqlite_utils.Database:
    """Open (creating it and its folder if needed) an archive database, checked and in WAL mode."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchiveError(f"cannot create the folder for the archive {path}: {exc.strerror}") from None
    if path.is_dir():
        raise ArchiveError(f"the archive path {path} is a folder; give a file path such as {path / 'archive.sqlite'}")
    try:
        db = sqlite_utils.Database(path)
        db.execute("PRAGMA busy_timeout = 10000")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.table_names()
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(
            f"{path} is not a usable SQLite archive ({exc}); move it away or choose another path"
        ) from None
    return db


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the archive's tables, indexes and full-text index if they are missing."""
    with db.conn:
        if "crawls" not in db.table_names():
            db.table("crawls").create(_CRAWL_COLUMNS, pk="id")
        if "records" not in db.table_names():
            db.table("records").create(_RECORD_COLUMNS, pk="id", not_null={"url"})
            db.table("records").create_index(["date_start"])
            db.table("records").create_index(["section"])
            db.table("records").create_index(["portal"])
            db.table("records").create_index(["kind"])
            db.table("records").enable_fts(["title", "summary", "body"], create_triggers=True, tokenize="porter")
        if "appearances" not in db.table_names():
            db.table("appearances").create(_APPEARANCE_COLUMNS, pk="id", foreign_keys=[("crawl_id", "crawls", "id")])
            db.table("appearances").create_index(
                ["crawl_id", "source_url", "section", "position", "record_id"], unique=True
            )
            db.table("appearances").create_index(["record_id"])
        if "rejects" not in db.table_names():
            db.table("rejects").create(_REJECT_COLUMNS, pk="id")
            db.table("rejects").create_index(["crawl_id"])
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _upsert_sql() -> str:
    cols = [*RECORD_FIELDS, "first_seen", "last_seen", "first_crawl_id", "last_crawl_id"]
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in ("id", "first_seen", "first_crawl_id"))
    return (
        f"INSERT INTO records ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
        f"ON CONFLICT(id) DO UPDATE SET {updates}"
    )


class SQLiteArchive:
    """Buffered writer of one crawl into an archive database."""

    def __init__(self, path: str | Path, batch_size: int = 500, flush_seconds: float = 5.0) -> None:
        self.path = Path(path)
        self.batch_size = max(1, batch_size)
        self.flush_seconds = flush_seconds
        self.db = open_database(self.path)
        ensure_schema(self.db)
        self.crawl_id: int | None = None
        self._records: list[tuple[Any, ...]] = []
        self._appearances: list[dict[str, Any]] = []
        self._rejects: list[dict[str, Any]] = []
        self._last_flush = time.monotonic()
        self._upsert = _upsert_sql()
        self.counts = {"records": 0, "records_new": 0, "records_changed": 0, "records_unchanged": 0,
                       "appearances": 0, "rejects": 0}

    # -- crawl rows -----------------------------------------------------------------------

    def begin_crawl(self, spider: str, portal: str, args: Mapping[str, Any]) -> int:
        with self.db.conn:
            table = self.db.table("crawls").insert(
                {"spider": spider, "portal": portal, "args": json.dumps(dict(args), ensure_ascii=False, sort_keys=True),
                 "started_at": utc_now(), "status": "running"}
            )
        self.crawl_id = int(table.last_pk or 0)
        return self.crawl_id

    def finish_crawl(self, status: str, finish_reason: str, stats: Mapping[str, Any]) -> None:
        self.flush()
        if self.crawl_id is None:
            return
        row = self.db.table("crawls").get(self.crawl_id)
        started = dt.datetime.fromisoformat(row["started_at"])
        finished = dt.datetime.now(dt.UTC)
        with self.db.conn:
            self.db.table("crawls").update(self.crawl_id, {
                **self.counts, **{k: v for k, v in stats.items() if k in _CRAWL_COLUMNS},
                "finished_at": finished.isoformat(timespec="seconds"), "status": status,
                "finish_reason": finish_reason, "duration_s": round((finished - started).total_seconds(), 3),
            })

    # -- buffered writes --------------------------------------------------------------------

    def add_record(self, row: Mapping[str, Any]) -> None:
        now = utc_now()
        values = [json.dumps(row[c], ensure_ascii=False) if c == "provenance" else row.get(c) for c in RECORD_FIELDS]
        self._records.append((*values, now, now, self.crawl_id, self.crawl_id))
        self._maybe_flush()

    def add_appearance(self, row: Mapping[str, Any]) -> None:
        self._appearances.append({**row, "crawl_id": self.crawl_id})
        self._maybe_flush()

    def add_reject(self, record_id: str | None, url: str | None, reason: str, raw: Mapping[str, Any]) -> None:
        self._rejects.append({
            "crawl_id": self.crawl_id, "record_id": record_id, "url": url, "reason": reason,
            "raw": json.dumps(dict(raw), ensure_ascii=False, default=str), "rejected_at": utc_now(),
        })
        self._maybe_flush()

    def _maybe_flush(self) -> None:
        pending = len(self._records) + len(self._appearances) + len(self._rejects)
        if pending >= self.batch_size or time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Commit everything buffered, in one transaction."""
        self._last_flush = time.monotonic()
        if not (self._records or self._appearances or self._rejects):
            return
        records, appearances, rejects = self._records, self._appearances, self._rejects
        self._records, self._appearances, self._rejects = [], [], []
        with self.db.conn:
            if records:
                self._count_changes(records)
                self.db.conn.executemany(self._upsert, records)
            if appearances:
                self.db.table("appearances").insert_all(appearances, ignore=True)
            if rejects:
                self.db.table("rejects").insert_all(rejects)
        self.counts["records"] += len(records)
        self.counts["appearances"] += len(appearances)
        self.counts["rejects"] += len(rejects)

    def _count_changes(self, records: list[tuple[Any, ...]]) -> None:
        id_at, hash_at = RECORD_FIELDS.index("id"), RECORD_FIELDS.index("content_hash")
        ids = [r[id_at] for r in records]
        known: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            sql = f"SELECT id, content_hash FROM records WHERE id IN ({marks})"
            known.update(self.db.execute(sql, chunk).fetchall())
        for r in records:
            if r[id_at] not in known:
                self.counts["records_new"] += 1
            elif known[r[id_at]] != r[hash_at]:
                self.counts["records_changed"] += 1
            else:
                self.counts["records_unchanged"] += 1

    def close(self) -> None:
        self.flush()
        self.db.close()


def iter_records(db: sqlite_utils.Database, portal: str | None = None) -> Iterator[dict[str, Any]]:
    """Archived records in a stable order (date, then id), with provenance decoded."""
    where, params = ("portal = ?", [portal]) if portal else (None, None)
    select = ", ".join(RECORD_FIELDS)
    for row in db.table("records").rows_where(where, params, order_by="date_start desc, id", select=select):
        row["provenance"] = json.loads(row["provenance"]) if row.get("provenance") else {}
        yield row
