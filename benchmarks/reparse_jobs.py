"""`portalscraper reparse --jobs N` against `--jobs 1` on the same WARC files, in one run.

    python benchmarks/reparse_jobs.py                        # a 100,000-item crawl (its crawl: minutes)
    python benchmarks/reparse_jobs.py --items 20000 --pairs 3
    python benchmarks/reparse_jobs.py --keep /tmp/warc100k   # the crawl's WARC files kept for the next run
    python benchmarks/reparse_jobs.py --smoke                # a tiny run that only checks the script works

The replica at --items is crawled once with its raw captures (`crawl nato --warc`), then the files
are re-parsed into a new archive by `--jobs 1` and by each other --jobs, in alternating pairs (the
order swapped every pair). Printed: each run's wall time, pages/s (the crawl row's responses), CPU
seconds (every process of the run, read from /proc: Linux), the load average, and the wall time
two idle cores would give, estimated from the processes' CPU seconds (`idle_wall`: on a loaded
machine the wall time says more of the other runs than of this one); each --jobs' median pages/s
as a ratio of `--jobs 1`'s in the same pair, measured and estimated; whether each archive is the
`--jobs 1` one. The last line is the figures as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_warcs(items: int, folder: Path) -> list[Path]:
    """The replica at `items` crawled once, with its raw captures in `folder` (kept if there already)."""
    from portalscraper.replica.launch import replica_process

    warcs = sorted(folder.glob("nato-*.warc.gz"))
    if warcs:
        print(f"WARC files of an earlier run in {folder}: {len(warcs)}", flush=True)
        return warcs
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with replica_process(items) as base_url:
        subprocess.run([sys.executable, "-m", "portalscraper.cli", "crawl", "nato", "--base-url", base_url, "--db",
                        str(folder / "crawled.sqlite"), "--jsonl", "", "--warc", str(folder), "-q"],
                       check=True, cwd=folder)
    print(f"crawl of {items:,} items with raw captures: {time.perf_counter() - started:.0f} s", flush=True)
    return sorted(folder.glob("nato-*.warc.gz"))


TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> dict[int, float]:
    """CPU seconds of `root` and each of its descendants, from /proc (Linux): the workers are forked
    from a fork server, whose children the command's resource usage does not count."""
    found: dict[int, float] = {}
    pids = [root]
    while pids:
        pid = pids.pop()
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            found[pid] = (int(fields[11]) + int(fields[12])) / TICKS
            for task in Path(f"/proc/{pid}/task").iterdir():
                pids += [int(child) for child in (task / "children").read_text().split()]
    return found


def reparse(warcs: list[Path], db: Path, jobs: int) -> dict[str, Any]:
    """One re-parse; its processes' CPU sampled every 0.1 s (each one's last tenth of a second is
    not counted)."""
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)
    load, started = os.getloadavg()[0], time.perf_counter()
    log = db.with_suffix(".log")
    samples: list[dict[int, float]] = []
    with log.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "portalscraper.cli", "reparse", "--warc", *map(str, warcs),
                                    "--db", str(db), "--jsonl", "", "-q", "--jobs", str(jobs)],
                                   stdout=subprocess.DEVNULL, stderr=stderr, cwd=db.parent)
        while process.poll() is None:
            samples.append(tree_cpu(process.pid))
            time.sleep(0.1)
    wall = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"reparse --jobs {jobs} failed:\n{log.read_text()[-2000:]}")
    with sqlite3.connect(db) as conn:
        pages = conn.execute("SELECT sum(responses) FROM crawls").fetchone()[0]
    cpu: dict[int, float] = {}
    for sample in samples:
        cpu |= sample
    return {"jobs": jobs, "wall": wall, "cpu": sum(cpu.values()), "pages": pages, "pages_per_s": pages / wall,
            "load": (load + os.getloadavg()[0]) / 2, "idle_wall": idle_wall(process.pid, samples, cpu)}


