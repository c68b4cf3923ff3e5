"""`portalscraper serve`: the archive in Datasette, prepared for analysts.

The metadata is made here from the project's own sources: column descriptions from the record's
JSON Schema, records sorted by date (newest first) and searched through the full-text index,
bookkeeping tables hidden, canned queries for the README's recipes, and the queries of the
archive's Atom feeds (new, changed and gone records; rendered by plugins/ and
portalscraper.serve.atom). Datasette is an optional extra (`pip install 'portalscraper[serve]'`).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from portalscraper.items import CONTENT_FIELDS
from portalscraper.serve.atom import TITLES

# Each crawl's homepage: the page it read first (its canonical URL, the same in every capture; the
# page as crawled in archives from before page_url). Per crawl, through the archive's indexes on
# appearances (crawl_id) and (crawl_id, that page): a few lookups, not a pass over every appearance.
_HOMEPAGES = """WITH homes AS MATERIALIZED (
  SELECT c.id AS crawl_id, (SELECT coalesce(page_url, source_url) FROM appearances
                            WHERE crawl_id = c.id ORDER BY id LIMIT 1) AS page
  FROM crawls c)"""
# Canned queries: name -> (title, SQL). Parameters (`:q`, `:id`, `:crawl_id`) become form fields.
# `search` ranks (bm25) the 5,000 most recently archived records that match, all of them for a
# query that matches fewer: FTS5 scores every match before it sorts, so a word most of a million
# records hold took about 2 s ranked whole; the newest 5,000 are found from the end of the index
# and ranked in milliseconds. Its snippets are made for the rows shown only, 20 a page (`:page`,
# from 1; left empty, the first): a page of 200 spent most of its time making snippets.
QUERIES: dict[str, tuple[str, str]] = {
    "search": ("Full-text search, best matches first, 20 a page (among the 5,000 most recently archived)", """
WITH best AS MATERIALIZED (
  SELECT rowid, rank FROM records_fts
  WHERE records_fts MATCH :q
    AND rowid >= (SELECT min(rowid) FROM (SELECT rowid FROM records_fts WHERE records_fts MATCH :q
                                          ORDER BY rowid DESC LIMIT 5000))
  ORDER BY rank LIMIT 20 OFFSET 20 * (max(coalesce(CAST(nullif(:page, '') AS INTEGER), 1), 1) - 1))
SELECT r.date_start, r.title, r.section, r.url, r.id,
       snippet(records_fts, -1, '[', ']', '…', 16) AS snippet
FROM records_fts JOIN records r ON r.rowid = records_fts.rowid JOIN best ON best.rowid = records_fts.rowid
WHERE records_fts MATCH :q AND records_fts.rowid IN (SELECT rowid FROM best)
ORDER BY best.rank"""),
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
FROM homes h CROSS JOIN appearances a ON a.crawl_id = h.crawl_id AND coalesce(a.page_url, a.source_url) = h.page
WHERE a.capture_time IS NOT NULL
GROUP BY a.record_id ORDER BY first_seen"""),
}

# The archive's feeds: canned queries whose rows are a feed's entries, newest first, `FEED_ENTRIES` at
# most. `<name>.atom` is the Atom feed (plugins/portalscraper_feeds.py); the same URL without
# `.atom` shows the rows, `.json` gives them. Every entry is a record at a version: `version` 1 is the
# record as first archived, each change adds one (record_versions holds the versions replaced), so
# an entry's id (portalscraper.serve.atom.entry_id) stays the same in every crawl after. Optional filters:
# `:q` full-text search (FTS5 syntax: words, "a phrase", OR, NOT, prefix*), `:section` a listing
# block, exactly ('' for any).
FEED_ENTRIES = 100
_FEED_FILTER = """(:q = '' OR r.rowid IN (SELECT rowid FROM records_fts WHERE records_fts MATCH :q))
  AND (:section = '' OR r.section = :section)"""


def _pick(fields: tuple[str, ...], earlier: str, current: str = "r") -> str:
    """Columns of a record at one version: from `earlier` (a record_versions row) if there is one, else
    from the record's current row."""
    return ",\n       ".join(f"CASE WHEN {earlier}.version_id IS NULL THEN {current}.{name} ELSE {earlier}.{name} END "
                              f"AS {name}" for name in fields)


