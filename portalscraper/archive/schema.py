"""The archive's database: its tables, how a new one is made and an older one brought up to date.

Readers never see the archive half made, and nothing here takes it away from them:

- a new archive appears whole: it is made in a temporary file beside it (every table, index,
  view and the full-text index, in WAL mode) and linked into place in one step;
- an archive of an older schema is brought up to date in one transaction (readers go on reading
  the old tables until it commits), and only when its schema version says it must be;
- nothing rewrites the whole file behind the readers' backs (no VACUUM, no change of journal
  mode on an archive already in WAL mode);
- closing a connection never locks readers out: SQLite's last connection to close would take the
  whole file to checkpoint and delete the WAL, and a reader opening it then gets "database is
  locked"; the WAL is emptied beforehand by a checkpoint that waits for readers instead of
  stopping them (`close_database`), and the closing connection does not checkpoint
  (`keep_wal_on_close`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import secrets
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import sqlite_utils
from sqlite_utils.db import COLUMN_TYPE_MAPPING

from portalscraper.items import RECORD_FIELDS, PageState

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 4
# `PRAGMA application_id` of a portalscraper archive ("PSCA"): tells it from any other SQLite file.
APPLICATION_ID = 0x50534341

# Each record's history, kept beside it by the archive.
HISTORY_COLUMNS: dict[str, type] = {
    "first_seen": str, "last_seen": str, "first_crawl_id": int, "last_crawl_id": int,
    "version_since": str, "version_crawl_id": int, "gone_since": str, "gone_crawl_id": int,
}
# What the crawl keeps of each record's page for the next crawls (items.PageState), but whether it
# answered this time, which only settles failures.
STATE_COLUMNS: dict[str, type] = {f.name: int if "int" in str(f.type) else str for f in fields(PageState)
                                  if f.name != "page_fetched"}
RECORD_COLUMNS: dict[str, type] = {name: str for name in RECORD_FIELDS} | HISTORY_COLUMNS | STATE_COLUMNS
VERSION_COLUMNS: dict[str, type] = {"version_id": int, "record_id": str} | {
    name: str for name in RECORD_FIELDS if name != "id"} | {
    "valid_from": str, "valid_to": str, "first_crawl_id": int, "last_crawl_id": int, "replaced_in_crawl_id": int}
APPEARANCE_COLUMNS: dict[str, type] = {
    "id": int, "crawl_id": int, "record_id": str, "url": str, "source_url": str, "section": str,
    "position": int, "date_text": str, "title": str, "seen_at": str, "capture_url": str, "capture_time": str,
    "page_url": str,
}
CRAWL_COLUMNS: dict[str, type] = {
    "id": int, "spider": str, "portal": str, "args": str, "mode": str, "started_at": str, "finished_at": str,
    "status": str, "finish_reason": str, "exit_code": int, "alarms": str, "complete": int, "resumed": int,
    "records": int, "records_new": int, "records_changed": int, "records_unchanged": int, "records_gone": int,
    "appearances": int, "rejects": int, "duplicates": int, "requests": int, "responses": int, "bytes": int,
    "item_pages_fetched": int, "item_pages_not_modified": int, "item_pages_failed": int, "errors": int,
    "error_rate": float, "failures": int, "sections": str, "fill_rates": str, "duration_s": float, "pid": int,
}
FAILURE_COLUMNS: dict[str, type] = {
    "id": int, "crawl_id": int, "url": str, "record_id": str, "kind": str, "reason": str, "status": int,
    "counted": int, "listing": str, "failed_at": str, "resolved_crawl_id": int, "item_url": str,
}
REJECT_COLUMNS: dict[str, type] = {
    "id": int, "crawl_id": int, "record_id": str, "url": str, "reason": str, "raw": str, "rejected_at": str,
}
# In the order they are made: a table's foreign keys name tables made before it.
TABLES = {"crawls": CRAWL_COLUMNS, "records": RECORD_COLUMNS, "record_versions": VERSION_COLUMNS,
          "appearances": APPEARANCE_COLUMNS, "rejects": REJECT_COLUMNS, "failures": FAILURE_COLUMNS}
_PRIMARY_KEYS = {"record_versions": "version_id"}
# Links between the tables (declared, not enforced: a reject's or a failure's record may never have been
# archived). They make a record's page in Datasette link to its appearances, versions and failures.
FOREIGN_KEYS = [
    *((table, "record_id", "records", "id") for table in ("appearances", "record_versions", "failures", "rejects")),
    *((table, "crawl_id", "crawls", "id") for table in ("appearances", "failures", "rejects")),
    ("record_versions", "replaced_in_crawl_id", "crawls", "id"),
    ("failures", "resolved_crawl_id", "crawls", "id"),
]
# Every facet `portalscraper serve` shows on the records table (section, kind, language) is counted
# from an index, not from a million rows of text; see also _EXPRESSION_INDEXES.
_INDEXES = {
    "records": [["date_start"], ["section"], ["portal"], ["kind"], ["language"], ["last_crawl_id"], ["gone_crawl_id"],
                ["first_crawl_id"]],
    "record_versions": [["record_id"], ["replaced_in_crawl_id"]],
    "appearances": [["record_id"], ["crawl_id"], ["crawl_id", "section"]],
    "rejects": [["crawl_id"]],
    "failures": [["crawl_id"], ["record_id"], ["resolved_crawl_id"]],
}
_UNIQUE_INDEXES = {"appearances": [["crawl_id", "source_url", "section", "position", "record_id"]]}
# Indexes on expressions, as the canned queries and the charts spell them (SQLite uses one only for
# the same expression): a crawl's appearances on one page, its homepage above all; records per
# month, counted in the index's order (with the date itself, so that a query that also reads the
# date, as items_per_month does, needs no row).
_EXPRESSION_INDEXES = {"idx_appearances_crawl_id_page": ("appearances", "crawl_id, coalesce(page_url, source_url)"),
                       "idx_records_month": ("records", "substr(date_start, 1, 7), date_start")}
# What changed in each crawl, one row per record and change: SELECT * FROM changes WHERE crawl_id = 7
CHANGES_VIEW = """
SELECT first_crawl_id AS crawl_id, 'new' AS change, id AS record_id, title, url FROM records
UNION ALL
SELECT v.replaced_in_crawl_id, 'changed', v.record_id, r.title, r.url
FROM record_versions v JOIN records r ON r.id = v.record_id
UNION ALL
SELECT gone_crawl_id, 'gone', id, title, url FROM records WHERE gone_crawl_id IS NOT NULL
"""
# The full-text index: over the records' texts, kept in step by the writer (see SQLiteArchive.sync_fts).
_FTS_SQL = ('CREATE VIRTUAL TABLE "records_fts" USING FTS5 (\n    "title", "summary", "body",\n'
            "    tokenize='porter',\n    content=\"records\"\n)")
_FTS_PENDING_SQL = "CREATE TABLE IF NOT EXISTS fts_pending (rowid INTEGER PRIMARY KEY, version_id INTEGER)"
_OBJECTS = {*TABLES, "records_fts", "fts_pending", "changes"}


class ArchiveError(Exception):
    """The archive file cannot be opened or written."""


def open_database(path: str | Path) -> sqlite_utils.Database:
    """Open an archive database, checked and in WAL mode; a new one is made whole first (see above)."""
    path = Path(path)
    _check_path(path)
    try:
        if not path.exists():
            _create(path)
        db = sqlite_utils.Database(path)
        keep_wal_on_close(db.conn)
        db.execute("PRAGMA busy_timeout = 10000")
        _check_ours(db, path)
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute("PRAGMA journal_mode = WAL")  # an empty file, or one made elsewhere
        db.execute("PRAGMA synchronous = NORMAL")
    except (sqlite3.OperationalError, OSError) as exc:
        raise ArchiveError(f"cannot open or create the archive {path} ({_why(exc)}); check the path and the "
                           "permissions of its folder") from None
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(
            f"{path} is not a usable SQLite archive ({exc}); move it away or choose another path"
        ) from None
    return db


def close_database(db: sqlite_utils.Database) -> None:
    """Close an archive's connection without locking readers out (see above): the WAL is first
    copied into the database and emptied, waiting a little for readers still on older pages."""
    with contextlib.suppress(sqlite3.Error):  # a full disk, a reader that keeps its snapshot: left as is
        db.execute("PRAGMA busy_timeout = 2000")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


# SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, from sqlite3.h (Python 3.12 names it in its sqlite3 module).
_NO_CKPT_ON_CLOSE = 1006


def keep_wal_on_close(conn: sqlite3.Connection) -> bool:
    """Tell SQLite not to checkpoint when `conn` closes, which takes an exclusive lock on the whole
    file if no other connection is open at that moment. Python 3.12 has Connection.setconfig for
    it; on CPython 3.11 the connection's `sqlite3 *` handle (the field after the object's header)
    is handed to sqlite3_db_config through ctypes, on Linux only (where a variadic C function takes
    its integer arguments as any other). False where neither works: closing then may lock readers
    out for a moment, as before."""
    setconfig = getattr(conn, "setconfig", None)
    if setconfig is not None:
        setconfig(getattr(sqlite3, "SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE", _NO_CKPT_ON_CLOSE), True)
        return True
    if sys.implementation.name != "cpython" or sys.version_info[:2] != (3, 11) or sys.platform != "linux":
        return False
    import _sqlite3

    try:
        db_config = ctypes.CDLL(_sqlite3.__file__).sqlite3_db_config
    except (OSError, AttributeError):  # SQLite linked in statically, without its symbols
        return False
    handle = ctypes.c_void_p.from_address(id(conn) + object.__basicsize__)
    done = ctypes.c_int(-1)
    return db_config(handle, _NO_CKPT_ON_CLOSE, ctypes.c_int(1), ctypes.byref(done)) == 0 and done.value == 1


def _why(exc: BaseException) -> str:
    return exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)


def _check_path(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchiveError(f"cannot create the folder for the archive {path}: {exc.strerror}") from None
    if path.is_dir():
        raise ArchiveError(f"the archive path {path} is a folder; give a file path such as {path / 'archive.sqlite'}")
    if path.exists() and not path.is_file():
        raise ArchiveError(f"the archive path {path} is not a regular file; give a file path such as "
                           "exports/portalscraper.sqlite")


def _create(path: Path) -> None:
    """Make a new archive whole in a temporary file beside `path`, then link it into place: a
    reader never finds the file without its tables. Another process that made it first wins."""
    temp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.new")
    os.close(os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))  # the umask's permissions, as a plain open
    try:
        db = sqlite_utils.Database(temp)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            ensure_schema(db)
        finally:
            db.close()  # its WAL checkpointed and removed: one file to link
        try:
            os.link(temp, path)
        except FileExistsError:
            pass  # made meanwhile by another crawl: that one is the archive
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK):
                raise
            # A file system without hard links: the schema is made in place instead, in one
            # transaction (a reader that opens the file meanwhile finds it empty).
            logger.debug("No hard links in %s (%s): the archive is made in place", path.parent, exc.strerror)
    finally:
        for leftover in (temp, temp.with_name(temp.name + "-wal"), temp.with_name(temp.name + "-shm")):
            leftover.unlink(missing_ok=True)


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


def schema_is_current(db: sqlite_utils.Database) -> bool:
    """The archive is of this schema version and has all its tables: nothing to do."""
    version, app_id = (db.execute(f"PRAGMA {name}").fetchone()[0] for name in ("user_version", "application_id"))
    names = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view', 'index')")}
    return version == SCHEMA_VERSION and app_id == APPLICATION_ID and names >= _OBJECTS | set(_index_names())


def _index_names() -> Iterator[str]:
    """The names of the archive's own indexes: one missing (an archive of an earlier release of this
    schema) is made when a crawl next opens it. Indexes change no table, so the version stays."""
    for indexes in (_INDEXES, _UNIQUE_INDEXES):
        for name, column_sets in indexes.items():
            yield from (f"idx_{name}_{'_'.join(indexed)}" for indexed in column_sets)
    yield from _EXPRESSION_INDEXES


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Make the archive's tables, indexes, views and full-text index, and add what an archive of an
    older schema lacks: in one transaction, and only if the archive is not of this schema already."""
    if schema_is_current(db):
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        _migrate(db)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _migrate(db: sqlite_utils.Database) -> None:
    """Every statement through `execute`, in the caller's transaction (sqlite-utils' own table
    changes would commit on their own, one by one, and VACUUM the file)."""
    existing = set(db.table_names())
    if "changes" in db.view_names():
        db.execute("DROP VIEW changes")  # made again below: it reads tables that may be rebuilt
    for name, columns in TABLES.items():
        wanted = [fk[1:] for fk in FOREIGN_KEYS if fk[0] == name]
        if name not in existing:
            db.execute(db.create_table_sql(name, columns, pk=_PRIMARY_KEYS.get(name, "id"), foreign_keys=wanted,
                                           not_null={"url"} if name == "records" else None))
            continue
        table = db.table(name)
        have = set(table.columns_dict)
        for column, kind in columns.items():
            if column not in have:
                db.execute(f'ALTER TABLE "{name}" ADD COLUMN "{column}" {COLUMN_TYPE_MAPPING[kind]}')
        linked = {(fk.column, fk.other_table, fk.other_column) for fk in table.foreign_keys}
        if missing := [fk for fk in wanted if fk not in linked]:
            # Archives from before schema 4: the table is made again with them, keeping its rowids.
            for sql in table.transform_sql(add_foreign_keys=missing):
                db.execute(sql)
    for unique, indexes in ((False, _INDEXES), (True, _UNIQUE_INDEXES)):
        for name, column_sets in indexes.items():
            for indexed in column_sets:
                db.execute(f'CREATE {"UNIQUE " if unique else ""}INDEX IF NOT EXISTS "idx_{name}_{"_".join(indexed)}" '
                           f'ON "{name}" ({", ".join(indexed)})')
    for index, (table_name, expressions) in _EXPRESSION_INDEXES.items():
        db.execute(f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table_name}" ({expressions})')
    # The writer keeps the full-text index in step itself: new and changed texts are queued in
    # fts_pending (in the same transaction as the records) and indexed in bulk (sync_fts). Row
    # triggers re-indexed every upsert, unchanged ones too, one row at a time: several times slower.
    for trigger in ("records_ai", "records_ad", "records_au"):
        db.execute(f'DROP TRIGGER IF EXISTS "{trigger}"')
    db.execute(_FTS_PENDING_SQL)
    if "records_fts" not in existing:
        db.execute(_FTS_SQL)
        db.execute("INSERT INTO records_fts (records_fts) VALUES ('rebuild')")
        db.execute("DELETE FROM fts_pending")
    db.execute(f"CREATE VIEW changes AS {CHANGES_VIEW}")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def fts_in_step(db: sqlite_utils.Database) -> bool:
    """Does the full-text index hold one entry per record (as the writer keeps it)? Cheap: two counts."""
    records, indexed = db.execute("SELECT (SELECT count(*) FROM records), "
                                  "(SELECT count(*) FROM records_fts_docsize)").fetchone()
    return bool(records == indexed)
