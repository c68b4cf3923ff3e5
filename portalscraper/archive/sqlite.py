"""The SQLite archive (through sqlite-utils): records, appearances, crawls, rejects; usable without Scrapy.

Writes are buffered and committed in batches, one transaction each; the journal is WAL so
readers can query during a crawl.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from dataclasses import fields
from pathlib import Path
from typing import Any

import sqlite_utils

from portalscraper.items import RECORD_FIELDS, PageState

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 4
# Each record's history, kept beside it by the archive.
_HISTORY_COLUMNS: dict[str, type] = {
    "first_seen": str, "last_seen": str, "first_crawl_id": int, "last_crawl_id": int,
    "version_since": str, "version_crawl_id": int, "gone_since": str, "gone_crawl_id": int,
}
# What the crawl keeps of each record's page for the next crawls (items.PageState), but whether it
# answered this time, which only settles failures.
_STATE_COLUMNS: dict[str, type] = {f.name: int if "int" in str(f.type) else str for f in fields(PageState)
                                   if f.name != "page_fetched"}
_RECORD_COLUMNS: dict[str, type] = {name: str for name in RECORD_FIELDS}
_RECORD_COLUMNS.update(_HISTORY_COLUMNS)
_RECORD_COLUMNS.update(_STATE_COLUMNS)
_VERSION_COLUMNS: dict[str, type] = {"version_id": int, "record_id": str}
_VERSION_COLUMNS.update({name: str for name in RECORD_FIELDS if name != "id"})
_VERSION_COLUMNS.update({"valid_from": str, "valid_to": str, "first_crawl_id": int, "last_crawl_id": int,
                         "replaced_in_crawl_id": int})
_APPEARANCE_COLUMNS: dict[str, type] = {
    "id": int, "crawl_id": int, "record_id": str, "url": str, "source_url": str, "section": str,
    "position": int, "date_text": str, "title": str, "seen_at": str, "capture_url": str, "capture_time": str,
    "page_url": str,
}
_CRAWL_COLUMNS: dict[str, type] = {
    "id": int, "spider": str, "portal": str, "args": str, "mode": str, "started_at": str, "finished_at": str,
    "status": str, "finish_reason": str, "exit_code": int, "alarms": str, "complete": int, "resumed": int,
    "records": int, "records_new": int, "records_changed": int, "records_unchanged": int, "records_gone": int,
    "appearances": int, "rejects": int, "duplicates": int, "requests": int, "responses": int, "bytes": int,
    "item_pages_fetched": int, "item_pages_not_modified": int, "item_pages_failed": int, "errors": int,
    "error_rate": float, "failures": int, "sections": str, "fill_rates": str, "duration_s": float, "pid": int,
}
_FAILURE_COLUMNS: dict[str, type] = {
    "id": int, "crawl_id": int, "url": str, "record_id": str, "kind": str, "reason": str, "status": int,
    "counted": int, "listing": str, "failed_at": str, "resolved_crawl_id": int, "item_url": str,
}
_REJECT_COLUMNS: dict[str, type] = {
    "id": int, "crawl_id": int, "record_id": str, "url": str, "reason": str, "raw": str, "rejected_at": str,
}
_TABLES = {"crawls": _CRAWL_COLUMNS, "records": _RECORD_COLUMNS, "record_versions": _VERSION_COLUMNS,
           "appearances": _APPEARANCE_COLUMNS, "rejects": _REJECT_COLUMNS, "failures": _FAILURE_COLUMNS}
# Links between the tables (declared, not enforced: a reject's or a failure's record may never have been
# archived). They make a record's page in Datasette link to its appearances, versions and failures.
_FOREIGN_KEYS = [
    *((table, "record_id", "records", "id") for table in ("appearances", "record_versions", "failures", "rejects")),
    *((table, "crawl_id", "crawls", "id") for table in ("appearances", "failures", "rejects")),
    ("record_versions", "replaced_in_crawl_id", "crawls", "id"),
    ("failures", "resolved_crawl_id", "crawls", "id"),
]
# What changed in each crawl, one row per record and change: SELECT * FROM changes WHERE crawl_id = 7
_CHANGES_VIEW = """
SELECT first_crawl_id AS crawl_id, 'new' AS change, id AS record_id, title, url FROM records
UNION ALL
SELECT v.replaced_in_crawl_id, 'changed', v.record_id, r.title, r.url
FROM record_versions v JOIN records r ON r.id = v.record_id
UNION ALL
SELECT gone_crawl_id, 'gone', id, title, url FROM records WHERE gone_crawl_id IS NOT NULL
"""
FILL_FIELDS = ("title", "date_start", "summary", "body", "updated_at")


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
    if path.exists() and not path.is_file():
        raise ArchiveError(f"the archive path {path} is not a regular file; give a file path such as "
                           "exports/portalscraper.sqlite")
    try:
        db = sqlite_utils.Database(path)
        db.execute("PRAGMA busy_timeout = 10000")
        _check_ours(db, path)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.table_names()
    except sqlite3.OperationalError as exc:
        raise ArchiveError(f"cannot open or create the archive {path} ({exc}); check the path and the "
                           "permissions of its folder") from None
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(
            f"{path} is not a usable SQLite archive ({exc}); move it away or choose another path"
        ) from None
    return db


# `PRAGMA application_id` of a portalscraper archive ("PSCA"): tells it from any other SQLite file.
APPLICATION_ID = 0x50534341


def _check_ours(db: sqlite_utils.Database, path: Path) -> None:
    """Refuse a database that is not a portalscraper archive (another program's file that happens to
    have a `records` table is never migrated), and one written by a newer portalscraper."""
    tables = set(db.table_names())
    if not tables:
        return  # new and empty: it becomes an archive
    app_id = db.execute("PRAGMA application_id").fetchone()[0]
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if app_id not in (0, APPLICATION_ID):
        raise ArchiveError(f"{path} is another program's SQLite database (application id {app_id:#x}), not a "
                           "portalscraper archive; choose another --db")
    if version > SCHEMA_VERSION:
        raise ArchiveError(f"{path} was written by a newer portalscraper (archive schema {version}, this one knows "
                           f"{SCHEMA_VERSION}); upgrade portalscraper or choose another --db")
    ours = app_id == APPLICATION_ID or (
        version >= 1 and {"crawls", "records"} <= tables
        and {"content_hash", "first_crawl_id"} <= set(db.table("records").columns_dict))
    if not ours:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise ArchiveError(f"{path} is not a portalscraper archive (it holds the tables {shown}); choose another "
                           "--db, or an empty or new file")


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the archive's tables, indexes, views and full-text index; add columns older archives lack."""
    with db.conn:
        existing = set(db.table_names())
        for name, columns in _TABLES.items():
            table = db.table(name)
            if name in existing:
                have = set(table.columns_dict)
                for column, kind in columns.items():
                    if column not in have:
                        table.add_column(column, kind)
                continue
            pk = {"records": "id", "record_versions": "version_id"}.get(name, "id")
            table.create(columns, pk=pk, not_null={"url"} if name == "records" else None)
        # Archives from before schema 4 get them too (sqlite-utils rebuilds those tables, keeping rowids).
        db.add_foreign_keys(_FOREIGN_KEYS)
        indexes = {
            "records": [["date_start"], ["section"], ["portal"], ["kind"], ["last_crawl_id"], ["gone_crawl_id"],
                        ["first_crawl_id"]],
            "record_versions": [["record_id"], ["replaced_in_crawl_id"]],
            "appearances": [["record_id"], ["crawl_id", "section"]],
            "rejects": [["crawl_id"]],
            "failures": [["crawl_id"], ["record_id"], ["resolved_crawl_id"]],
        }
        for table_name, column_sets in indexes.items():
            for index_columns in column_sets:
                db.table(table_name).create_index(index_columns, if_not_exists=True)
        db.table("appearances").create_index(
            ["crawl_id", "source_url", "section", "position", "record_id"], unique=True, if_not_exists=True
        )
        if "records_fts" not in db.table_names():
            db.table("records").enable_fts(["title", "summary", "body"], create_triggers=False, tokenize="porter")
        # The writer keeps the full-text index in step itself: new and changed texts are queued in
        # fts_pending (in the same transaction as the records) and indexed in bulk (sync_fts). Row
        # triggers re-indexed every upsert, unchanged ones too, one row at a time: several times slower.
        for trigger in ("records_ai", "records_ad", "records_au"):
            db.execute(f"DROP TRIGGER IF EXISTS [{trigger}]")
        db.execute("CREATE TABLE IF NOT EXISTS fts_pending (rowid INTEGER PRIMARY KEY, version_id INTEGER)")
        if "changes" not in db.view_names():
            db.create_view("changes", _CHANGES_VIEW)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")