# What a changed entry says changed: the published content fields (those of the content hash).
_CHANGED = " || ".join(f"CASE WHEN {name} IS NOT before_{name} THEN '{name}, ' ELSE '' END" for name in CONTENT_FIELDS)
FEEDS: dict[str, tuple[str, str, str]] = {
    # name -> (kind of entry, title, SQL)
    "new_records": ("new", "New records: each record as first archived, newest first", f"""
WITH first AS (SELECT record_id, min(version_id) AS version_id FROM record_versions GROUP BY record_id)
SELECT {_pick(("title", "section", "date_text", "summary", "url"), "v")},
       r.id AS record_id, 1 AS version, r.first_crawl_id AS crawl_id, r.first_seen AS seen
FROM records r
LEFT JOIN first f ON f.record_id = r.id
LEFT JOIN record_versions v ON v.version_id = f.version_id
WHERE {_FEED_FILTER}
ORDER BY r.first_seen DESC, r.first_crawl_id DESC, r.date_start DESC, r.id
LIMIT {FEED_ENTRIES}"""),
    "changed_records": ("changed", "Changed records: each change, what changed and the crawl that saw it", f"""
WITH versions AS (
  SELECT v.*, row_number() OVER (PARTITION BY v.record_id ORDER BY v.version_id) AS n
  FROM record_versions v JOIN records r ON r.id = v.record_id
  WHERE {_FEED_FILTER}),
changes AS (
  SELECT o.record_id, o.n + 1 AS version, o.replaced_in_crawl_id AS crawl_id,
       CASE WHEN nx.version_id IS NULL THEN r.version_since ELSE nx.valid_from END AS seen,
       {_pick(("section", "url", *CONTENT_FIELDS), "nx")},
       {", ".join(f"o.{name} AS before_{name}" for name in CONTENT_FIELDS)}
  FROM versions o JOIN records r ON r.id = o.record_id
  LEFT JOIN versions nx ON nx.record_id = o.record_id AND nx.n = o.n + 1)
SELECT title, rtrim({_CHANGED}, ', ') AS changed, section, {", ".join(CONTENT_FIELDS[1:])}, url,
       record_id, version, crawl_id, seen, {", ".join(f"before_{name}" for name in CONTENT_FIELDS)}
FROM changes
ORDER BY seen DESC, crawl_id DESC, record_id, version DESC
LIMIT {FEED_ENTRIES}"""),
    "gone_records": ("gone", "Records gone from the portal: not listed in a complete pass, kept in the archive", f"""
SELECT r.title, r.section, r.date_text, r.summary, r.url,
       r.id AS record_id, 1 + (SELECT count(*) FROM record_versions v WHERE v.record_id = r.id) AS version,
       r.gone_crawl_id AS crawl_id, r.gone_since AS seen, r.last_seen
FROM records r
WHERE r.gone_since IS NOT NULL AND {_FEED_FILTER}
ORDER BY r.gone_since DESC, r.gone_crawl_id DESC, r.id
LIMIT {FEED_ENTRIES}"""),
}

# The charts page's timeline (plugins/): each crawl's homepage, the page it read first, and the
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
PLUGINS_DIR = Path(__file__).parent / "plugins"
TEMPLATES_DIR = Path(__file__).parent / "templates"

# Datasette's settings, so that a table's page shows rows: cells cut to a few lines (a record's own
# page shows its texts whole), facets of six values at most (the rest a click away), and no list of
# suggested facets (any column can still be faceted from its header's menu). At a million records a
# facet takes a tenth of a second and more on a busy machine, and queries of one's own can take
# seconds (docs/benchmarks.md, "A million records"): the time limits are set above those
# (Datasette's own, 1 s and 0.2 s, refused a ranked search over every match and dropped facets from
# the page on a busy machine).
SETTINGS: dict[str, int | bool] = {"truncate_cells_html": 120, "default_facet_size": 6, "suggest_facets": False,
                                   "sql_time_limit_ms": 5000, "facet_time_limit_ms": 1000}

# Tables an analyst has no use for: the full-text index's own, and the writer's queue.
HIDDEN = ("fts_pending", "records_fts", "records_fts_config", "records_fts_data", "records_fts_docsize",
          "records_fts_idx")


