"""Item-page extraction on real pages: `portalscraper extract` over a development set of real pages
with truth (title, date, body), scored by the set's own scorer, beside the peers' figures.

    python benchmarks/realpages.py [--set ../shared/realpages] [--no-timing] [--check] [--failures N]

The set is a folder with `truth.jsonl` (one page per line: name, url, title, date, body...),
`pages/<name>.html.gz`, `score.py` and `peers.md` (see its README). Nothing of it is copied into the
project: this script builds a manifest in a temporary folder, runs the command a researcher runs
(`portalscraper extract --manifest`), and hands its JSON Lines to `score.py`.

Timing: every page's extraction as the command does it (decoding, parsing, fields), in this
process, each page alternately ours and trafilatura's (`bare_extraction`, if installed:
`pip install -r benchmarks/requirements.txt`), so both see the same machine load; CPU time per page.
`--check` exits 1 unless every field reaches the peers' best figure with coverage at least 0.99.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from portalscraper.extract.itempage import decode_page, read_item_page  # noqa: E402

DEFAULT_SET = ROOT.parent / "shared" / "realpages"
FIELDS = ("title", "date", "body", "body_first")
_SUMMARY = re.compile(r"realpages: title ([\d.]+), date ([\d.]+), body F1 ([\d.]+), body_first ([\d.]+)")
_ALL_ROW = re.compile(r"^\s+(title|date|body|body_first)\s+(\d+)\s+([\d.]+)%\s+(?:F1 )?([\d.]+)", re.MULTILINE)
MIN_COVERAGE = 99.0


def manifest(truth: list[dict[str, Any]], pages: Path, folder: Path) -> Path:
    path = folder / "manifest.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for page in truth:
            entry = {"path": str(pages / f"{page['name']}.html.gz"), "url": page.get("url"), "name": page["name"]}
            out.write(json.dumps(entry) + "\n")
    return path


def run_extract(manifest_path: Path, folder: Path) -> tuple[Path, float]:
    """`portalscraper extract --manifest`, its lines turned into the scorer's predictions."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "portalscraper.cli", "extract", "--manifest", str(manifest_path)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(f"portalscraper extract failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    predictions = folder / "predictions.jsonl"
    with predictions.open("w", encoding="utf-8") as out:
        for line in done.stdout.splitlines():
            row = json.loads(line)
            out.write(json.dumps({"name": row.get("name"), "title": row.get("title"), "date": row.get("date_start"),
                                  "body": row.get("body")}, ensure_ascii=False) + "\n")
    return predictions, seconds


def score(set_dir: Path, predictions: Path, failures: int) -> str:
    command = [sys.executable, str(set_dir / "score.py"), str(predictions)]
    if failures:
        command += ["--failures", str(failures)]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def all_pages(report: str) -> dict[str, tuple[int, float, float]]:
    """Per field of the "all" table: pages, coverage %, score."""
    section = report[report.rindex("all ("):]
    return {m[1]: (int(m[2]), float(m[3]), float(m[4])) for m in _ALL_ROW.finditer(section)}


def peers(set_dir: Path) -> dict[str, dict[str, float]]:
    """Each peer's summary line in peers.md, by the heading above it."""
    text = (set_dir / "peers.md").read_text(encoding="utf-8")
    out: dict[str, dict[str, float]] = {}
    for block in text.split("\n## ")[1:]:
        heading = block.splitlines()[0].strip()
        if m := _SUMMARY.search(block):
            out[heading] = dict(zip(FIELDS, map(float, m.groups()), strict=True))
    return out


def timing(truth: list[dict[str, Any]], pages: Path) -> tuple[float, float | None]:
    """CPU ms per page: ours, and trafilatura's (None when it is not installed)."""
    try:
        import trafilatura
    except ImportError:
        trafilatura = None
    ours = theirs = 0.0
    for page in truth:
        raw = gzip.decompress((pages / f"{page['name']}.html.gz").read_bytes())
        started = time.process_time()
        read_item_page(decode_page(raw), page.get("url"))
        ours += time.process_time() - started
        if trafilatura is not None:
            started = time.process_time()
            trafilatura.bare_extraction(decode_page(raw), url=page.get("url"), with_metadata=True,
                                        include_comments=False)
            theirs += time.process_time() - started
    n = len(truth)
    return ours / n * 1000, (theirs / n * 1000 if trafilatura is not None else None)


def table(ours: dict[str, tuple[int, float, float]], peer_figures: dict[str, dict[str, float]]) -> list[str]:
    lines = ["| extraction | " + " | ".join(FIELDS) + " |", "| --- |" + " ---: |" * len(FIELDS)]
    lines.append("| **portalscraper extract** | " + " | ".join(
        f"**{ours[f][2]:.3f}** ({ours[f][1]:.1f}%)" if f in ours else "-" for f in FIELDS) + " |")
    for name, figures in peer_figures.items():
        lines.append(f"| {name} | " + " | ".join(f"{figures[f]:.3f}" for f in FIELDS) + " |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help=f"the development set (default {DEFAULT_SET})")
    parser.add_argument("--no-timing", action="store_true", help="skip the per-page timing against trafilatura")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every field reaches the best peer's")
    parser.add_argument("--failures", type=int, default=0, help="list the first N failures per field")
    args = parser.parse_args()
    args.set = args.set.resolve()  # the manifest's page paths are read relative to the manifest's own folder
    if not (args.set / "truth.jsonl").is_file():
        print(f"Error: no development set at {args.set} (a folder with truth.jsonl, pages/, score.py)", file=sys.stderr)
        return 2
    truth = [json.loads(line) for line in (args.set / "truth.jsonl").read_text(encoding="utf-8").splitlines() if line]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        predictions, seconds = run_extract(manifest(truth, args.set / "pages", folder), folder)
        report = score(args.set, predictions, args.failures)
    ours, peer_figures = all_pages(report), peers(args.set)
    print(report)
    print(f"portalscraper extract --manifest: {len(truth)} pages in {seconds:.1f} s (with start-up)\n")
    print("\n".join(table(ours, peer_figures)))
    if not args.no_timing:
        mine, theirs = timing(truth, args.set / "pages")
        ratio = f", {mine / theirs:.2f} of trafilatura's {theirs:.1f} ms" if theirs else ""
        print(f"\nCPU per page, decoding included, pages alternating: {mine:.1f} ms{ratio}")
    if args.check:
        best = {f: max(p[f] for p in peer_figures.values()) for f in FIELDS}
        missed = [f"{f} {ours[f][2]:.3f} < {best[f]:.3f}" for f in FIELDS if ours[f][2] < best[f]]
        missed += [f"{f} coverage {ours[f][1]:.1f}%" for f in FIELDS if ours[f][1] < MIN_COVERAGE]
        if missed:
            print("\nBelow target: " + "; ".join(missed))
            return 1
        print("\nEvery field at least the best peer's, coverage at least 99%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