_APPEARANCE_FIELDS = tuple(c for c in _APPEARANCE_COLUMNS if c != "id")
_APPEARANCE_INSERT = (f"INSERT OR IGNORE INTO appearances ({', '.join(_APPEARANCE_FIELDS)}) "
                      f"VALUES ({', '.join('?' for _ in _APPEARANCE_FIELDS)})")
# The history a record's row starts with; an update keeps the first ones (see _upsert_sql).
_HISTORY_WRITTEN = ("first_seen", "last_seen", "first_crawl_id", "last_crawl_id", "version_since", "version_crawl_id")
_UPSERT_COLUMNS = (*RECORD_FIELDS, *_HISTORY_WRITTEN, *_STATE_COLUMNS)


def _upsert_sql() -> str:
    cols = _UPSERT_COLUMNS
    keep_first = ("id", "first_seen", "first_crawl_id", "version_since", "version_crawl_id")
    kept = ("warc_file", "warc_offset", "capture_url", "capture_time")
    updates = [f"{c} = excluded.{c}" for c in cols if c not in (*keep_first, *kept)]
    # A record rebuilt from the archive (304, failed fetch) keeps the capture it was made from.
    updates += [f"{c} = coalesce(excluded.{c}, records.{c})" for c in kept]
    # A new version starts when the content changes; a record seen again is no longer gone.
    updates += [f"{c} = CASE WHEN records.content_hash IS excluded.content_hash THEN records.{c} ELSE excluded.{c} END"
                for c in ("version_since", "version_crawl_id")]
    updates += ["gone_since = NULL", "gone_crawl_id = NULL"]
    return (
        f"INSERT INTO records ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
        f"ON CONFLICT(id) DO UPDATE SET {', '.join(updates)}"
    )


