"""Benchmarks, side by side in one run, against the framework's and the libraries' own limits.

    python benchmarks/bench.py                      # the full run (about 20 minutes on 2 cores)
    python benchmarks/bench.py --smoke              # a tiny run that only checks the script works
    python benchmarks/bench.py --write docs/benchmarks.md
    python benchmarks/bench.py --million --write docs/benchmarks.md   # section 7 alone (hours)

1. Framework limit: a bare Scrapy spider visiting exactly the pages the full `nato` crawl
   visited (its URL list, taken from the replica's request log), with a no-op callback and the
   same concurrency and robots.txt setting, vs the full crawl with every pipeline, both archives
   and raw captures, in 5 alternating pairs (median ratio and spread); and the usual alternative,
   a Scrapy spider running trafilatura on the same pages into JSON Lines; then the full crawl
   against that alternative on item pages of a news site's size (the replica's
   --news-sized-pages, about 60 KB a page).
2. Scale: the full crawl at 2,000, 20,000 and 100,000 items: pages/s in the first and the last
   tenth, peak RSS, archive bytes per record, the full-text index's rebuild time; and a re-crawl
   of the largest.
3. Storage: records/s of the archive writers alone (SQLite, JSON Lines) on 100,000 records, vs
   sqlite-utils' own insert_all of the same rows into a plain table.
4. Re-crawl: requests, bytes and wall time of an immediate re-crawl vs the full crawl.
5. Extraction: ms per item page of the project's extraction vs trafilatura (+ htmldate).
6. Shared crawls: pages/s of `crawl --redis` with 1, 2 and 3 workers vs one process (a
   redis-server of its own on 127.0.0.1), each archive compared with the one process's.
7. A million records (`--million`, run by hand): the full crawl at 2,000, 100,000 and 1,000,000
   items (rate in the first and last tenth, peak RSS, archive bytes per record, the WARC writer's
   queue) and an unchanged re-crawl of the largest; then synthetic archives of 100,000 and
   1,000,000 records, written by the archive's own writer as three crawls, asked what analysts
   ask in `portalscraper serve` (Datasette over HTTP on 127.0.0.1) and in SQL, and exported.

Every crawl runs in its own process (peak RSS is that process's), against the replica on
127.0.0.1. Figures are ratios against a baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOOPBACK = {"CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": True, "TELNETCONSOLE_ENABLED": False,
            "LOG_LEVEL": "WARNING"}


# -- crawls, each in a child process ------------------------------------------------------------

def child_crawl(kind: str, base_url: str, db: str, jsonl: str, urls_file: str) -> dict[str, Any]:
    """Run one crawl in this process; return its figures."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "portalscraper.settings")
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings
    from scrapy.utils.project import get_project_settings

    started = time.perf_counter()
    if kind in ("bare", "usual"):
        urls = Path(urls_file).read_text("utf-8").split()

        class Bare(scrapy.Spider):
            name = "bare"

            async def start(self):  # type: ignore[no-untyped-def]
                for url in urls:
                    yield scrapy.Request(url, self.parse, dont_filter=True)

            def parse(self, response):  # type: ignore[no-untyped-def]
                return None

        class Usual(Bare):
            """What a researcher writes without this project: trafilatura on every page, JSON Lines out."""

            name = "usual"

            def parse(self, response):  # type: ignore[no-untyped-def]
                import trafilatura

                found = trafilatura.extract(response.text, url=response.url, output_format="json",
                                            with_metadata=True)
                if found:
                    yield json.loads(found)

        settings = Settings({**LOOPBACK, "USER_AGENT": get_project_settings().get("USER_AGENT")})
        if kind == "usual":
            settings.set("FEEDS", {jsonl: {"format": "jsonlines", "encoding": "utf-8"}})
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(Usual if kind == "usual" else Bare)
        process.crawl(crawler)
    else:
        settings = get_project_settings()
        overrides = {"ARCHIVE_SQLITE_PATH": db, "ARCHIVE_JSONL_PATH": jsonl, "LOG_LEVEL": "WARNING",
                     "ARCHIVE_ENABLED": True}
        if kind == "full-nowarc":
            overrides["WARC_DIR"] = ""
        for key, value in overrides.items():
            settings.set(key, value, priority="cmdline")
        process = CrawlerProcess(settings)
        crawler = process.create_crawler("nato")
        process.crawl(crawler, base_url=base_url)
    process.start()
    wall = time.perf_counter() - started
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return {
        "responses": stats.get("downloader/response_count", 0), "requests": stats.get("downloader/request_count", 0),
        "bytes": stats.get("downloader/response_bytes", 0), "elapsed": float(stats.get("elapsed_time_seconds", 0)),
        "wall": wall, "item_pages_fetched": stats.get("portal/item_page_fetched", 0),
        "item_page_bytes": stats.get("portal/item_page_bytes", 0),
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        # The WARC writer's process (the crawl's child), apart: its peak memory as it read it before
        # it ended (its rusage counts its parent's pages from before its exec), its CPU time.
        "writer_maxrss_mb": stats.get("warc/writer_peak_rss_kb", 0) / 1024,
        "writer_cpu": sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2]),
        "cpu": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
        "finish_reason": stats.get("finish_reason"),
        "warc_queue_full": stats.get("warc/queue_full", 0),
        "warc_queue_full_wait_seconds": stats.get("warc/queue_full_wait_seconds", 0.0),
    }


