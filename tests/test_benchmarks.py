"""The benchmark script keeps working: a smoke run at tiny sizes. Nothing about speed is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_benchmark_smoke_run_prints_every_section(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks/bench.py"), "--smoke", "--write",
                             str(tmp_path / "report.md")], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = (tmp_path / "report.md").read_text("utf-8")
    for heading in ("## Figures of the last run", "### 1. Framework limit", "### 1b. Pages of a news site's size",
                    "### 2. Scale", "### 3. Storage",
                    "### 4. Re-crawl", "### 5. Extraction", "### 6. Shared crawls"):
        assert heading in report
    assert "full / bare, median of the 2 pairs" in report and "the usual alternative" in report
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    ratios = {"framework_ratio", "framework_ratio_no_warc", "usual_alternative_ratio", "memory_ratio",
              "scale_last_over_first", "storage_ratio", "recrawl_bytes_ratio", "recrawl_bytes_ratio_largest",
              "shared_1_worker_pages_per_s", "shared_2_workers_pages_per_s", "shared_same_archive",
              "news_sized_alternative_ratio"}
    assert ratios <= set(figures)
    assert all(figures[name] > 0 for name in ratios)
