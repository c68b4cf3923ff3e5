"""`portalscraper serve`: the archive in Datasette, prepared for analysts.

The metadata is made here from the project's own sources: column descriptions from the record's
JSON Schema, records sorted by date (newest first) and searched through the full-text index,
bookkeeping tables hidden, and canned queries for the README's recipes. Datasette is an
optional extra (`pip install 'portalscraper[serve]'`).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

# Canned queries: name -> (title, SQL). Parameters (`:q`, `:id`, `:crawl_id`) become form fields.
QUERIES: dict[str, tuple[str, str]] = {
    "search": ("Full-text search, best matches first", """
SELECT r.date_start, r.title, r.section, r.url, r.id,
       snippet(records_fts, -1, '[', ']', '…', 16) AS snippet
FROM records_fts JOIN records r ON r.rowid = records_fts.rowid
WHERE records_fts MATCH :q
ORDER BY rank
LIMIT 200"""),
    "record_history": ("A record's history: its current version and the ones it replaced", """
SELECT 'current' AS version, version_since AS valid_from, NULL AS valid_to, title, date_text, summary,
       content_hash
FROM records WHERE id = :id
UNION ALL
SELECT 'replaced in crawl ' || replaced_in_crawl_id, valid_from, valid_to, title, date_text, summary,
       content_hash
FROM record_versions WHERE record_id = :id
ORDER BY valid_from DESC"""),
    "crawl_changes": ("What changed in a crawl: new, changed and gone records", """
SELECT change, title, url, record_id FROM changes WHERE crawl_id = :crawl_id ORDER BY change, title"""),
    "items_per_month": ("Items per month, by their published date", """
SELECT substr(date_start, 1, 7) AS month, count(*) AS items
FROM records WHERE length(date_start) >= 7
GROUP BY month ORDER BY month"""),
    "homepage_blocks": ("The homepage's blocks in a crawl: what it featured, where", """
SELECT section, position, title, url, date_text
FROM appearances
WHERE crawl_id = :crawl_id
  AND source_url = (SELECT source_url FROM appearances WHERE crawl_id = :crawl_id ORDER BY id LIMIT 1)
ORDER BY section, position"""),
    "homepage_stays": ("Web-archive crawls: how long each item stayed on the homepage", """
SELECT record_id, max(title) AS title, min(capture_time) AS first_seen, max(capture_time) AS last_seen,
       count(DISTINCT capture_time) AS captures,
       round(julianday(max(capture_time)) - julianday(min(capture_time)), 1) AS days
FROM appearances WHERE capture_time IS NOT NULL
GROUP BY record_id ORDER BY first_seen"""),
}

# Tables an analyst has no use for: the full-text index's own, and the writer's queue.
HIDDEN = ("fts_pending", "records_fts", "records_fts_config", "records_fts_data", "records_fts_docsize",
          "records_fts_idx")


def metadata(db_path: str | Path) -> dict[str, Any]:
    """Datasette metadata for the archive at `db_path`."""
    schema = json.loads(resources.files("portalscraper").joinpath("schema/record.schema.json").read_text("utf-8"))
    columns = {name: spec.get("description", "") for name, spec in schema["properties"].items()}
    tables: dict[str, Any] = {
        "records": {"description": schema.get("description", ""), "columns": columns, "sort_desc": "date_start",
                    "fts_table": "records_fts", "fts_pk": "id",
                    "facets": ["section", "kind", "language"]},
        "appearances": {"description": "Each sighting of an item in a listing block: what a page featured, where, "
                                       "and when (capture_time: the web archive's capture).", "sort_desc": "id"},
        "record_versions": {"description": "Earlier versions of records, with the crawls they were valid in."},
        "crawls": {"description": "One row per crawl: arguments, status, counts, alarms and exit code.",
                   "sort_desc": "id"},
        "failures": {"description": "Pages a crawl could not fetch, and why; retried by the next run."},
        "rejects": {"description": "Records that failed validation, kept with their reasons."},
        **{name: {"hidden": True} for name in HIDDEN},
    }
    queries = {name: {"title": title, "sql": sql.strip()} for name, (title, sql) in QUERIES.items()}
    return {"title": "portalscraper archive", "description": "Items published by institutional portals, as crawled.",
            "databases": {Path(db_path).stem: {"tables": tables, "queries": queries}}}
