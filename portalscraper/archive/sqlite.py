"""The SQLite archive's writer (through sqlite-utils): records, appearances, crawls, rejects; usable
without Scrapy.

Writes are buffered and committed in batches, one transaction each; the journal is WAL so
readers can query during a crawl. The tables are archive/schema.py's.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import sqlite_utils

from portalscraper import settings as defaults
from portalscraper.archive.schema import (
    APPEARANCE_COLUMNS,
    CRAWL_COLUMNS,
    STATE_COLUMNS,
    ArchiveError,
    close_database,
    ensure_schema,
    fts_in_step,
    open_database,
)
from portalscraper.items import RECORD_FIELDS

logger = logging.getLogger(__name__)

FILL_FIELDS = ("title", "date_start", "summary", "body", "updated_at")


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


__all__ = ["FILL_FIELDS", "ArchiveError", "SQLiteArchive", "ensure_schema", "iter_records", "open_database",
           "utc_now"]


_APPEARANCE_FIELDS = tuple(c for c in APPEARANCE_COLUMNS if c != "id")
_APPEARANCE_INSERT = (f"INSERT OR IGNORE INTO appearances ({', '.join(_APPEARANCE_FIELDS)}) "
                      f"VALUES ({', '.join('?' for _ in _APPEARANCE_FIELDS)})")
# The history a record's row starts with; an update keeps the first ones (see _upsert_sql).
_HISTORY_WRITTEN = ("first_seen", "last_seen", "first_crawl_id", "last_crawl_id", "version_since", "version_crawl_id")
_UPSERT_COLUMNS = (*RECORD_FIELDS, *_HISTORY_WRITTEN, *STATE_COLUMNS)


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

    def __init__(self, path: str | Path, batch_size: int = defaults.ARCHIVE_BATCH_SIZE,
                 flush_seconds: float = defaults.ARCHIVE_FLUSH_SECONDS,
                 fts_sync_rows: int = defaults.ARCHIVE_FTS_SYNC_ROWS, db: sqlite_utils.Database | None = None,
                 fixed_time: str | None = None) -> None:
        """`db`: the archive, opened already (open_database); `fixed_time`: the time of every row
        written, instead of now (a crawl rebuilt from its WARC files is stamped with its own start)."""
        self.path = Path(path)
        self.batch_size = max(1, batch_size)
        self.flush_seconds = flush_seconds
        self.fts_sync_rows = fts_sync_rows
        self.fixed_time = fixed_time
        self.db = db if db is not None else open_database(self.path)
        ensure_schema(self.db)
        self._fts_pending = 0
        self._fts_indexed = 0  # records indexed since the last merge of the index (see _merge_fts)
        if self.db.execute("SELECT count(*) FROM fts_pending").fetchone()[0]:
            self.sync_fts()  # left by a crawl that was killed
        if not fts_in_step(self.db):
            self.rebuild_fts()
        self.crawl_id: int | None = None
        self._records: list[tuple[Any, ...]] = []
        self._appearances: list[dict[str, Any]] = []
        self._rejects: list[dict[str, Any]] = []
        self._failures: list[dict[str, Any]] = []
        self._fetched: list[str] = []  # ids of records whose page answered: their failures are settled
        self._last_flush = time.monotonic()
        self._upsert = _upsert_sql()
        self.counts = dict.fromkeys(_COUNTS, 0)
        self._began: float | None = None  # time.monotonic() when this process began or resumed the crawl

    def now(self) -> str:
        return self.fixed_time or utc_now()

    # -- crawl rows -----------------------------------------------------------------------

    def mark_interrupted(self) -> int:
        """Crawl rows left 'running' by a process that died. Call only while holding the archive's lock."""
        with self.db.conn:
            cursor = self.db.execute("UPDATE crawls SET status = 'interrupted' WHERE status = 'running'")
        return cursor.rowcount

    def begin_crawl(self, spider: str, portal: str, args: Mapping[str, Any], mode: str = "full",
                    crawl_id: int | None = None) -> int:
        """A new crawl row; its id is `crawl_id` if that is later than every crawl's in the archive
        (a rebuilt crawl keeps its own), the next one otherwise."""
        with self.db.conn:
            latest = self.db.execute("SELECT max(id) FROM crawls").fetchone()[0] or 0
            table = self.db.table("crawls").insert(
                {**({"id": crawl_id} if crawl_id and crawl_id > latest else {}),
                 "spider": spider, "portal": portal, "args": _args_json(args), "mode": mode,
                 "started_at": self.now(), "status": "running", "resumed": 0, "pid": os.getpid(),
                 **self.counts}
            )
        self.crawl_id = int(table.last_pk or 0)
        self._began = time.monotonic()
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
        self._began = time.monotonic()
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
                [self.now(), self.crawl_id, portal, language, self.crawl_id],
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
        self._merge_fts()
        if self.crawl_id is None:
            return
        row = self.crawl_row()
        started = dt.datetime.fromisoformat(row["started_at"])
        finished = dt.datetime.fromisoformat(values.get("finished_at") or utc_now())
        duration = (finished - started).total_seconds()  # the stamps are to the second: a short crawl reads 0
        if not values.get("finished_at") and self._began is not None:
            duration = max(duration, time.monotonic() - self._began)
        with self.db.conn:
            self.db.table("crawls").update(self.crawl_id, {
                **self.counts, **{k: v for k, v in values.items() if k in CRAWL_COLUMNS},
                "finished_at": finished.isoformat(timespec="seconds"), "status": status,
                "finish_reason": finish_reason, "duration_s": round(duration, 3),
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
        now, crawl_id = self.now(), self.crawl_id
        state = state or {}
        history = {"first_seen": now, "last_seen": now, "first_crawl_id": crawl_id, "last_crawl_id": crawl_id,
                   "version_since": now, "version_crawl_id": crawl_id}
        values = {**row, "provenance": json.dumps(row.get("provenance") or {}, ensure_ascii=False), **history,
                  **{c: state.get(c) for c in STATE_COLUMNS}}
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
            "failed_at": self.fixed_time or row.get("failed_at") or utc_now(), "item_url": row.get("item_url"),
        })
        self._maybe_flush()

    def add_appearance(self, row: Mapping[str, Any]) -> None:
        self._appearances.append({**row, "crawl_id": self.crawl_id, **({"seen_at": self.fixed_time} if self.fixed_time
                                                                         else {})})
        self._maybe_flush()

    def add_reject(self, record_id: str | None, url: str | None, reason: str, raw: Mapping[str, Any]) -> None:
        self._rejects.append({
            "crawl_id": self.crawl_id, "record_id": record_id, "url": url, "reason": reason,
            "raw": json.dumps(dict(raw), ensure_ascii=False, default=str), "rejected_at": self.now(),
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
        records = self._records
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
        self._fts_indexed += cursor.rowcount
        return cursor.rowcount

    def _merge_fts(self) -> None:
        """At the end of a crawl that indexed a good part of the archive (at least one record in
        ten), merge the full-text index's segments into one. The index grows by a segment per sync
        (one per ARCHIVE_FTS_SYNC_ROWS records) and by the replaced texts' deletions; a ranked
        search reads every segment's entries of each word, up to two or three times as slow as on one merged
        segment. The merge rewrites the whole index: a smaller crawl leaves its segments to FTS5's
        own merging, which keeps their number small."""
        if not self._fts_indexed:
            return
        indexed, self._fts_indexed = self._fts_indexed, 0
        (total,) = self.db.execute("SELECT count(*) FROM records").fetchone()
        if indexed * 10 < total:
            return
        started = time.monotonic()
        with self.db.conn:
            self.db.execute("INSERT INTO records_fts (records_fts) VALUES ('optimize')")
        logger.info("Full-text index of %d records merged into one segment in %.1f s", total,
                    time.monotonic() - started)

    def rebuild_fts(self) -> None:
        """Index every record again, in one transaction (readers search the old index meanwhile):
        for an index out of step with the records (rows written by other means, an index emptied)."""
        logger.warning("The full-text index of %s is out of step with its records: rebuilding it", self.path)
        with self.db.conn:
            self.db.execute("INSERT INTO records_fts (records_fts) VALUES ('rebuild')")
            self.db.execute("DELETE FROM fts_pending")
        self._fts_pending = 0

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
        close_database(self.db)


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
