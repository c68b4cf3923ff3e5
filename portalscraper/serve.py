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

# Each crawl's homepage: the page it read first (its canonical URL, the same in every capture; the
# page as crawled in archives from before page_url).
_HOMEPAGES = """WITH homes AS (
  SELECT crawl_id, coalesce(page_url, source_url) AS page FROM appearances
  WHERE id IN (SELECT min(id) FROM appearances GROUP BY crawl_id))"""
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
SELECT section, position, title, url, date_text, capture_time
FROM appearances
WHERE crawl_id = :crawl_id
  AND coalesce(page_url, source_url) = (SELECT coalesce(page_url, source_url) FROM appearances
                                        WHERE crawl_id = :crawl_id ORDER BY id LIMIT 1)
ORDER BY capture_time, section, position"""),
    "homepage_stays": ("Web-archive crawls: how long each item stayed on the homepage", f"""
{_HOMEPAGES}
SELECT a.record_id, max(a.title) AS title, min(a.capture_time) AS first_seen, max(a.capture_time) AS last_seen,
       count(DISTINCT a.capture_time) AS captures,
       round(julianday(max(a.capture_time)) - julianday(min(a.capture_time)), 1) AS days
FROM homes h JOIN appearances a ON a.crawl_id = h.crawl_id AND coalesce(a.page_url, a.source_url) = h.page
WHERE a.capture_time IS NOT NULL
GROUP BY a.record_id ORDER BY first_seen"""),
}

# The charts page's timeline (serve_plugins/): each crawl's homepage, the page it read first, and the
# items seen on it, at the web archive's capture time or else at the crawl's start, with their
# published date (which orders items first seen together). `:crawl_id` '' for every crawl.
HOMEPAGE_SIGHTINGS = f"""
{_HOMEPAGES}
SELECT a.record_id, a.title, coalesce(a.capture_time, c.started_at) AS seen, r.date_start AS published
FROM homes h
JOIN appearances a ON a.crawl_id = h.crawl_id AND coalesce(a.page_url, a.source_url) = h.page
JOIN crawls c ON c.id = a.crawl_id
LEFT JOIN records r ON r.id = a.record_id
WHERE :crawl_id = '' OR a.crawl_id = CAST(:crawl_id AS INTEGER)"""
# Items drawn at most (the most recently first seen), so that the page stays readable.
TIMELINE_ROWS = 200
# Where `portalscraper serve` points Datasette for the charts page.
PLUGINS_DIR = Path(__file__).parent / "serve_plugins"
TEMPLATES_DIR = Path(__file__).parent / "serve_templates"

# Tables an analyst has no use for: the full-text index's own, and the writer's queue.
HIDDEN = ("fts_pending", "records_fts", "records_fts_config", "records_fts_data", "records_fts_docsize",
          "records_fts_idx")


def metadata(db_path: str | Path) -> dict[str, Any]:
    """Datasette metadata for the archive at `db_path`."""
    schema = json.loads(resources.files("portalscraper").joinpath("schema/record.schema.json").read_text("utf-8"))
    columns = {name: spec.get("description", "") for name, spec in schema["properties"].items()}
    tables: dict[str, Any] = {
        "records": {"description": schema.get("description", ""), "columns": columns, "sort_desc": "date_start",
                    # The index's rows are the records' rowids (the primary key is text): no fts_pk.
                    "fts_table": "records_fts",
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
    about = ('Items published by institutional portals, as crawled. <a href="/-/charts">Charts</a>: items per month '
             "and the homepage's items over time.")
    return {"title": "portalscraper archive", "description_html": about,
            "databases": {Path(db_path).stem: {"description_html": about, "tables": tables, "queries": queries}}}