def _versions_sql(count: int) -> str:
    """Copy the archived versions of `count` records (by id) into record_versions before they are replaced."""
    fields = [name for name in RECORD_FIELDS if name != "id"]
    return (
        f"INSERT INTO record_versions (record_id, {', '.join(fields)}, valid_from, valid_to, first_crawl_id, "
        f"last_crawl_id, replaced_in_crawl_id) "
        f"SELECT id, {', '.join(fields)}, coalesce(version_since, first_seen), last_seen, "
        f"coalesce(version_crawl_id, first_crawl_id), last_crawl_id, ? "
        f"FROM records WHERE id IN ({', '.join('?' for _ in range(count))})"
    )


_COUNTS = ("records", "records_new", "records_changed", "records_unchanged", "records_gone", "appearances", "rejects",
           "failures")


class SQLiteArchive:
    """Buffered writer of one crawl into an archive database.

    Each flush is one transaction holding the buffered rows, the versions they replace and the
    crawl's running counts: a crawl killed at any moment leaves a consistent archive whose crawl
    row says how far it got.
    """

    def __init__(self, path: str | Path, batch_size: int = 500, flush_seconds: float = 5.0,
                 fts_sync_rows: int = 20000) -> None:
        self.path = Path(path)
        self.batch_size = max(1, batch_size)
        self.flush_seconds = flush_seconds
        self.fts_sync_rows = fts_sync_rows
        self.db = open_database(self.path)
        ensure_schema(self.db)
        self._fts_pending = 0
        if self.db.execute("SELECT count(*) FROM fts_pending").fetchone()[0]:
            self.sync_fts()  # left by a crawl that was killed
        self.crawl_id: int | None = None
        self._records: list[tuple[Any, ...]] = []
        self._appearances: list[dict[str, Any]] = []
        self._rejects: list[dict[str, Any]] = []
        self._failures: list[dict[str, Any]] = []
        self._fetched: list[str] = []  # ids of records whose page answered: their failures are settled
        self._last_flush = time.monotonic()
        self._upsert = _upsert_sql()
        self.counts = dict.fromkeys(_COUNTS, 0)

    # -- crawl rows -----------------------------------------------------------------------

    def mark_interrupted(self) -> int:
        """Crawl rows left 'running' by a process that died. Call only while holding the archive's lock."""
        with self.db.conn:
            cursor = self.db.execute("UPDATE crawls SET status = 'interrupted' WHERE status = 'running'")
        return cursor.rowcount

    def begin_crawl(self, spider: str, portal: str, args: Mapping[str, Any], mode: str = "full") -> int:
        with self.db.conn:
            table = self.db.table("crawls").insert(
                {"spider": spider, "portal": portal, "args": _args_json(args), "mode": mode,
                 "started_at": utc_now(), "status": "running", "resumed": 0, "pid": os.getpid(),
                 **self.counts}
            )
        self.crawl_id = int(table.last_pk or 0)
        return self.crawl_id

    def resume_crawl(self, spider: str, portal: str, args: Mapping[str, Any]) -> int | None:
        """Reopen the latest interrupted crawl with the same spider, portal and arguments, if any."""
        row = next(self.db.table("crawls").rows_where(
            "spider = ? AND portal = ? AND args = ? AND status = 'interrupted'",
            [spider, portal, _args_json(args)], order_by="id desc", limit=1), None)
        if row is None:
            return None
        self.crawl_id = int(row["id"])
        self.counts = {name: int(row.get(name) or 0) for name in _COUNTS}
        with self.db.conn:
            self.db.table("crawls").update(self.crawl_id, {"status": "running", "resumed": int(row["resumed"] or 0) + 1,
                                                           "pid": os.getpid()})
        return self.crawl_id

    def crawl_row(self, crawl_id: int | None = None) -> dict[str, Any]:
        wanted = crawl_id or self.crawl_id
        assert wanted is not None, "no crawl begun"
        return dict(self.db.table("crawls").get(wanted))

    def mark_gone(self, portal: str, language: str) -> int:
        """After a complete pass: records of the portal and language listed nowhere in this crawl are gone.

        Records are never deleted; one listed again later is no longer gone (see the upsert).
        """
        self.flush()
        with self.db.conn:
            cursor = self.db.execute(
                "UPDATE records SET gone_since = ?, gone_crawl_id = ? WHERE portal = ? AND language = ? "
                "AND gone_since IS NULL AND id NOT IN (SELECT record_id FROM appearances WHERE crawl_id = ?)",
                [utc_now(), self.crawl_id, portal, language, self.crawl_id],
            )
            self.counts["records_gone"] += cursor.rowcount
            self._save_counts()
        return cursor.rowcount

    def settle_listing_failures(self) -> int:
        """After a complete pass every listing page answered: earlier listing failures are settled."""
        self.flush()
        with self.db.conn:
            cursor = self.db.execute(
                "UPDATE failures SET resolved_crawl_id = ? WHERE resolved_crawl_id IS NULL AND kind = 'listing' "
                "AND crawl_id IN (SELECT id FROM crawls WHERE portal = (SELECT portal FROM crawls WHERE id = ?))",
                [self.crawl_id, self.crawl_id])
        return cursor.rowcount

    def crawl_profile(self, crawl_id: int | None = None) -> dict[str, Any]:
        """Items per section (from appearances) and field fill rates (of the records seen) in one crawl."""
        crawl_id = crawl_id or self.crawl_id
        sections = dict(self.db.execute(
            "SELECT section, count(DISTINCT record_id) FROM appearances WHERE crawl_id = ? GROUP BY section "
            "ORDER BY section", [crawl_id]).fetchall())
        filled = ", ".join(f"count(nullif({name}, ''))" for name in FILL_FIELDS)
        total, *counts = self.db.execute(
            f"SELECT count(*), {filled} FROM records WHERE last_crawl_id = ?", [crawl_id]).fetchone()
        rates = {name: round(n / total, 4) for name, n in zip(FILL_FIELDS, counts, strict=True)} if total else {}
        return {"sections": sections, "fill_rates": rates, "records_seen": total}

    def finish_crawl(self, status: str, finish_reason: str, values: Mapping[str, Any]) -> None:
        self.flush()
        self.sync_fts()
        if self.crawl_id is None:
            return
        row = self.crawl_row()
        started = dt.datetime.fromisoformat(row["started_at"])
        finished = dt.datetime.now(dt.UTC)
        with self.db.conn:
            self.db.table("crawls").update(self.crawl_id, {
                **self.counts, **{k: v for k, v in values.items() if k in _CRAWL_COLUMNS},
                "finished_at": finished.isoformat(timespec="seconds"), "status": status,
                "finish_reason": finish_reason, "duration_s": round((finished - started).total_seconds(), 3),
            })

    def finish_crawl_alarm(self, exit_code: int, alarms: list[str]) -> None:
        """A finished crawl's verdict, amended (a failure found after it was judged)."""
        assert self.crawl_id is not None, "no crawl begun"
        with self.db.conn:
            self.db.table("crawls").update(self.crawl_id, {"exit_code": exit_code,
                                                           "alarms": json.dumps(alarms, ensure_ascii=False)})

    # -- buffered writes --------------------------------------------------------------------

    def add_record(self, row: Mapping[str, Any], state: Mapping[str, Any] | None = None) -> None:
        """Buffer a record (its exported fields) with what is kept beside it (items.PageState)."""
        now, crawl_id = utc_now(), self.crawl_id
        state = state or {}
        history = {"first_seen": now, "last_seen": now, "first_crawl_id": crawl_id, "last_crawl_id": crawl_id,
                   "version_since": now, "version_crawl_id": crawl_id}
        values = {**row, "provenance": json.dumps(row.get("provenance") or {}, ensure_ascii=False), **history,
                  **{c: state.get(c) for c in _STATE_COLUMNS}}
        self._records.append(tuple(values.get(c) for c in _UPSERT_COLUMNS))
        if state.get("page_fetched"):
            self._fetched.append(row["id"])
        self._maybe_flush()

    def add_failure(self, row: Mapping[str, Any]) -> None:
        """Buffer a page that could not be fetched (see items.FetchFailure)."""
        listing = row.get("listing")
        self._failures.append({
            "crawl_id": self.crawl_id, "url": row["url"], "record_id": row.get("record_id"), "kind": row["kind"],
            "reason": row["reason"], "status": row.get("status"), "counted": int(bool(row.get("counted", True))),
            "listing": json.dumps(listing, ensure_ascii=False) if listing else None,
            "failed_at": row.get("failed_at") or utc_now(), "item_url": row.get("item_url"),
        })
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

    def flush_if_due(self) -> None:
        """Commit what is buffered if the last commit is older than `flush_seconds`."""
        if time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def _maybe_flush(self) -> None:
        pending = len(self._records) + len(self._appearances) + len(self._rejects) + len(self._failures)
        if pending >= self.batch_size or time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Commit everything buffered, the versions it replaces and the running counts, in one transaction."""
        self._last_flush = time.monotonic()
        if not (self._records or self._appearances or self._rejects or self._failures):
            return
        records = [_resolved(r) for r in self._records]  # each record's raw capture written first
        appearances, rejects, failures = self._appearances, self._rejects, self._failures
        fetched = self._fetched
        self._records, self._appearances, self._rejects, self._failures, self._fetched = [], [], [], [], []
        counts = dict(self.counts)
        logger.debug("Committing crawl %s: %d records, %d appearances", self.crawl_id, len(records), len(appearances))
        try:
            with self.db.conn:
                if records:
                    new, changed = self._count_changes(records)
                    for chunk in _chunks(changed):
                        marks = ", ".join("?" for _ in chunk)
                        self.db.execute(_versions_sql(len(chunk)), [self.crawl_id, *chunk])
                        # The index holds the replaced version: queue it to be taken out, the new one in.
                        self.db.execute(f"INSERT OR IGNORE INTO fts_pending (rowid, version_id) SELECT r.rowid, "
                                        f"max(v.version_id) FROM records r JOIN record_versions v ON v.record_id = "
                                        f"r.id WHERE r.id IN ({marks}) GROUP BY r.rowid", chunk)
                    self.db.conn.executemany(self._upsert, records)
                    for chunk in _chunks(new):
                        self.db.execute(f"INSERT OR IGNORE INTO fts_pending (rowid, version_id) SELECT rowid, NULL "
                                        f"FROM records WHERE id IN ({', '.join('?' for _ in chunk)})", chunk)
                    self._fts_pending += len(new) + len(changed)
                if appearances:
                    before = self.db.conn.total_changes
                    self.db.conn.executemany(_APPEARANCE_INSERT, [[a.get(c) for c in _APPEARANCE_FIELDS]
                                                                  for a in appearances])
                    self.counts["appearances"] += self.db.conn.total_changes - before
                if rejects:
                    self.db.table("rejects").insert_all(rejects)
                if failures:
                    self.db.table("failures").insert_all(failures)
                for chunk in _chunks(fetched):  # pages that answered settle their failures
                    self.db.execute(
                        f"UPDATE failures SET resolved_crawl_id = ? WHERE resolved_crawl_id IS NULL AND kind = 'item' "
                        f"AND record_id IN ({', '.join('?' for _ in chunk)})", [self.crawl_id, *chunk])
                self.counts["records"] += len(records)
                self.counts["rejects"] += len(rejects)
                self.counts["failures"] += len(failures)
                self._save_counts()
        except BaseException:
            self.counts = counts  # the transaction was rolled back: so are its counts
            raise
        logger.debug("Committed crawl %s: %d records so far", self.crawl_id, self.counts["records"])
        if self._fts_pending >= self.fts_sync_rows:
            self.sync_fts()

    def sync_fts(self) -> int:
        """Bring the full-text index up to date with the queued new and changed records, in bulk."""
        with self.db.conn:
            self.db.execute("INSERT INTO records_fts (records_fts, rowid, title, summary, body) "
                            "SELECT 'delete', p.rowid, v.title, v.summary, v.body FROM fts_pending p "
                            "JOIN record_versions v ON v.version_id = p.version_id")
            cursor = self.db.execute("INSERT INTO records_fts (rowid, title, summary, body) "
                                     "SELECT r.rowid, r.title, r.summary, r.body FROM fts_pending p "
                                     "JOIN records r ON r.rowid = p.rowid")
            self.db.execute("DELETE FROM fts_pending")
        self._fts_pending = 0
        return cursor.rowcount

    def _save_counts(self) -> None:
        if self.crawl_id is not None:
            self.db.execute(f"UPDATE crawls SET {', '.join(f'{c} = ?' for c in _COUNTS)} WHERE id = ?",
                            [*(self.counts[c] for c in _COUNTS), self.crawl_id])

    def _count_changes(self, records: list[tuple[Any, ...]]) -> tuple[list[str], list[str]]:
        """Count new, changed and unchanged records of a batch; return the ids of the new ones and
        of the changed ones (archived with other content), each once."""
        id_at, hash_at = RECORD_FIELDS.index("id"), RECORD_FIELDS.index("content_hash")
        ids = [r[id_at] for r in records]
        known: dict[str, str] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" for _ in chunk)
            known.update(self.db.execute(f"SELECT id, content_hash FROM records WHERE id IN ({marks})",
                                         chunk).fetchall())
        archived = set(known)
        new: dict[str, None] = {}
        changed: dict[str, None] = {}
        for r in records:
            rid = r[id_at]
            if rid not in known:
                self.counts["records_new"] += 1
                new[rid] = None
            elif known[rid] != r[hash_at]:
                self.counts["records_changed"] += 1
                if rid in archived:
                    changed[rid] = None
            else:
                self.counts["records_unchanged"] += 1
            known[rid] = r[hash_at]
        return list(new), list(changed)

    def rollback(self) -> None:
        """Forget what is buffered and not committed (the archive cannot take it: disk full)."""
        self._records, self._appearances, self._rejects, self._failures, self._fetched = [], [], [], [], []
        if self.db.conn.in_transaction:
            self.db.conn.rollback()

    def close(self) -> None:
        self.flush()
        self.db.close()


_WARC_OFFSET_AT = _UPSERT_COLUMNS.index("warc_offset")


def _resolved(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A record's row with its WARC offset known: the WARC writer's future, waited for."""
    offset = row[_WARC_OFFSET_AT]
    if not isinstance(offset, Future):
        return row
    return (*row[:_WARC_OFFSET_AT], offset.result(), *row[_WARC_OFFSET_AT + 1:])


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    """Slices small enough for one SQL statement's parameters."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _args_json(args: Mapping[str, Any]) -> str:
    return json.dumps(dict(args), ensure_ascii=False, sort_keys=True)


def iter_records(db: sqlite_utils.Database, portal: str | None = None) -> Iterator[dict[str, Any]]:
    """Archived records in a stable order (date, then id), with provenance decoded."""
    where, params = ("portal = ?", [portal]) if portal else (None, None)
    select = ", ".join(RECORD_FIELDS)
    for row in db.table("records").rows_where(where, params, order_by="date_start desc, id", select=select):
        row["provenance"] = json.loads(row["provenance"]) if row.get("provenance") else {}
        yield row
