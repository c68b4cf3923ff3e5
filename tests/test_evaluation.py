"""The extraction evaluation: targets met on the labelled set, and the set matches its generator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_every_field_of_every_markup_meets_the_targets() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks/evaluate.py"), "--check"], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Every F1 at least 0.97, and at least trafilatura + htmldate's" in result.stdout
    for markup in ("nato2012", "html5", "table", "divsoup", "jsonld-only-date", "published-only-date",
                   "flat-paragraphs"):
        assert f"\n{markup} " in result.stdout


@pytest.mark.slow
def test_the_committed_set_is_what_the_generator_writes(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "benchmarks/evaluation/build_set.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True, timeout=120)
    committed = ROOT / "benchmarks/evaluation/set"
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file())
    for name in written:
        assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), name