def idle_wall(root: int, samples: list[dict[int, float]], cpu: dict[int, float]) -> float:
    """The run's wall time on two idle cores, estimated from its processes' CPU seconds (the loaded
    machine's wall time says more of the others' runs than of this one): this process's CPU before
    the first worker started and after the last one ended, one after the other; between them every
    process's CPU over two cores, or the busiest worker's, whichever is more. One process: its CPU."""
    total = sum(cpu.values())
    workers = {pid for pid, seconds in cpu.items() if pid != root and seconds > 0.1 * total}
    if not workers:
        return total
    first = next(i for i, sample in enumerate(samples) if workers & sample.keys())
    last = max(i for i, sample in enumerate(samples) if workers & sample.keys())
    before = samples[first].get(root, 0.0)
    after = cpu.get(root, 0.0) - samples[last].get(root, 0.0)
    return before + max((total - before - after) / 2, max(cpu[pid] for pid in workers)) + after


def same_archive(one: Path, other: Path) -> bool:
    from tests.test_warc import archive_rows  # the comparison the reparse tests make

    return bool(archive_rows(one) == archive_rows(other))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--jobs", default="2", help="the --jobs to compare with 1, comma-separated (default 2)")
    parser.add_argument("--pairs", type=int, default=2, help="alternating pairs of runs (default 2)")
    parser.add_argument("--keep", type=Path, help="a folder for the crawl's WARC files, reused when it has them")
    parser.add_argument("--smoke", action="store_true", help="300 items, one pair")
    options = parser.parse_args()
    if options.smoke:
        options.items, options.pairs = 300, 1
    others = [int(j) for j in options.jobs.split(",")]
    print(f"reparse --jobs on {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="reparse-jobs-") as tmp:
        warcs = make_warcs(options.items, options.keep or Path(tmp) / "warc")
        runs: dict[int, list[dict[str, Any]]] = {1: [], **{j: [] for j in others}}
        same: dict[int, bool] = {}
        for pair in range(options.pairs):
            order = [1, *others] if pair % 2 == 0 else [*others, 1]
            for jobs in order:
                run = reparse(warcs, Path(tmp) / f"jobs{jobs}.sqlite", jobs)
                runs[jobs].append(run)
                print(f"pair {pair + 1}, --jobs {jobs}: {run['pages']:,} pages in {run['wall']:.1f} s, "
                      f"{run['pages_per_s']:.0f} pages/s, {run['cpu']:.1f} CPU s, load average {run['load']:.2f}; "
                      f"on two idle cores about {run['idle_wall']:.1f} s", flush=True)
            for jobs in others:
                same[jobs] = same.get(jobs, True) and same_archive(Path(tmp) / "jobs1.sqlite",
                                                                   Path(tmp) / f"jobs{jobs}.sqlite")
    loads = [run["load"] for jobs_runs in runs.values() for run in jobs_runs]
    figures: dict[str, Any] = {"items": options.items, "pairs": options.pairs, "load": [min(loads), max(loads)],
                               "jobs1_pages_per_s": statistics.median(r["pages_per_s"] for r in runs[1])}
    for jobs in others:
        ratios = [run["pages_per_s"] / base["pages_per_s"] for run, base in zip(runs[jobs], runs[1], strict=True)]
        cpu = [run["cpu"] / base["cpu"] for run, base in zip(runs[jobs], runs[1], strict=True)]
        idle = [base["idle_wall"] / run["idle_wall"] for run, base in zip(runs[jobs], runs[1], strict=True)]
        figures |= {f"jobs{jobs}_pages_per_s": statistics.median(r["pages_per_s"] for r in runs[jobs]),
                    f"jobs{jobs}_ratio": statistics.median(ratios),
                    f"jobs{jobs}_ratio_spread": [min(ratios), max(ratios)],
                    f"jobs{jobs}_idle_ratio": statistics.median(idle),
                    f"jobs{jobs}_idle_ratio_spread": [min(idle), max(idle)],
                    f"jobs{jobs}_cpu_ratio": statistics.median(cpu), f"jobs{jobs}_same_archive": same[jobs]}
        print(f"--jobs {jobs} / --jobs 1 pages/s: median {statistics.median(ratios):.2f} of {len(ratios)} pairs "
              f"({min(ratios):.2f}-{max(ratios):.2f}); on two idle cores, estimated from CPU seconds, "
              f"{statistics.median(idle):.2f} ({min(idle):.2f}-{max(idle):.2f}); CPU seconds "
              f"{statistics.median(cpu):.2f} of --jobs 1's; same archive: {same[jobs]}", flush=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
