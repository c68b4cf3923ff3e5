"""Re-crawl cost: a full crawl of the replica, then an immediate re-crawl of the unchanged portal.

    python benchmarks/recrawl.py [--items 5000]

Prints requests, bytes and wall time of both crawls, and the share of the full crawl's
item-page bytes the re-crawl downloaded (the target: at most 5%). Both crawls run through the
real `portalscraper crawl` command against the replica on 127.0.0.1, into one archive.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from portalscraper.replica.launch import replica_process  # noqa: E402

COLUMNS = ("requests", "bytes", "item_pages_fetched", "item_pages_not_modified", "records", "records_new",
           "records_unchanged", "mode")


def crawl(base_url: str, db: Path, *extra: str) -> tuple[dict[str, object], float, int]:
    """One crawl; returns its crawl row, wall time, and item-page body bytes (from the log's stats)."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "portalscraper.cli", "crawl", "nato", "--base-url", base_url, "--db", str(db),
         "--jsonl", "", "--log-level", "INFO", *extra], capture_output=True, text=True, cwd=db.parent,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"crawl failed ({result.returncode}): {result.stderr[-500:]}")
    item_bytes = 0
    for line in result.stderr.splitlines():
        if "'portal/item_page_bytes':" in line:
            item_bytes = int(line.split("'portal/item_page_bytes':")[1].split(",")[0].strip().rstrip("}"))
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        row = dict(conn.execute(f"SELECT {', '.join(COLUMNS)} FROM crawls ORDER BY id DESC LIMIT 1").fetchone())
    return row, elapsed, item_bytes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=5000, help="news items in the replica (default 5000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, replica_process(args.items) as base_url:
        db = Path(tmp) / "archive.sqlite"
        full, full_time, full_item_bytes = crawl(base_url, db)
        again, again_time, again_item_bytes = crawl(base_url, db)
        complete, complete_time, complete_item_bytes = crawl(base_url, db, "--full")
    print(f"Replica: {args.items} news items; machine: {sys.platform}, Python {sys.version.split()[0]}")
    print("Re-crawl: the default, incremental; complete pass: --full, every listing page, conditional item requests")
    print(f"{'':24}{'first crawl':>13}{'re-crawl':>13}{'ratio':>8}{'complete pass':>15}{'ratio':>8}")
    rows = [
        ("mode", full["mode"], again["mode"], complete["mode"]),
        ("requests", full["requests"], again["requests"], complete["requests"]),
        ("bytes received (wire)", full["bytes"], again["bytes"], complete["bytes"]),
        ("item pages downloaded", full["item_pages_fetched"], again["item_pages_fetched"],
         complete["item_pages_fetched"]),
        ("item pages 304", full["item_pages_not_modified"], again["item_pages_not_modified"],
         complete["item_pages_not_modified"]),
        ("item-page body bytes", full_item_bytes, again_item_bytes, complete_item_bytes),
        ("records seen", full["records"], again["records"], complete["records"]),
        ("wall time (s)", round(full_time, 2), round(again_time, 2), round(complete_time, 2)),
    ]
    def ratio(value: object, base: object, width: int) -> str:
        if isinstance(value, int | float) and isinstance(base, int | float) and base:
            return f"{value / base:{width}.3f}"
        return " " * width

    for name, a, b, c in rows:
        print(f"{name:24}{a!s:>13}{b!s:>13}{ratio(b, a, 8)}{c!s:>15}{ratio(c, a, 8)}")
    share = again_item_bytes / full_item_bytes if full_item_bytes else 0.0
    verdict = "meets" if share <= 0.05 else "MISSES"
    print(f"Re-crawl item-page bytes: {share:.2%} of the full crawl's ({verdict} the 5% target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
