"""What an incremental crawl remembers of earlier ones, read from the archive.

For each archived record: the item page's HTTP validators (ETag, Last-Modified) and the raw
capture they came from, the hash of its listing entry, and in which crawls it was first seen,
last seen and last changed. A crawl
uses them to send conditional requests, to stop paging through a listing once it only shows
items archived and unchanged, to rebuild a record from the archive when its page answers
304 Not Modified (or fails), and, when resuming, to skip items already stored by the
interrupted run.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any, NamedTuple

from portalscraper.items import RECORD_FIELDS


class Known(NamedTuple):
    etag: str | None
    last_modified: str | None
    listing_hash: str | None
    first_crawl_id: int | None
    last_crawl_id: int | None
    version_crawl_id: int | None
    warc_file: str | None = None  # the capture of the page the validators are of: WARC file name, offset
    warc_offset: int | None = None


class CrawlStamp(NamedTuple):
    """Which crawl of which archive a crawl is: what its WARC files say of it (warcinfo), so that a
    rebuild from them tells its crawls apart, and the runs of one crawl (a resumed one, a shared
    one's workers) as one."""

    archive: str  # the archive's path, as the crawl opened it
    crawl_id: int
    started_at: str  # the crawl row's: the same for every run of the crawl
    resumed: int = 0  # how many times the crawl had been resumed when this run started


class ArchiveMemory:
    """Read-only view of an archive for one crawl, over the crawl session's connection. Empty
    when there is no archive (`ArchiveMemory(None, portal)`), or none of this portal yet."""

    def __init__(self, conn: sqlite3.Connection | None, portal: str, crawl_id: int | None = None,
                 stamp: CrawlStamp | None = None) -> None:
        self.portal = portal
        self.crawl_id = crawl_id
        self.stamp = stamp  # the crawl this memory serves
        self._conn = conn
        self._known: dict[str, Known] | None = None

    @property
    def known(self) -> dict[str, Known]:
        """What the archive keeps of each of the portal's records, read on first use."""
        if self._known is None:
            self._known = {}
            if self._conn is not None and self._has_table("records"):
                rows = self._conn.execute(
                    "SELECT id, http_etag, http_last_modified, listing_hash, first_crawl_id, last_crawl_id, "
                    "version_crawl_id, warc_file, warc_offset FROM records WHERE portal = ?", [self.portal])
                files: dict[str, str] = {}  # one string per WARC file name, not one per record
                self._known = {rid: Known(etag, modified, listing, first, last, version,
                                          files.setdefault(warc, warc) if warc else None, offset)
                               for rid, etag, modified, listing, first, last, version, warc, offset in rows}
        return self._known

    def _has_table(self, name: str) -> bool:
        assert self._conn is not None
        return self._conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [name]).fetchone() is not None

    # -- questions a crawl asks --------------------------------------------------------------

    def validators(self, record_id: str) -> dict[str, str]:
        """Conditional request headers for an archived item page (none for an unknown one)."""
        known = self.known.get(record_id)
        headers: dict[str, str] = {}
        if known is not None and known.etag:
            headers["If-None-Match"] = known.etag
        if known is not None and known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        return headers

    def capture(self, record_id: str) -> dict[str, Any] | None:
        """The raw capture an archived record was made from (its WARC file name and offset): what a
        304 Not Modified to its validators confirms."""
        known = self.known.get(record_id)
        if known is None or not known.warc_file or known.warc_offset is None:
            return None
        return {"file": known.warc_file, "offset": known.warc_offset}

    def unchanged(self, record_id: str, entry_hash: str) -> bool:
        """True when the item was archived by an earlier crawl, with the same listing entry, and not
        changed by this one (a resumed crawl must not mistake its own earlier writes for old news)."""
        known = self.known.get(record_id)
        if known is None or known.listing_hash != entry_hash:
            return False
        before = self.crawl_id is None or (known.first_crawl_id or 0) < self.crawl_id
        return before and known.version_crawl_id != self.crawl_id

    def stored_in_this_crawl(self, record_id: str) -> bool:
        """True when the crawl being resumed already stored this record."""
        known = self.known.get(record_id)
        return known is not None and self.crawl_id is not None and known.last_crawl_id == self.crawl_id

    def record(self, record_id: str) -> dict[str, Any] | None:
        """The archived record (its exported fields), provenance decoded."""
        if self._conn is None or record_id not in self.known:
            return None
        row = self._conn.execute(f"SELECT {', '.join(RECORD_FIELDS)} FROM records WHERE id = ?",
                                 [record_id]).fetchone()
        if row is None:
            return None
        record = dict(zip(RECORD_FIELDS, row, strict=True))
        record["provenance"] = json.loads(record["provenance"]) if record.get("provenance") else {}
        return record

    def unresolved_failures(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Pages of this portal that earlier crawls could not fetch and no crawl has fetched since:
        (kind, url, listing entry), latest first, one per URL. Pages skipped by policy are not here."""
        if self._conn is None or not self._has_table("failures"):
            return []
        rows = self._conn.execute(
            "SELECT kind, url, listing FROM failures WHERE resolved_crawl_id IS NULL AND counted = 1 "
            "AND crawl_id IN (SELECT id FROM crawls WHERE portal = ?) ORDER BY id DESC", [self.portal])
        seen: set[str] = set()
        out = []
        for kind, url, listing in rows:
            if url not in seen:
                seen.add(url)
                out.append((kind, url, json.loads(listing) if listing else {}))
        return out

    def last_complete_pass(self, spider: str, language: str) -> dt.datetime | None:
        """When the latest finished complete pass of this spider and language started."""
        if self._conn is None or not self._has_table("crawls"):
            return None
        rows = self._conn.execute(
            "SELECT started_at, args FROM crawls WHERE spider = ? AND portal = ? AND complete = 1 "
            "AND status = 'finished' ORDER BY id DESC", [spider, self.portal])
        for started_at, args in rows:
            if json.loads(args or "{}").get("lang") == language:
                return dt.datetime.fromisoformat(started_at)
        return None

