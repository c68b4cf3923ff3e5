"""Whole-archive exports from SQLite: one JSON document, JSON Lines, or CSV."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import IO, Any

import sqlite_utils

from portalscraper.archive.jsonl import dumps
from portalscraper.archive.schema import ArchiveError, close_database, open_database
from portalscraper.archive.sqlite import iter_records
from portalscraper.items import RECORD_FIELDS

EXPORT_FORMATS = ("json", "jsonl", "csv")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula (`=HYPERLINK(...)`, `+1`, `@SUM`) is
    prefixed with an apostrophe, which spreadsheets show as text (OWASP's advice for CSV
    injection). Only CSV output is changed: the archive keeps the text as published."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def export(db: sqlite_utils.Database, out: IO[str], fmt: str, portal: str | None = None) -> int:
    """Write the archive's records to `out` as one JSON document, JSON Lines, or CSV."""
    if fmt not in EXPORT_FORMATS:
        raise ArchiveError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    if "records" not in db.table_names():
        raise ArchiveError("the database has no records table: is it a portalscraper archive?")
    count = 0
    if fmt == "jsonl":
        for row in iter_records(db, portal):
            out.write(dumps(row) + "\n")
            count += 1
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(RECORD_FIELDS))
        writer.writeheader()
        for row in iter_records(db, portal):
            row = {**row, "provenance": json.dumps(row["provenance"], ensure_ascii=False)}
            writer.writerow({key: csv_cell(value) for key, value in row.items()})
            count += 1
    else:
        crawls = list(db.table("crawls").rows_where(order_by="id")) if "crawls" in db.table_names() else []
        out.write('{"exported_at":' + json.dumps(dt.datetime.now(dt.UTC).isoformat(timespec="seconds")))
        out.write(',"portal":' + json.dumps(portal) + ',"crawls":' + json.dumps(crawls, ensure_ascii=False))
        out.write(',"records":[')
        for row in iter_records(db, portal):
            out.write(("," if count else "") + "\n" + dumps(row))
            count += 1
        out.write("\n]," + f'"count":{count}' + "}\n")
    return count


def overview(path: str | Path) -> dict[str, Any]:
    """An archive at a glance: records per section (most first), and the first and last item dates."""
    db = open_database(path)
    try:
        sections = dict(db.execute("SELECT section, count(*) FROM records GROUP BY section "
                                   "ORDER BY count(*) DESC, section").fetchall())
        first, last = db.execute("SELECT min(date_start), max(date_start) FROM records").fetchone()
    finally:
        close_database(db)
    return {"sections": sections, "first_date": first, "last_date": last}
