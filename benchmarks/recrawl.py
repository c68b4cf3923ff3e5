"""Re-crawl cost: a full crawl, then an immediate re-crawl of the unchanged site, in two cases.

    python benchmarks/recrawl.py [--items 5000] [--articles 2000]

1. The NATO replica (`--items` news items) crawled by `portalscraper crawl nato`, which reads the
   portal's feeds and sitemap index after its listings: the re-crawl pages the archive only until
   it shows nothing new, asks item pages conditionally, reads the feeds, and leaves out every
   sitemap the index says is older than the complete pass. Then a complete pass (`--full`).
2. The newsroom (benchmarks/evaluation/newsroom.py, `--articles` articles) crawled by the `portal`
   spider with no profile, which re-reads every page it walks: its re-crawl reads the sitemaps,
   and an item whose `lastmod` (or feed date) has not moved is not asked for at all; beside it,
   the same re-crawl without feeds and sitemaps (`-s PORTAL_SOURCES=false`), which asks every
   item page conditionally.

Prints requests, bytes received (the wire's, from the crawl rows) and wall time of each crawl,
and the re-crawl's bytes as a share of the full crawl's (the target: at most 1%). Every crawl
runs through the real `portalscraper crawl` command against a site on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import ast
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from portalscraper.replica.launch import replica_process  # noqa: E402

COLUMNS = ("requests", "bytes", "item_pages_fetched", "item_pages_not_modified", "records", "records_new",
           "records_unchanged", "mode")
STATS = ("portal/item_page_bytes", "portal/feed_read", "portal/sitemap_read", "portal/sitemap_unchanged",
         "portal/source_bytes", "portal/item_unchanged_by_source")
TARGET = 0.01


def stats_of(stderr: str) -> dict[str, Any]:
    """Scrapy's stats dump at the end of a crawl's log (INFO), as a dict."""
    start = stderr.rfind("Dumping Scrapy stats:")
    if start < 0:
        return {}
    text = stderr[stderr.index("{", start):]
    depth = 0
    for n, ch in enumerate(text):
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0:
            text = text[: n + 1]
            break
    try:
        found = ast.literal_eval(text.replace("datetime.datetime", "").replace("tzinfo=datetime.timezone.utc", ""))
    except (ValueError, SyntaxError):
        return {}
    return found if isinstance(found, dict) else {}


def crawl(spider: str, target: list[str], db: Path, *extra: str) -> dict[str, Any]:
    """One crawl: its crawl row, wall time and the stats above."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "portalscraper.cli", "crawl", spider, *target, "--db", str(db), "--jsonl", "",
         "--warc", "", "--log-level", "INFO", *extra], capture_output=True, text=True, cwd=db.parent,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"crawl failed ({result.returncode}): {result.stderr[-800:]}")
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        row = dict(conn.execute(f"SELECT {', '.join(COLUMNS)} FROM crawls ORDER BY id DESC LIMIT 1").fetchone())
    stats = stats_of(result.stderr)
    row.update({name: stats.get(name, 0) for name in STATS})
    row["wall time (s)"] = round(elapsed, 2)
    return row


ROWS = [("mode", "mode"), ("requests", "requests"), ("bytes received (wire)", "bytes"),
        ("item pages downloaded", "item_pages_fetched"), ("item pages 304", "item_pages_not_modified"),
        ("items not asked (source dates)", "portal/item_unchanged_by_source"),
        ("item-page body bytes", "portal/item_page_bytes"), ("feeds read", "portal/feed_read"),
        ("sitemaps read", "portal/sitemap_read"), ("sitemaps left out", "portal/sitemap_unchanged"),
        ("feed and sitemap bytes", "portal/source_bytes"), ("records seen", "records"),
        ("wall time (s)", "wall time (s)")]


def table(columns: list[tuple[str, dict[str, Any]]]) -> list[str]:
    first = columns[0][1]
    head = f"{'':32}" + "".join(f"{name:>16}{'ratio':>8}" if n else f"{name:>16}" for n, (name, _) in
                                enumerate(columns))
    lines = [head]
    for label, key in ROWS:
        cells = [f"{first[key]!s:>16}"]
        for _, row in columns[1:]:
            value, base = row[key], first[key]
            ratio = f"{value / base:8.3f}" if isinstance(value, int | float) and isinstance(base, int | float) \
                and base and key != "mode" else " " * 8
            cells.append(f"{value!s:>16}{ratio}")
        lines.append(f"{label:32}" + "".join(cells))
    return lines


def verdict(name: str, again: dict[str, Any], first: dict[str, Any]) -> str:
    share = again["bytes"] / first["bytes"] if first["bytes"] else 0.0
    return (f"{name}: the re-crawl received {share:.2%} of the full crawl's bytes "
            f"({'meets' if share <= TARGET else 'MISSES'} the {TARGET:.0%} target)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=5000, help="news items in the replica (default 5000)")
    parser.add_argument("--articles", type=int, default=2000, help="articles in the newsroom (default 2000)")
    args = parser.parse_args()
    print(f"Machine: {sys.platform}, Python {sys.version.split()[0]}\n")

    with tempfile.TemporaryDirectory() as tmp, replica_process(args.items) as base_url:
        db = Path(tmp) / "archive.sqlite"
        target = ["--base-url", base_url]
        full = crawl("nato", target, db)
        again = crawl("nato", target, db)
        complete = crawl("nato", target, db, "--full")
    print(f"1. The NATO replica, {args.items:,} news items, `portalscraper crawl nato` (feeds and sitemap index read)")
    print("\n".join(table([("first crawl", full), ("re-crawl", again), ("complete pass", complete)])))
    print(verdict("NATO replica", again, full) + "\n")

    from evaluation.newsroom import NewsroomServer

    server = NewsroomServer(articles=args.articles, per_page=100)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "archive.sqlite"
            target = ["--start-url", server.base_url + "/"]
            full = crawl("portal", target, db)
            again = crawl("portal", target, db)
            blind = crawl("portal", target, db, "-s", "PORTAL_SOURCES=false")
    finally:
        server.stop()
    print(f"2. The newsroom, {args.articles:,} articles, `portalscraper crawl portal` (no profile; robots.txt's "
          "sitemaps and the announced feed)")
    print("\n".join(table([("first crawl", full), ("re-crawl", again), ("no sources", blind)])))
    print(verdict("newsroom", again, full))
    print(verdict("newsroom without feeds and sitemaps", blind, full))
    return 0


if __name__ == "__main__":
    sys.exit(main())
