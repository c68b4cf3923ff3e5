"""Field-level precision, recall and F1 of the extraction on the labelled evaluation set.

    python benchmarks/evaluate.py [--check]

For item pages: title, date_start, date_end, summary, updated_at and the start of the body, per
markup; beside them the same figures for trafilatura + htmldate (if installed: `pip install -r
benchmarks/requirements.txt`) on the fields they extract. For listing pages: title, date_start,
date_end, summary and section of every entry, per markup. `--check` exits 1 unless every F1 of
ours is at least 0.97 and at least trafilatura's on every field it extracts.

Scoring: a value found and right is a true positive; found and wrong, a false positive (and a
false negative when there was a true value); not found where there was one, a false negative.
A field with nothing to find and nothing found scores 1. Texts compare after whitespace
folding; dates as ISO 8601 strings; a body is right when the true body's first 80 characters
are within the first 300 of the extracted one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from portalscraper.extract.detail import extract_detail  # noqa: E402
from portalscraper.extract.listing import extract_listing  # noqa: E402
from portalscraper.extract.normalize import normalize  # noqa: E402
from portalscraper.extract.text import fold  # noqa: E402
from portalscraper.items import Record  # noqa: E402

SET = ROOT / "benchmarks/evaluation/set"
TIMEZONE = "Europe/Brussels"
DETAIL_FIELDS = ("title", "date_start", "date_end", "summary", "updated_at", "body")
LISTING_FIELDS = ("title", "date_start", "date_end", "summary", "section")
TARGET = 0.97


class Score:
    def __init__(self) -> None:
        self.tp = self.fp = self.fn = 0

    def add(self, truth: str | None, found: str | None, right: bool) -> None:
        if found:
            if truth and right:
                self.tp += 1
                return
            self.fp += 1
        if truth:
            self.fn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        if not (self.tp or self.fp or self.fn):
            return 1.0
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def same(field: str, truth: str | None, found: str | None) -> bool:
    if not truth or not found:
        return False
    if field == "body":
        return fold(truth)[:80] in fold(found)[:300]
    if field == "updated_date":
        return truth[:10] == found[:10]
    if field == "updated_at":  # the same moment: 14:26 and 14:26:00 are one time
        try:
            return dt.datetime.fromisoformat(truth) == dt.datetime.fromisoformat(found)
        except ValueError:
            return False
    return fold(truth) == fold(found)


# -- extractors -----------------------------------------------------------------------------------

def ours(html: str, url: str | None = None) -> dict[str, Any]:
    fields = extract_detail(html, url=url)
    record = Record(title=fields.title, date_text=fields.date_text, updated_text=fields.updated_text,
                    summary=fields.summary, body=fields.body)
    normalize(record, TIMEZONE)
    return {"title": record.title, "date_start": record.date_start, "date_end": record.date_end,
            "summary": record.summary, "updated_at": record.updated_at, "body": record.body}


def trafilatura_htmldate(html: str, url: str | None = None) -> dict[str, Any] | None:
    try:
        import htmldate
        import trafilatura
    except ImportError:
        return None
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    return {
        "title": getattr(doc, "title", None), "summary": getattr(doc, "description", None),
        "body": getattr(doc, "text", None),
        "date_start": htmldate.find_date(html, original_date=True, extensive_search=True, url=url),
        "updated_date": htmldate.find_date(html, original_date=False, extensive_search=True),
    }


# -- evaluation ------------------------------------------------------------------------------------

def evaluate_detail(labels: dict[str, dict[str, Any]],
                    extractor: Callable[[str, str | None], dict[str, Any] | None]
                    ) -> dict[str, dict[str, Score]] | None:
    scores: dict[str, dict[str, Score]] = defaultdict(lambda: defaultdict(Score))
    for name, truth in labels.items():
        markup = name.split("/")[1]
        found = extractor((SET / name).read_text("utf-8"), truth.get("page_url"))  # the page's address, if known
        if found is None:
            return None
        for field, value in found.items():
            true_value = truth["updated_at"] if field == "updated_date" else truth[field]
            scores[markup][field].add(true_value, value, same(field, true_value, value))
    return scores


def evaluate_listing(labels: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Score]]:
    from portalscraper.extract.dates import parse_date_range
    from portalscraper.extract.text import clean_text

    scores: dict[str, dict[str, Score]] = defaultdict(lambda: defaultdict(Score))
    for name, truth in labels.items():
        markup = name.removeprefix("listing/").removesuffix(".html")
        page_url = "https://portal.example/" + name
        entries = extract_listing((SET / name).read_text("utf-8"), page_url,
                                  lambda url: "/cps/" in url and not url.endswith("index.htm"),
                                  is_hub_url=lambda url: url.endswith("/EN/index.htm"))
        found = {}
        for entry in entries:
            dates = parse_date_range(entry.date_text or "")
            found[urlsplit(entry.url).path] = {
                "title": clean_text(entry.title), "date_start": dates.start, "date_end": dates.end,
                "summary": clean_text(entry.summary), "section": entry.section,
            }
        expected = {t["url"]: t for t in truth}
        for path in expected.keys() | found.keys():
            t, f = expected.get(path, {}), found.get(path, {})
            for field in LISTING_FIELDS:
                scores[markup][field].add(t.get(field), f.get(field), same(field, t.get(field), f.get(field)))
    return scores


SITE_FIELDS = ("title", "date_start", "date_end", "summary", "updated_at", "section")


def site_truth(name: str) -> tuple[Any, list[dict[str, Any]]]:
    """A site of the project's own: its server class and what a crawl must archive, field by field."""
    if name == "site":
        from evaluation.site import SITE_ITEMS, SiteServer

        return SiteServer, [{"path": i.path, "title": i.title, "date_start": i.date_start, "date_end": i.date_end,
                             "summary": i.summary, "section": None,  # not labelled on this site
                             "updated_at": None if not i.updated else dt.datetime.strptime(
                                 i.updated, "%d %B %Y %H:%M").strftime("%Y-%m-%dT%H:%M")}
                            for i in SITE_ITEMS if not i.missing]
    from evaluation.newsroom import ITEMS, NewsroomServer

    return NewsroomServer, [{"path": i.path, "title": i.title, "date_start": i.date_start, "date_end": i.date_end,
                             "summary": i.summary, "section": i.section, "updated_at": None} for i in ITEMS]