# The facets the records table opens with. Each is a pass over an index of every record (about
# 0.1 s at a million records, three times that on a busy machine): above LARGE_ARCHIVE records the
# table opens with the first alone, the others a click away in a column's menu.
FACETS = ("section", "kind", "language")
LARGE_ARCHIVE = 200_000


def default_facets(db_path: str | Path, large_archive: int = LARGE_ARCHIVE) -> list[str]:
    """The records table's facets for the archive at `db_path` (see FACETS)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)) as conn:
            (records,) = conn.execute("SELECT count(*) FROM records").fetchone()
    except sqlite3.Error:
        return list(FACETS)  # not readable here: Datasette says why
    return list(FACETS[:1] if records > large_archive else FACETS)


def metadata(db_path: str | Path, large_archive: int = LARGE_ARCHIVE) -> dict[str, Any]:
    """Datasette metadata for the archive at `db_path`."""
    schema = json.loads(resources.files("portalscraper").joinpath("schema/record.schema.json").read_text("utf-8"))
    columns = {name: spec.get("description", "") for name, spec in schema["properties"].items()}
    # Rows first: the columns' descriptions are one line that opens (and each header's title, see
    # plugins/portalscraper_pages.py), not Datasette's list of them above the table.
    described = "".join(f"<dt>{escape(name)}</dt><dd>{escape(text)}</dd>" for name, text in columns.items())
    records_about = (f"{escape(schema.get('description', ''))} <details class=\"columns\">"
                     f"<summary>What each column holds</summary><dl>{described}</dl></details>")
    tables: dict[str, Any] = {
        "records": {"description_html": records_about, "columns": columns, "sort_desc": "date_start",
                    # The index's rows are the records' rowids (the primary key is text): no fts_pk.
                    "fts_table": "records_fts",
                    "facets": default_facets(db_path, large_archive)},
        "appearances": {"description": "Each sighting of an item in a listing block: what a page featured, where, "
                                       "and when (capture_time: the web archive's capture).", "sort_desc": "id"},
        "record_versions": {"description": "Earlier versions of records, with the crawls they were valid in."},
        "crawls": {"description": "One row per crawl: arguments, status, counts, alarms and exit code.",
                   "sort_desc": "id"},
        "failures": {"description": "Pages a crawl could not fetch, and why; retried by the next run."},
        "rejects": {"description": "Records that failed validation, kept with their reasons."},
        **{name: {"hidden": True} for name in HIDDEN},
    }
    database = Path(db_path).stem
    feeds = ", ".join(f'<a class="feed" href="/{_tilde(database)}/{name}.atom">{TITLES[kind].lower()}</a>'
                      for name, (kind, _, _) in FEEDS.items())
    about = ('Items published by institutional portals, as crawled. <a href="/-/charts">Charts</a>: items per month '
             f"and the homepage's items over time. Atom feeds: {feeds} (their queries, of the same names, "
             "take a full-text search and a section).")
    return {"title": "portalscraper archive", "description_html": about,
            "databases": {database: {"description_html": about, "tables": tables, "queries": canned_queries()}}}


def canned_queries() -> dict[str, dict[str, Any]]:
    """The archive's canned queries: Datasette 0.65 reads them in its metadata, 1.0 in its
    configuration (`configuration`)."""
    queries: dict[str, dict[str, Any]] = {name: {"title": title, "sql": sql.strip()}
                                          for name, (title, sql) in QUERIES.items()}
    # The feeds' SQL is long: their pages show the form and the rows (the SQL one click away).
    queries.update({name: {"title": title, "sql": sql.strip(), "hide_sql": True}
                    for name, (_, title, sql) in FEEDS.items()})
    return queries


def configuration(db_path: str | Path) -> dict[str, Any]:
    """Datasette 1.0's configuration (`--config datasette.json`) for the archive at `db_path`: its
    settings and canned queries, which 1.0 no longer reads from the metadata."""
    return {"settings": dict(SETTINGS), "databases": {Path(db_path).stem: {"queries": canned_queries()}}}


def _tilde(name: str) -> str:
    """A name as a part of Datasette's URLs (its tilde encoding)."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "+" if c == " "
                   else "".join(f"~{b:02X}" for b in c.encode()) for c in name)
