"""Whole-archive exports from SQLite: one JSON document, JSON Lines, or CSV."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import sqlite_utils

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
        for lines in record_lines(db, portal):
            out.write("\n".join(lines) + "\n")
            count += len(lines)
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
        for lines in record_lines(db, portal):
            out.write(("," if count else "") + "\n" + ",\n".join(lines))
            count += len(lines)
        out.write("\n]," + f'"count":{count}' + "}\n")
    return count


def record_lines(db: sqlite_utils.Database, portal: str | None = None,
                 batch: int = 500) -> Iterator[list[str]]:
    """The records of `iter_records`, in its order, as the JSON texts `dumps` makes of them, a batch
    at a time, made by SQLite's json_object: the fields are text or null, which SQLite escapes as
    Python does (`"`, `\\`, and control characters, as \\n or \\u001f), and the stored provenance
    is JSON already (Python's, minified by json()). Decoding each row into Python objects and
    encoding them again took most of a million-record export's time."""
    values = {name: name for name in RECORD_FIELDS}
    values["provenance"] = "CASE WHEN provenance IS NULL OR provenance = '' THEN json('{}') ELSE json(provenance) END"
    pairs = ", ".join(f"'{name}', {value}" for name, value in values.items())
    where, params = (" WHERE portal = ?", [portal]) if portal else ("", [])
    cursor = db.execute(f"SELECT json_object({pairs}) FROM records{where} ORDER BY date_start DESC, id", params)
    while rows := cursor.fetchmany(batch):
        yield [line for (line,) in rows]


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
