"""`portalscraper demo`: the replica portal started, crawled into the archive, and the archive
summarized (`summary_lines`, which the command prints)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from portalscraper.archive import overview


def summary_lines(crawl: dict[str, Any], db_path: str, jsonl_path: str | None) -> list[str]:
    """The crawl's row and the archive it wrote, in a few lines for a first look."""
    lines = [f"Crawl {crawl['id']} ({crawl['mode']}): {crawl['status']}, {crawl['records']} records seen "
             f"({crawl['records_new']} new, {crawl['records_changed']} changed, {crawl['records_unchanged']} "
             f"unchanged), {crawl['appearances']} appearances, {crawl['rejects']} rejects, {crawl['duration_s']} s"]
    archive = overview(db_path)
    lines.append("Records per section:")
    lines += [f"  {count:6d}  {section}" for section, count in archive["sections"].items()]
    lines.append(f"Dates from {archive['first_date']} to {archive['last_date']}")
    lines.append(f"SQLite archive: {Path(db_path).resolve()}")
    if jsonl_path:
        lines.append(f"JSON Lines:     {Path(jsonl_path).resolve()}")
    lines.append(f"Try: sqlite-utils search {db_path} records terrorism -c date_start -c title")
    return lines