def crawl(kind: str, base_url: str, db: Path, jsonl: Path | str = "", urls: Path | str = "") -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "_crawl", kind, base_url, str(db), str(jsonl), str(urls)],
                         capture_output=True, text=True, cwd=db.parent)
    if out.returncode != 0:
        raise SystemExit(f"the {kind} crawl failed: {out.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    if figures["finish_reason"] != "finished":
        raise SystemExit(f"the {kind} crawl did not finish: {figures}")
    return figures


def replica(items: int, log: Path | None = None, *options: str) -> Any:
    from portalscraper.replica.launch import replica_process

    return replica_process(items, log_requests=str(log) if log else None, options=options)


def visited_urls(log: Path, base_url: str) -> list[str]:
    """The pages a crawl asked for, in order, from the replica's request log (robots.txt aside)."""
    urls = []
    for line in log.read_text("utf-8").splitlines():
        request = json.loads(line)
        if request["uri"] != "/robots.txt":
            urls.append(base_url + request["uri"])
    return urls


# -- the sections ------------------------------------------------------------------------------------

def _rate(figures: dict[str, Any]) -> float:
    return float(figures["responses"]) / float(figures["elapsed"])


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def framework_and_recrawl(items: int, pairs: int, tmp: Path) -> tuple[list[str], dict[str, Any]]:
    log = tmp / "requests.jsonl"
    db = tmp / "full.sqlite"
    with replica(items, log) as base_url:
        first = crawl("full", base_url, db, tmp / "full.jsonl")
        urls = visited_urls(log, base_url)
        (tmp / "urls.txt").write_text("\n".join(urls), encoding="utf-8")
        again = crawl("full", base_url, db, tmp / "full.jsonl")
        # Bare spider and full crawl in alternation (the machine's moods hit both alike), then the
        # full crawl without raw captures and the usual alternative, twice each.
        runs: dict[str, list[dict[str, Any]]] = {"bare": [], "full": [], "full-nowarc": [], "usual": []}
        for n in range(pairs):
            runs["bare"].append(crawl("bare", base_url, tmp / "unused.sqlite", "", tmp / "urls.txt"))
            runs["full"].append(crawl("full", base_url, tmp / f"full{n}.sqlite", tmp / f"full{n}.jsonl"))
        for n in range(2):
            runs["full-nowarc"].append(crawl("full-nowarc", base_url, tmp / f"nowarc{n}.sqlite",
                                             tmp / f"nowarc{n}.jsonl"))
            if _has("trafilatura"):
                runs["usual"].append(crawl("usual", base_url, tmp / "unused.sqlite", tmp / f"usual{n}.jsonl",
                                           tmp / "urls.txt"))
    ratios = [_rate(f) / _rate(b) for f, b in zip(runs["full"], runs["bare"], strict=True)]
    rates = {kind: _median([_rate(f) for f in found]) if found else 0.0 for kind, found in runs.items()}
    lines = [
        f"### 1. Framework limit (replica of {items:,} news items, {first['responses']:,} pages)",
        "",
        f"Medians of {pairs} alternating runs of the bare spider and the full crawl (2 of the others).",
        "",
        "| | pages | pages/s (median) | pages/s, each run |",
        "| --- | ---: | ---: | --- |",
    ]
    names = {"bare": "bare Scrapy spider, no-op callback, same URLs, robots.txt and concurrency",
             "full": "`nato` spider, all pipelines, SQLite + JSON Lines + raw captures (WARC)",
             "full-nowarc": "the same without raw captures (`WARC_DIR=\"\"`)",
             "usual": "the usual alternative: a Scrapy spider running trafilatura on each page, JSON Lines"}
    for kind, found in runs.items():
        if found:
            lines.append(f"| {names[kind]} | {found[0]['responses']:,} | {rates[kind]:.0f} | "
                         f"{', '.join(f'{_rate(f):.0f}' for f in found)} |")
    lines += [
        "",
        f"- full / bare, median of the {pairs} pairs (target at least 0.90): **{_median(ratios):.2f}** "
        f"(from {min(ratios):.2f} to {max(ratios):.2f})",
        f"- without raw captures / bare: {rates['full-nowarc'] / rates['bare']:.2f}",
    ]
    if rates["usual"]:
        lines.append(f"- full / the usual alternative (target at least 5): **{rates['full'] / rates['usual']:.2f}**")
    lines += [
        "",
        f"### 4. Re-crawl of the unchanged replica ({items:,} items)",
        "",
        "| | requests | bytes received | item pages downloaded | item-page bytes | wall time (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| full crawl | {first['requests']:,} | {first['bytes']:,} | {first['item_pages_fetched']:,} | "
        f"{first['item_page_bytes']:,} | {first['wall']:.1f} |",
        f"| immediate re-crawl | {again['requests']:,} | {again['bytes']:,} | {again['item_pages_fetched']:,} | "
        f"{again['item_page_bytes']:,} | {again['wall']:.1f} |",
        f"| ratio (target: bytes at most 0.05) | {again['requests'] / first['requests']:.3f} | "
        f"**{again['bytes'] / first['bytes']:.3f}** | "
        f"{again['item_pages_fetched'] / max(1, first['item_pages_fetched']):.3f} | "
        f"{again['item_page_bytes'] / max(1, first['item_page_bytes']):.3f} | {again['wall'] / first['wall']:.3f} |",
        "",
    ]
    figures = {"framework_ratio": _median(ratios), "framework_ratio_spread": max(ratios) - min(ratios),
               "framework_ratio_no_warc": rates["full-nowarc"] / rates["bare"],
               "recrawl_bytes_ratio": again["bytes"] / first["bytes"]}
    if rates["usual"]:
        figures["usual_alternative_ratio"] = rates["full"] / rates["usual"]
    return lines, figures


_NEWS_SIZED_RUNS = (("full", "`nato` spider, all pipelines, SQLite + JSON Lines + raw captures (WARC)"),
                    ("usual", "a Scrapy spider running trafilatura on each page, JSON Lines"))


def news_sized_alternative(items: int, pairs: int, tmp: Path) -> tuple[list[str], dict[str, Any]]:
    """The full crawl against the usual alternative on item pages of a news site's size (the
    replica's --news-sized-pages: about 60 KB each, with scripts, menus, a related-stories rail and
    a footer around the article), in alternating pairs on the same URLs."""
    if not _has("trafilatura"):
        return ["### 1b. Pages of a news site's size: trafilatura not installed "
                "(`pip install -r benchmarks/requirements.txt`)", ""], {}
    log = tmp / "news-sized-requests.jsonl"
    runs: dict[str, list[dict[str, Any]]] = {"full": [], "usual": []}
    with replica(items, log, "--news-sized-pages") as base_url:
        first = crawl("full", base_url, tmp / "news-sized-first.sqlite", tmp / "news-sized-first.jsonl")
        (tmp / "news-sized-urls.txt").write_text("\n".join(visited_urls(log, base_url)), encoding="utf-8")
        for n in range(pairs):
            runs["usual"].append(crawl("usual", base_url, tmp / "unused.sqlite", tmp / f"news-sized-usual{n}.jsonl",
                                       tmp / "news-sized-urls.txt"))
            runs["full"].append(crawl("full", base_url, tmp / f"news-sized{n}.sqlite", tmp / f"news-sized{n}.jsonl"))
    ratios = [_rate(f) / _rate(u) for f, u in zip(runs["full"], runs["usual"], strict=True)]
    page_kb = first["item_page_bytes"] / max(1, first["item_pages_fetched"]) / 1024
    lines = [
        f"### 1b. Pages of a news site's size (replica of {items:,} items, `--news-sized-pages`)",
        "",
        f"Item pages of {page_kb:.0f} KB on average; {pairs} alternating runs of each on the same "
        f"{first['responses']:,} pages.",
        "",
        "| | pages/s (median) | pages/s, each run |",
        "| --- | ---: | --- |",
        *(f"| {name} | {_median([_rate(f) for f in runs[kind]]):.0f} | "
          f"{', '.join(f'{_rate(f):.0f}' for f in runs[kind])} |" for kind, name in _NEWS_SIZED_RUNS),
        "",
        f"- full / the usual alternative, median of the pairs (target at least 3): **{_median(ratios):.2f}** "
        f"(from {min(ratios):.2f} to {max(ratios):.2f})",
        "",
    ]
    return lines, {"news_sized_alternative_ratio": _median(ratios), "news_sized_page_kb": page_kb}


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _tenth_rates(log: Path) -> tuple[float, float]:
    """Pages/s in the first and the last tenth of a crawl's requests, from the replica's log."""
    times = [json.loads(line)["t"] for line in log.read_text("utf-8").splitlines()]
    tenth = max(2, len(times) // 10)
    first, last = times[:tenth], times[-tenth:]
    return (tenth - 1) / max(first[-1] - first[0], 1e-3), (tenth - 1) / max(last[-1] - last[0], 1e-3)


def _fts_rebuild_seconds(db: Path) -> float:
    import sqlite3

    with sqlite3.connect(db) as conn:
        started = time.perf_counter()
        conn.execute("INSERT INTO records_fts(records_fts) VALUES('rebuild')")
        return time.perf_counter() - started


def memory(sizes: list[int], tmp: Path) -> tuple[list[str], dict[str, Any]]:
    """Scale: the same crawl at growing sizes of the replica, and a re-crawl at the largest."""
    rows = []
    for items in sizes:
        log, db = tmp / f"scale{items}.log", tmp / f"scale{items}.sqlite"
        with replica(items, log) as base_url:
            figures = crawl("full", base_url, db, tmp / f"scale{items}.jsonl")
            figures["first_tenth"], figures["last_tenth"] = _tenth_rates(log)
            if items == sizes[-1]:
                figures["recrawl"] = crawl("full", base_url, db, tmp / f"scale{items}.jsonl")
        figures["bytes_per_record"] = db.stat().st_size / max(1, figures["item_pages_fetched"])
        figures["fts_seconds"] = _fts_rebuild_seconds(db)
        rows.append((items, figures))
        for path in tmp.glob(f"scale{items}*"):
            path.unlink()
    base = rows[0][1]["maxrss_mb"]
    lines = ["### 2. Scale: the full crawl at growing sizes", "",
             "| replica items | pages | pages/s, first tenth | pages/s, last tenth | last / first | peak RSS (MB) | "
             "RSS ratio to the smallest | archive bytes per record | full-text index rebuild (s) |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for items, f in rows:
        lines.append(f"| {items:,} | {f['responses']:,} | {f['first_tenth']:.0f} | {f['last_tenth']:.0f} | "
                     f"**{f['last_tenth'] / f['first_tenth']:.2f}** | {f['maxrss_mb']:.1f} | "
                     f"**{f['maxrss_mb'] / base:.3f}** | {f['bytes_per_record']:,.0f} | {f['fts_seconds']:.2f} |")
    largest, last = rows[-1]
    again = last["recrawl"]
    lines += ["", f"Targets: at the largest size, the last tenth at least 0.9 of the first; peak RSS within 1.2 of "
              f"the smallest crawl's. Re-crawl of the unchanged {largest:,}-item replica right after: "
              f"{again['requests']:,} requests, {again['bytes']:,} bytes of {last['bytes']:,} "
              f"(**{again['bytes'] / last['bytes']:.4f}**; target at most 0.01), {again['wall']:.1f} s.", ""]
    return lines, {"memory_ratio": last["maxrss_mb"] / base, "scale_last_over_first": last["last_tenth"] /
                   last["first_tenth"], "recrawl_bytes_ratio_largest": again["bytes"] / last["bytes"]}


def synthetic_rows(count: int) -> list[dict[str, Any]]:
    import hashlib

    from portalscraper.items import RECORD_FIELDS

    body = ("Delegations underlined the importance of transparency and of the Alliance’s partnerships. " * 12).strip()
    rows = []
    for n in range(count):
        url = f"https://www.nato.int/cps/en/natohq/news_{200000 + n}.htm"
        row: dict[str, Any] = dict.fromkeys(RECORD_FIELDS)
        row.update({
            "id": hashlib.sha1(url.encode()).hexdigest()[:16], "portal": "nato", "section": "News", "kind": "news",
            "title": f"Allies discuss maritime security in meeting number {n}", "url": url, "language": "en",
            "date_text": "13 Sep. 2012 -", "date_start": "2012-09-13", "updated_text": "Last updated: 20 Sep. 2012",
            "updated_at": "2012-09-20T14:26+02:00", "summary": f"Experts from {n % 28 + 1} nations met in Brussels.",
            "body": f"{body}\n\n{body}", "source_url": "https://www.nato.int/cps/en/natohq/news.htm",
            "fetched_at": "2026-11-27T00:00:00+00:00", "content_hash": hashlib.sha256(url.encode()).hexdigest(),
            "provenance": {"title": "listing", "body": "selector"},
        })
        rows.append(row)
    return rows


def storage(count: int, tmp: Path) -> tuple[list[str], dict[str, Any]]:
    import sqlite_utils

    from portalscraper.archive import JsonLinesWriter, SQLiteArchive

    rows = synthetic_rows(count)
    timings: dict[str, float] = {}

    started = time.perf_counter()
    archive = SQLiteArchive(tmp / "writer.sqlite", batch_size=500, flush_seconds=3600, fts_sync_rows=10**9)
    archive.begin_crawl("bench", "nato", {})
    for row in rows:
        archive.add_record(row, {"listing_hash": "x", "page_fetched": True})
    archive.flush()
    timings["writer_sqlite"] = time.perf_counter() - started
    started = time.perf_counter()
    archive.sync_fts()
    timings["fts"] = time.perf_counter() - started
    archive.finish_crawl("finished", "finished", {})
    archive.close()

    started = time.perf_counter()
    writer = JsonLinesWriter(tmp / "writer.jsonl", batch_size=500)
    for row in rows:
        writer.write(row)
    writer.close()
    timings["writer_jsonl"] = time.perf_counter() - started

    plain = [{**row, "provenance": json.dumps(row["provenance"], ensure_ascii=False)} for row in rows]
    started = time.perf_counter()
    db = sqlite_utils.Database(tmp / "plain.sqlite")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.table("records").insert_all(plain, pk="id", batch_size=500)
    db.close()
    timings["insert_all"] = time.perf_counter() - started

    base = count / timings["insert_all"]

    def line(name: str, seconds: float) -> str:
        return f"| {name} | {seconds:.2f} | {count / seconds:,.0f} | {count / seconds / base:.2f} |"

    lines = [f"### 3. Storage: {count:,} records (about 4.6 KB of text each)", "",
             "| writer | seconds | records/s | ratio to insert_all |", "| --- | ---: | ---: | ---: |",
             line("sqlite-utils `insert_all`, plain table, batches of 500 (baseline)", timings["insert_all"]),
             line("**archive SQLite writer** (upsert, change counts, history, 7 indexes, FTS queue)",
                  timings["writer_sqlite"]),
             line("full-text index of those records, in bulk (end of crawl)", timings["fts"]),
             line("archive SQLite writer and its full-text index together",
                  timings["writer_sqlite"] + timings["fts"]),
             line("archive JSON Lines writer", timings["writer_jsonl"]),
             "", "Target: the archive writers at least 0.8 of insert_all.", ""]
    return lines, {"storage_ratio": count / timings["writer_sqlite"] / base}


def news_site_sized(doc: str, n: int) -> str:
    """An evaluation page grown to the size and shape of a news site's article page (about 65 KB):
    scripts and meta tags in the head, a mega menu, teaser rails and a long footer around it."""
    head = ("".join(f'<meta name="x-{k}" content="value {k}">' for k in range(60))
            + "<script>" + "var config = {a: 1, b: [1, 2, 3]};" * 800 + "</script>")
    menu = "<header><nav><ul>" + "".join(
        f'<li><a href="/s{k}">Section {k}</a><ul>' + "".join(f'<li><a href="/s{k}/{j}">Topic {j}</a></li>'
                                                              for j in range(12)) + "</ul></li>"
        for k in range(25)) + "</ul></nav></header>"
    teasers = '<section class="more">' + "".join(
        f'<article class="teaser"><a href="/n/{n}-{k}"><img src="/i/{k}.jpg" alt=""><h3>Teaser headline {k} about '
        f'something else</h3></a><p>Teaser text {k}: a sentence that sums up another story of the day.</p>'
        f'<time datetime="2012-09-2{k % 10}">2{k % 10} Sep</time></article>' for k in range(60)) + "</section>"
    footer = "<footer>" + "".join(f'<a href="/f{k}">Footer link {k}</a> ' for k in range(150)) + "</footer>"
    return (doc.replace("</head>", head + "</head>", 1).replace("<body>", "<body>" + menu, 1)
            .replace("</body>", teasers + footer + "</body>", 1))


def extraction(pages: int, every: int = 1) -> tuple[list[str], dict[str, Any]]:
    """Section 5; `every` > 1 takes every so many pages of the evaluation set (a smoke run)."""
    from portalscraper.extract.detail import extract_detail
    from portalscraper.profiles import load_profile
    from portalscraper.replica import render
    from portalscraper.replica.content import Portal

    portal = Portal(items=pages)
    replica_pages = [render.detail(item, "en") for item in portal.news_page(1, pages)]
    eval_files = sorted((ROOT / "benchmarks/evaluation/set/detail").glob("*/*.html"))[::every]
    eval_pages = [p.read_text("utf-8") for p in eval_files]
    big_pages = [news_site_sized(doc, n) for n, doc in enumerate(eval_pages[::4])]
    selectors = load_profile("nato").selectors
    try:
        import htmldate
        import trafilatura
    except ImportError:
        trafilatura = None  # type: ignore[assignment]

    def per_page(fn: Any, docs: list[str]) -> float:
        fn(docs[0])  # warm up
        started = time.perf_counter()
        for doc in docs:
            fn(doc)
        return (time.perf_counter() - started) / len(docs) * 1000

    lines = ["### 5. Extraction: ms per item page", "",
             "| pages | portalscraper | trafilatura | trafilatura + htmldate | ratio (ours / trafilatura) |",
             "| --- | ---: | ---: | ---: | ---: |"]
    figures: dict[str, Any] = {}
    for name, docs, sel in (("replica item pages (profile selectors)", replica_pages, selectors),
                            ("evaluation set, every markup (no selectors)", eval_pages, {}),
                            ("evaluation pages grown to a news site's size, ~65 KB (no selectors)", big_pages, {})):
        ours = per_page(lambda doc, sel=sel: extract_detail(doc, sel), docs)
        if trafilatura is not None:
            theirs = per_page(lambda doc: trafilatura.bare_extraction(doc, with_metadata=True), docs)
            both = per_page(lambda doc: (trafilatura.bare_extraction(doc, with_metadata=True),
                                         htmldate.find_date(doc, original_date=True)), docs)
            lines.append(f"| {name} ({len(docs)}) | {ours:.2f} | {theirs:.2f} | {both:.2f} | {ours / theirs:.2f} |")
            figures[name] = ours / theirs
        else:
            lines.append(f"| {name} ({len(docs)}) | {ours:.2f} | not installed | | |")
    lines.append("")
    return lines, figures


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A redis-server of the benchmark's own on a free port of 127.0.0.1 (Debian's redis-server)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder),
                             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(300):  # up to 30 s
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _archive_of(db: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with sqlite3.connect(db) as conn:
        records = sorted(conn.execute("SELECT id, content_hash, url, title, section, date_start, summary FROM records"))
        appearances = sorted(conn.execute("SELECT record_id, page_url, section, position, title FROM appearances"))
    return records, appearances


def shared(items: int, tmp: Path, workers: tuple[int, ...] = (1, 2, 3)) -> tuple[list[str], dict[str, Any]]:
    """Section 6: a shared crawl's pages/s with 1, 2 and 3 workers against one process, whole
    commands (start-up and the workers' last idle check included), on the same replica; whether
    each gave the one process's archive, and asked each page once."""
    if shutil.which("redis-server") is None:
        return ["### 6. Shared crawls", "", "Not run: no redis-server on this machine.", ""], {}
    log = tmp / "shared-requests.jsonl"
    runs: dict[str, tuple[float, bool, int]] = {}
    with replica(items, log) as base_url, redis_server(tmp) as url:
        reference = None
        for name, count in (("one process", 0), *((f"{n} worker{'s' if n > 1 else ''}", n) for n in workers)):
            db = tmp / f"shared-{count}.sqlite"
            log.write_text("")
            command = [sys.executable, "-m", "portalscraper.cli", "crawl", "nato", "--base-url", base_url, "--db",
                       str(db), "--jsonl", "", "--warc", str(tmp / "warc"), "-q",
                       *(["--redis", url, "--workers", str(count)] if count else [])]
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, cwd=tmp)
            wall = time.perf_counter() - started
            with sqlite3.connect(db) as conn:
                (responses,) = conn.execute("SELECT responses FROM crawls").fetchone()
            asked = [json.loads(line)["uri"] for line in log.read_text("utf-8").splitlines()]
            pages = [uri for uri in asked if uri != "/robots.txt"]
            reference = reference or _archive_of(db)
            runs[name] = (responses / wall, _archive_of(db) == reference, len(pages) - len(set(pages)))
    base = runs["one process"][0]
    lines = ["### 6. Shared crawls", "",
             f"`portalscraper crawl nato` on a {items:,}-item replica, whole commands, one run each; the "
             "workers, the writer and Redis share the machine's two cores with the replica.", "",
             "| crawl | pages/s | against one process | the one process's archive | pages asked twice |",
             "| --- | ---: | ---: | --- | ---: |"]
    lines += [f"| {name} | {rate:.0f} | {rate / base:.2f} | {'yes' if same else '**no**'} | {twice} |"
              for name, (rate, same, twice) in runs.items()]
    figures = {f"shared_{k.replace(' ', '_')}_pages_per_s": v[0] for k, v in runs.items()}
    figures["shared_same_archive"] = float(all(same for _, same, _ in runs.values()))
    return [*lines, ""], figures

# -- 7. a million records ------------------------------------------------------------------------

def million_crawls(sizes: list[int], tmp: Path) -> tuple[list[str], dict[str, Any]]:
    """Section 7, the crawl: the full crawl at each size (the smallest is the memory baseline, the
    one before the largest the archive-size baseline), then an unchanged re-crawl of the largest.
    Each crawl's figures are printed (and kept in million-crawls.jsonl) as soon as it ends: a run
    stopped during the largest crawl still shows the others."""
    rows: list[tuple[int, dict[str, Any]]] = []
    for items in sizes:
        log, db = tmp / f"million{items}.log", tmp / f"million{items}.sqlite"
        with replica(items, log) as base_url:
            figures = crawl("full", base_url, db, tmp / f"million{items}.jsonl")
            figures["first_tenth"], figures["last_tenth"] = _tenth_rates(log)
            figures["archive_bytes"] = db.stat().st_size
            figures["bytes_per_record"] = figures["archive_bytes"] / max(1, figures["item_pages_fetched"])
            if items == max(sizes):
                figures["recrawl"] = crawl("full", base_url, db, tmp / f"million{items}.jsonl")
        if items == max(sizes):
            figures["analysts"] = crawled_archive_timings(db, tmp)
        with (tmp / "million-crawls.jsonl").open("a", encoding="utf-8") as kept:
            kept.write(json.dumps({"items": items, **figures}) + "\n")
        print(f"crawl of {items:,} items: {json.dumps(figures)}", flush=True)
        rows.append((items, figures))
        for path in tmp.glob(f"million{items}*"):
            if path.is_file():
                path.unlink()
    base = rows[0][1]
    sized = rows[-2][1] if len(rows) > 1 else base
    largest, last = rows[-1]
    again = last["recrawl"]
    lines = [f"### 7. A million records: the crawl ({largest:,} items, one process)", "",
             "| replica items | pages | pages/s, first tenth | pages/s, last tenth | last / first | peak RSS (MB) | "
             "RSS ratio to the smallest | archive bytes per record | WARC queue full (times, s waited) | wall (s) |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for items, f in rows:
        lines.append(f"| {items:,} | {f['responses']:,} | {f['first_tenth']:.0f} | {f['last_tenth']:.0f} | "
                     f"**{f['last_tenth'] / f['first_tenth']:.2f}** | {f['maxrss_mb']:.1f} | "
                     f"**{f['maxrss_mb'] / base['maxrss_mb']:.3f}** | {f['bytes_per_record']:,.0f} | "
                     f"{f['warc_queue_full']:,} ({f['warc_queue_full_wait_seconds']:.1f}) | {f['wall']:.0f} |")
    lines += ["", f"Targets at {largest:,} items: the last tenth at least 0.9 of the first; peak RSS at most 1.2 "
              "times the smallest crawl's; archive bytes per record (full-text index included) no more than at "
              f"{rows[-2][0] if len(rows) > 1 else largest:,}; the WARC writer's queue never full. Re-crawl of the "
              f"unchanged replica right after: {again['requests']:,} requests, {again['bytes']:,} bytes of "
              f"{last['bytes']:,} (**{again['bytes'] / last['bytes']:.5f}**; target at most 0.001), "
              f"{again['wall']:.1f} s.", ""]
    seen = last["analysts"]
    lines += [f"The archive that crawl wrote ({seen['records']:,} records), as analysts use it (section 7's "
              "questions; ms, serve / SQL): " + "; ".join(f"{key} {t['serve'] * 1000:,.0f} / {t['sql'] * 1000:,.0f}"
                                                          for key, t in seen["timings"].items())
              + f"; `export --format jsonl` {seen['export_records_per_s']:,.0f} records/s. Search words and "
              "the records each matches: " + ", ".join(f"{w} {n:,}" for w, n in seen["words"]) + ".", ""]
    return lines, {"million_last_over_first": last["last_tenth"] / last["first_tenth"],
                   "million_memory_ratio": last["maxrss_mb"] / base["maxrss_mb"],
                   "million_bytes_per_record_ratio": last["bytes_per_record"] / sized["bytes_per_record"],
                   "million_warc_queue_full": float(last["warc_queue_full"]),
                   "million_recrawl_bytes_ratio": again["bytes"] / last["bytes"]}


def crawled_words(db: Path, count: int = 20) -> list[tuple[str, int]]:
    """Half the most common words of a crawled archive's full-text index, half rare ones (in about
    0.05% of its records, at least 2), with the number of records each matches."""
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE VIRTUAL TABLE temp.vocabulary USING fts5vocab(main, records_fts, 'row')")
        (records,) = conn.execute("SELECT count(*) FROM records").fetchone()
        common = conn.execute("SELECT term, doc FROM temp.vocabulary WHERE length(term) > 3 ORDER BY doc DESC "
                              "LIMIT ?", [count // 2]).fetchall()
        rare = conn.execute("SELECT term, doc FROM temp.vocabulary WHERE doc >= ? AND length(term) > 3 "
                            "ORDER BY doc LIMIT ?", [max(2, records // 2000), count - count // 2]).fetchall()
    return [(term, doc) for term, doc in [*common, *rare]]


def crawled_archive_timings(db: Path, tmp: Path) -> dict[str, Any]:
    """The analysts' questions (section 7's) on the archive the crawl wrote, and its export."""
    words = crawled_words(db)
    with sqlite3.connect(db) as conn:
        (rid,) = conn.execute("SELECT id FROM records LIMIT 1 OFFSET (SELECT count(*) / 2 FROM records)").fetchone()
        (records,) = conn.execute("SELECT count(*) FROM records").fetchone()
    sql = _sql_timings(db, [w for w, _ in words], rid)
    http = _serve_timings(db, [w for w, _ in words], rid)
    timings = {key: {"serve": _p95(v) if isinstance(v, list) else v,
                     "sql": _p95(sql[key]) if isinstance(sql[key], list) else sql[key]} for key, v in http.items()}
    out = tmp / "crawled-export.jsonl"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "portalscraper.cli", "export", "--db", str(db), "--format", "jsonl",
                    "--output", str(out)], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    out.unlink()
    return {"records": records, "words": words, "timings": timings, "export_records_per_s": records / seconds,
            "refused": REFUSED[:]}


# Words of the synthetic archive's texts, most frequent first: function words, then the portal's
# own vocabulary, then made-up words (a Zipf distribution over all of them: a long tail of rare ones).
_FUNCTION_WORDS = ("the", "of", "and", "to", "in", "a", "for", "on", "with", "that", "is", "by", "as", "at", "from",
                   "be", "are", "this", "was", "it", "their", "an", "which", "its", "have", "has", "will", "were",
                   "been", "not", "also", "they", "all", "or", "more", "other", "who")
_PORTAL_WORDS = ("nato", "allies", "alliance", "security", "defence", "minister", "secretary",
                 "general", "council", "partners", "partnership", "operations", "afghanistan", "forces",
                 "military", "cooperation", "summit", "meeting", "international", "support", "mission", "countries",
                 "member", "nations", "capabilities", "crisis", "training", "strategic", "political", "headquarters",
                 "brussels", "european", "union", "missile", "cyber", "maritime", "piracy", "kosovo", "libya",
                 "russia", "ukraine", "georgia", "energy", "terrorism", "commander", "deputy", "ambassador",
                 "delegation", "committee", "conference", "declaration", "exercise", "troops", "assistance",
                 "reform", "stability", "regional", "dialogue", "mediterranean", "balkans")
_SYLLABLES = "ka ri to me lan vor su pel din gra o nes tu ba rek li fo zan mi der sto al ven cu"


def _vocabulary(size: int = 50_000) -> list[str]:
    import itertools

    syllables = _SYLLABLES.split()
    made_up = ("".join(parts) for n in (3, 4) for parts in itertools.product(syllables, repeat=n))
    seen = set(_FUNCTION_WORDS) | set(_PORTAL_WORDS)
    words = [*_FUNCTION_WORDS, *_PORTAL_WORDS]
    for word in made_up:
        if word not in seen:
            seen.add(word)
            words.append(word)
        if len(words) == size:
            break
    return words


# The sections of the synthetic portal, and their share of its items.
_SECTIONS = (("News", "news", 60), ("Press releases", "press-release", 15), ("Speeches and transcripts", "speech", 10),
             ("Photos", "photo", 7), ("Videos", "video", 5), ("NATO Review", "review", 3))


class SyntheticPortal:
    """Records of a portal of `count` items, as the spiders make them: texts of Zipf-distributed
    words (common and rare ones), dates over 14 years, six sections, English and French."""

    def __init__(self, count: int, seed: int = 2012) -> None:
        import random

        self.count = count
        self.rng = random.Random(seed)
        self.words = _vocabulary()
        total, self.cum_weights = 0.0, []
        for rank in range(1, len(self.words) + 1):
            total += 1 / rank
            self.cum_weights.append(total)
        self.section_at = [(name, kind) for name, kind, share in _SECTIONS for _ in range(share)]
        # Texts drawn from pools of sentences and paragraphs (drawing every word of a million records
        # takes longer than writing them): a word's records are still a few in a million to most.
        pool = max(1_000, min(count // 5, 50_000))
        self.titles = [self.text(self.rng.randint(5, 11)).capitalize() for _ in range(pool)]
        self.summaries = [self.text(self.rng.randint(15, 35)).capitalize() + "." for _ in range(pool)]
        self.paragraphs = [self.text(self.rng.randint(40, 90)).capitalize() + "." for _ in range(pool)]

    def text(self, words: int) -> str:
        return " ".join(self.rng.choices(self.words, cum_weights=self.cum_weights, k=words))

    def pick(self, texts: list[str]) -> str:
        return texts[self.rng.randrange(len(texts))]

    def record(self, n: int, version: int = 0) -> dict[str, Any]:
        import datetime as dt
        import hashlib

        from portalscraper.items import RECORD_FIELDS

        rng = self.rng
        section, kind = self.section_at[n % len(self.section_at)]
        language = "fr" if n % 5 == 4 else "en"
        url = f"https://www.nato.int/cps/{language}/natohq/{kind}_{100000 + n}.htm"
        day = dt.date.fromordinal(730_000 + rng.randrange(5_000))  # 1999-08 to 2013-04
        title = f"{self.pick(self.titles)} {n}" + (f" (update {version})" if version else "")
        summary = self.pick(self.summaries)
        body = "\n\n".join(self.pick(self.paragraphs) for _ in range(rng.randint(2, 5)))
        row: dict[str, Any] = dict.fromkeys(RECORD_FIELDS)
        row.update({
            "id": hashlib.sha1(url.encode()).hexdigest()[:16], "portal": "nato", "section": section, "kind": kind,
            "title": title, "url": url, "language": language, "date_text": f"{day.day} {day:%b}. {day.year} -",
            "date_start": day.isoformat(), "updated_text": f"Last updated: {day.day} {day:%b}. {day.year} 14:26",
            "updated_at": f"{day.isoformat()}T14:26+02:00", "summary": summary, "body": body,
            "source_url": f"https://www.nato.int/cps/{language}/natohq/{kind}.htm",
            "fetched_at": "2026-11-27T00:00:00+00:00",
            "content_hash": hashlib.sha256(f"{title}\n{summary}\n{body}".encode()).hexdigest(),
            "provenance": {"title": "listing", "date_start": "listing", "body": "selector"},
        })
        return row


def synthetic_archive(path: Path, count: int, crawls: int = 3, revisited: int = 20_000) -> dict[str, Any]:
    """An archive of `count` records written through the archive's own writer as `crawls` crawls
    would: the first lists every item (an appearance each, the homepage's 30 first), each later one
    a complete pass over `revisited` items of which half changed (record_versions rows) and a
    hundred new. What the writer does at the end of a crawl (the full-text index, ANALYZE...) it
    does here too. Returns the ids of some changed records and the seconds it took."""
    from portalscraper import settings
    from portalscraper.archive import SQLiteArchive

    portal = SyntheticPortal(count)
    started = time.perf_counter()
    archive = SQLiteArchive(path, settings.ARCHIVE_BATCH_SIZE, settings.ARCHIVE_FLUSH_SECONDS,
                            settings.ARCHIVE_FTS_SYNC_ROWS)  # as a crawl writes
    changed: list[str] = []
    total = count
    for crawl_no in range(crawls):
        archive.begin_crawl("nato", "nato", {"crawl": crawl_no})
        if crawl_no == 0:
            listed: list[int] = list(range(count))
        else:
            listed = sorted(portal.rng.sample(range(count), min(revisited, count)))
            listed += list(range(total, total + 100))
            total += 100
        for position, n in enumerate(listed[:30], 1):  # the homepage, read first
            row = portal.record(n)
            archive.add_appearance({"record_id": row["id"], "url": row["url"], "section": "Top stories",
                                    "source_url": "https://www.nato.int/cps/en/natohq/index.htm",
                                    "page_url": "https://www.nato.int/cps/en/natohq/index.htm",
                                    "position": position, "date_text": row["date_text"], "title": row["title"]})
        for position, n in enumerate(listed):
            version = crawl_no if (crawl_no and n < count and position % 2 == 0) else 0
            row = portal.record(n, version)
            if version and len(changed) < 1000:
                changed.append(row["id"])
            archive.add_record(row, {"listing_hash": row["content_hash"][:16], "page_fetched": True})
            archive.add_appearance({"record_id": row["id"], "url": row["url"], "section": row["section"],
                                    "source_url": f"{row['source_url']}?page={position // 20 + 1}",
                                    "page_url": f"{row['source_url']}?page={position // 20 + 1}",
                                    "position": position % 20 + 1, "date_text": row["date_text"],
                                    "title": row["title"]})
        archive.finish_crawl("finished", "finished", {})
    archive.close()
    return {"seconds": time.perf_counter() - started, "changed": changed, "records": total}


def search_words(db: Path, count: int = 20) -> list[tuple[str, int]]:
    """Half common words (in a tenth to most of the records), half rare ones (in about 0.05% of them),
    with the number of records each matches."""
    vocabulary = _vocabulary()
    common = _PORTAL_WORDS[:count // 2]
    rare = vocabulary[-count // 2:]
    with sqlite3.connect(db) as conn:
        return [(word, conn.execute("SELECT count(*) FROM records_fts WHERE records_fts MATCH ?", [word]).fetchone()[0])
                for word in [*common, *rare]]


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def _timed(fn: Any, repeat: int = 3) -> float:
    """Seconds of the median of `repeat` calls, after one to warm up."""
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return _median(times)


@contextlib.contextmanager
def serving(db: Path) -> Iterator[str]:
    """`portalscraper serve` on the archive (Datasette as shipped), on a free port of 127.0.0.1."""
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "portalscraper.cli", "serve", "--db", str(db), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # up to 60 s
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=5).read()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


REFUSED: list[str] = []  # the URLs Datasette answered with an error (its time limit), in this run


def _get(url: str) -> bytes:
    """The body of `url`; an error (Datasette's time limit: 400) is kept in REFUSED, and timed as
    any answer."""
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never a proxy
    try:
        with opener.open(url, timeout=300) as answer:
            body: bytes = answer.read()
            return body
    except urllib.error.HTTPError as exc:
        REFUSED.append(f"{url} ({exc.code})")
        return b""


def analysts(sizes: list[int], tmp: Path) -> tuple[list[str], dict[str, Any]]:
    """Section 7, the analysts: on synthetic archives made by the archive's writer, what `portalscraper
    serve` answers over HTTP, the same questions in SQL, and the JSON Lines export."""
    lines = ["### 7. A million records: as analysts use the archive", ""]
    figures: dict[str, Any] = {}
    targets = {"search": 0.1, "table": 0.5, "table_json": 0.5, "facet": 1.0, "items_per_month": 2.0,
               "charts": 2.0, "record_history": 0.05}
    names = {"search": "ranked full-text search (`search` canned query), p95 over 20 words",
             "table": "records table page (HTML, sorted by date, its facets)",
             "table_json": "records table JSON sorted by date",
             "facet": "facet on `section` (table JSON)",
             "items_per_month": "`items_per_month` canned query",
             "charts": "`/-/charts` page", "record_history": "`record_history` of one record"}
    table = ["| | " + " | ".join(f"{n:,} records, serve | {n:,}, SQL" for n in sizes) + " | target |",
             "| --- | " + " | ".join("---: | ---:" for _ in sizes) + " | ---: |"]
    results: dict[int, dict[str, tuple[float, float]]] = {}
    notes = []
    for count in sizes:
        db = tmp / f"analysts{count}.sqlite"
        made = synthetic_archive(db, count)
        size = sum(p.stat().st_size for p in tmp.glob(f"analysts{count}.sqlite*") if p.is_file())
        words = search_words(db)
        rid = made["changed"][0]
        print(f"archive of {count:,} records made in {made['seconds']:.0f} s, {size / made['records']:,.0f} bytes "
              f"per record; words: {words}", flush=True)
        load = os.getloadavg()
        sql = _sql_timings(db, [w for w, _ in words], rid)
        http = _serve_timings(db, [w for w, _ in words], rid)
        results[count] = {key: (_p95(v) if isinstance(v, list) else v,
                                _p95(sql[key]) if isinstance(sql[key], list) else sql[key]) for key, v in http.items()}
        out = tmp / "export.jsonl"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "portalscraper.cli", "export", "--db", str(db), "--format", "jsonl",
                        "--output", str(out)], check=True, capture_output=True)
        export_rate = made["records"] / (time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        export_cpu_rate = made["records"] / (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        out.unlink()
        half = len(words) // 2
        if REFUSED:
            notes.append(f"- **refused** by `portalscraper serve` ({len(REFUSED)}): {', '.join(sorted(set(REFUSED)))}")
            REFUSED.clear()
        notes.append(f"- {count:,} records ({made['records']:,} after the later crawls' new ones), "
                     f"{size / made['records']:,.0f} bytes per record, made in {made['seconds']:.0f} s; "
                     f"`portalscraper export --format jsonl`: **{export_rate:,.0f} records/s** (target at least "
                     f"20,000), {export_cpu_rate:,.0f} per second of its CPU time; search words and the records "
                     "each matches: " + ", ".join(f"{w} {n:,}" for w, n in words)
                     + "; search, median of the common words and of the rare ones: "
                     f"{_median(http['search'][:half]) * 1000:.0f} and {_median(http['search'][half:]) * 1000:.0f} ms "
                     f"(serve), {_median(sql['search'][:half]) * 1000:.0f} and "
                     f"{_median(sql['search'][half:]) * 1000:.0f} ms (SQL); load average (1 min) "
                     f"{load[0]:.1f} before, {os.getloadavg()[0]:.1f} after")
        figures[f"analysts_{count}_export_cpu_records_per_s"] = export_cpu_rate
        figures[f"analysts_{count}_export_records_per_s"] = export_rate
        for key in http:
            figures[f"analysts_{count}_{key}_s"] = results[count][key][0]
        for path in tmp.glob(f"analysts{count}.sqlite*"):
            path.unlink()
    for key, title in names.items():
        cells = " | ".join(f"{results[n][key][0] * 1000:,.0f} | {results[n][key][1] * 1000:,.0f}" for n in sizes)
        table.append(f"| {title} | {cells} | {targets[key] * 1000:,.0f} |")
    lines += ["Milliseconds, warm (the median of 3 after one to warm up; search: one per word after a warm-up).",
              "", *table, "", *notes, ""]
    return lines, figures


def _serve_timings(db: Path, words: list[str], record_id: str) -> dict[str, Any]:
    """The analysts' questions to `portalscraper serve`, over HTTP."""
    from urllib.parse import quote

    name = db.stem
    with serving(db) as base:
        return {
            "search": [_timed(lambda w=w: _get(f"{base}/{name}/search.json?q={quote(w)}"), 1) for w in words],
            "table": _timed(lambda: _get(f"{base}/{name}/records")),
            "table_json": _timed(lambda: _get(f"{base}/{name}/records.json?_sort_desc=date_start")),
            "facet": _timed(lambda: _get(f"{base}/{name}/records.json?_facet=section&_size=0")),
            "items_per_month": _timed(lambda: _get(f"{base}/{name}/items_per_month.json")),
            "charts": _timed(lambda: _get(f"{base}/-/charts")),
            "record_history": _timed(lambda: _get(f"{base}/{name}/record_history.json?id={record_id}")),
        }


def _sql_timings(db: Path, words: list[str], record_id: str) -> dict[str, Any]:
    """The analysts' questions in SQL, on a connection of their own (as a notebook would ask them)."""
    from portalscraper.serve.config import HOMEPAGE_SIGHTINGS, QUERIES

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    search = QUERIES["search"][1]  # its first page: 20 results

    def run(query: str, params: Any = ()) -> Any:
        return lambda: conn.execute(query, params).fetchall()

    try:
        return {
            "search": [_timed(run(search, {"q": w, "page": ""}), 1) for w in words],
            "table": _timed(run("SELECT * FROM records ORDER BY date_start DESC LIMIT 101")),
            "table_json": _timed(run("SELECT * FROM records ORDER BY date_start DESC LIMIT 101")),
            "facet": _timed(run("SELECT section, count(*) FROM records GROUP BY section ORDER BY count(*) DESC")),
            "items_per_month": _timed(run(QUERIES["items_per_month"][1])),
            "charts": _timed(lambda: (run(QUERIES["items_per_month"][1])(),
                                      run(HOMEPAGE_SIGHTINGS, {"crawl_id": ""})())),
            "record_history": _timed(run(QUERIES["record_history"][1], {"id": record_id})),
        }
    finally:
        conn.close()


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    from importlib.metadata import version

    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), Python "
            f"{platform.python_version()}, Scrapy {version('scrapy')}, sqlite-utils {version('sqlite-utils')}, "
            f"SQLite {__import__('sqlite3').sqlite_version}")


FIGURES = "## Figures of the last run"
MILLION_FIGURES = "## A million records: figures of the last run"


def write_report(path: Path, report: list[str], heading: str = FIGURES) -> None:
    """The run's figures under `heading` in `path`, in place of that section's (up to the next `## `
    heading): the rest, written by hand, is kept. A heading not there yet goes before FIGURES."""
    text = path.read_text("utf-8") if path.is_file() else ""
    block = heading + "\n\n" + "\n".join(report) + "\n"
    if heading in text:
        head, rest = text.split(heading, 1)
        end = rest.find("\n## ")
        text = head + block + (rest[end:] if end >= 0 else "")
    elif FIGURES in text:
        head, rest = text.split(FIGURES, 1)
        text = head + block + "\n" + FIGURES + rest
    else:
        text += block
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_crawl":
        print(json.dumps(child_crawl(*argv[1:6])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=5000, help="replica size for sections 1 and 4 (default 5000)")
    parser.add_argument("--pairs", type=int, default=5, help="alternating bare/full pairs in section 1 (default 5)")
    parser.add_argument("--memory-items", default="2000,20000,100000", help="replica sizes for section 2")
    parser.add_argument("--records", type=int, default=100_000, help="records for section 3 (default 100000)")
    parser.add_argument("--pages", type=int, default=300, help="replica item pages for section 5 (default 300)")
    parser.add_argument("--million", action="store_true",
                        help="run section 7 alone (a million records: hours, by hand)")
    parser.add_argument("--million-crawls", default="2000,100000,1000000",
                        help="replica sizes crawled in section 7, the largest last ('' for none)")
    parser.add_argument("--million-records", default="100000,1000000",
                        help="sizes of the synthetic archives section 7 measures as analysts use them ('' for none)")
    parser.add_argument("--work", metavar="DIR", help="work folder, kept (default: a temporary one)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script, not the speed")
    parser.add_argument("--write", metavar="FILE", help="also write the report (markdown) to FILE")
    args = parser.parse_args(argv)
    if args.smoke:
        args.items, args.memory_items, args.records, args.pages, args.pairs = 100, "100,200", 1000, 20, 2
        args.million_crawls, args.million_records = "200,300", "1000"
    sizes = [int(n) for n in args.memory_items.split(",")]
    million_sizes = [int(n) for n in args.million_crawls.split(",") if n.strip()]
    million_records = [int(n) for n in args.million_records.split(",") if n.strip()]
    command = "python benchmarks/bench.py" + (" " + " ".join(argv) if argv else "")
    report = [f"Machine: {machine()}", f"Command: `{command}`", f"Date: {time.strftime('%Y-%m-%d')}", ""]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() if args.work is None else contextlib.nullcontext(args.work) as tmp:
        Path(tmp).mkdir(parents=True, exist_ok=True)
        sections = [lambda: framework_and_recrawl(args.items, args.pairs, Path(tmp)),
                    lambda: news_sized_alternative(args.items, 1 if args.smoke else 3, Path(tmp)),
                    lambda: memory(sizes, Path(tmp)),
                    lambda: storage(args.records, Path(tmp)),
                    lambda: extraction(args.pages, 4 if args.smoke else 1),
                    lambda: shared(args.items, Path(tmp), (1, 2) if args.smoke else (1, 2, 3))]
        if args.million:
            sections = [*([lambda: million_crawls(million_sizes, Path(tmp))] if million_sizes else []),
                        *([lambda: analysts(million_records, Path(tmp))] if million_records else [])]
        for section in sections:
            lines, figures = section()
            report += lines
            results.update(figures)
            print("\n".join(lines), flush=True)
    if args.write:
        write_report(Path(args.write), report, MILLION_FIGURES if args.million else FIGURES)
    print(json.dumps({k: round(v, 3) for k, v in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