def evaluate_site(folder: Path, name: str = "site") -> dict[str, Any]:
    """A site-level score: the `portal` spider, with no profile, crawls a portal of the project's own
    (evaluation/site.py, evaluation/newsroom.py) twice through the real command; each item's fields
    against the truth, duplicates, navigation records, and whether the two archives are the same."""
    import sqlite3
    import subprocess

    server_class, truth = site_truth(name)
    server = server_class()
    archives = []
    try:
        for run in (1, 2):
            db = folder / f"{name}-{run}.sqlite"
            subprocess.run([sys.executable, "-m", "portalscraper.cli", "crawl", "portal", "--start-url",
                            server.base_url + "/", "--db", str(db), "--jsonl", "", "--warc", "", "--log-level",
                            "CRITICAL"], cwd=folder, check=False, capture_output=True, timeout=300,
                           env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
            with sqlite3.connect(db) as conn:
                archives.append(conn.execute(f"SELECT url, {', '.join(SITE_FIELDS)}, content_hash FROM records "
                                             "ORDER BY url").fetchall())
    finally:
        server.stop()
    found = {urlsplit(row[0]).path: row for row in archives[0]}
    scored = [f for f in SITE_FIELDS if f != "section" or any(t["section"] is not None for t in truth)]
    right = {name: 0 for name in scored}
    for item in truth:
        row = found.get(item["path"])
        if row is None:
            continue
        values = dict(zip(SITE_FIELDS, row[1:1 + len(SITE_FIELDS)], strict=True))
        for field in scored:
            right[field] += values[field] == item[field]
    paths = [urlsplit(row[0]).path for row in archives[0]]
    return {
        "items": len(truth), "found": sum(t["path"] in found for t in truth),
        "fields": right, "duplicates": len(paths) - len(set(paths)),
        "junk": sum(p not in {t["path"] for t in truth} for p in set(paths)),
        "same_twice": archives[0] == archives[1],
    }


def table(title: str, scores: dict[str, dict[str, Score]], fields: tuple[str, ...]) -> list[str]:
    lines = [title, f"{'markup':22}" + "".join(f"{f:>20}" for f in fields)]
    for markup, by_field in scores.items():
        cells = [f"{s.f1:5.3f} ({s.precision:.2f}/{s.recall:.2f})" for s in (by_field[f] for f in fields)]
        lines.append(f"{markup:22}" + "".join(f"{c:>20}" for c in cells))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 unless the targets are met")
    args = parser.parse_args()
    labels = json.loads((SET / "labels.json").read_text("utf-8"))
    detail = evaluate_detail(labels["detail"], ours)
    assert detail is not None
    listing = evaluate_listing(labels["listing"])
    pages = len(labels["detail"]), len(labels["listing"])
    print(f"Evaluation set: {pages[0]} item pages, {pages[1]} listing pages; cells: F1 (precision/recall)\n")
    print("\n".join(table("Item pages, portalscraper", detail, DETAIL_FIELDS)) + "\n")
    print("\n".join(table("Listing pages, portalscraper", listing, LISTING_FIELDS)) + "\n")
    failures = [f"{kind} {markup} {field}: F1 {score.f1:.3f}"
                for kind, scores in (("item", detail), ("listing", listing))
                for markup, by_field in scores.items() for field, score in by_field.items() if score.f1 < TARGET]
    import tempfile

    for name, what in (("site", "site.py, a press portal"), ("newsroom", "newsroom.py, a newspaper")):
        with tempfile.TemporaryDirectory() as folder:
            site = evaluate_site(Path(folder), name)
        n = site["items"]
        print(f"Site level, the portal spider on evaluation/{what} (no profile, {n} items, crawled twice):")
        fields = ", ".join(f"{k} {v}/{site['found']}" for k, v in site["fields"].items())
        print(f"  found {site['found']}/{n}; {fields}; duplicates {site['duplicates']}; navigation records "
              f"{site['junk']}; same archive twice: {'yes' if site['same_twice'] else 'no'}\n")
        failures += [f"{name}: {k} {v}/{n}" for k, v in {"found": site["found"], **site["fields"]}.items() if v < n]
        failures += [f"{name}: {k} {site[k]}" for k in ("duplicates", "junk") if site[k]]
        if not site["same_twice"]:
            failures.append(f"{name}: two crawls gave different archives")
    other = evaluate_detail(labels["detail"], trafilatura_htmldate)
    if other is None:
        print("trafilatura + htmldate: not installed (pip install -r benchmarks/requirements.txt)")
    else:
        compared = ("title", "date_start", "summary", "updated_date", "body")
        print("\n".join(table("Item pages, trafilatura + htmldate (updated: date part only)", other, compared)))
        ours_dates = evaluate_detail(labels["detail"],
                                     lambda html, url: {"updated_date": ours(html, url)["updated_at"]})
        assert ours_dates is not None
        print("\nSame fields, portalscraper minus trafilatura + htmldate (F1):")
        print(f"{'markup':22}" + "".join(f"{f:>14}" for f in compared))
        for markup in detail:
            mine = {**detail[markup], "updated_date": ours_dates[markup]["updated_date"]}
            diffs = [mine[f].f1 - other[markup][f].f1 for f in compared]
            print(f"{markup:22}" + "".join(f"{d:>+14.3f}" for d in diffs))
            failures += [f"item {markup} {f}: below trafilatura + htmldate"
                         for f, d in zip(compared, diffs, strict=True) if d < 0]
    print()
    if failures:
        print("Below target:\n  " + "\n  ".join(failures))
    else:
        print(f"Every F1 at least {TARGET}" + ("" if other is None else ", and at least trafilatura + htmldate's"))
    return 1 if args.check and failures else 0


if __name__ == "__main__":
    sys.exit(main())
