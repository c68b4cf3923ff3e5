"""Scrapy's own commands in the project: they work, and they write no archive (no crawl row, no
WARC file, no records.jsonl). Only crawls write archives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, Replica

NEWS = "/cps/en/natolive/news_91112.htm"


def scrapy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "portalscraper.settings", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "scrapy", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120)


@pytest.mark.parametrize("command", [
    ["fetch", "--nolog", "{url}"],
    ["shell", "--nolog", "-c", "response.status", "{url}"],
    ["parse", "--nolog", "--spider", "nato", "-a", "base_url={base}", "-c", "parse_item", "{url}"],
    ["check", "--nolog", "nato"],
    ["bench", "--nolog", "-s", "CLOSESPIDER_TIMEOUT=1"],
], ids=["fetch", "shell", "parse", "check", "bench"])
def test_scrapy_commands_write_no_archive(command: list[str], replica: Replica, tmp_path: Path) -> None:
    url = replica.url(NEWS)
    result = scrapy(*(part.format(url=url, base=replica.base_url) for part in command), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not (tmp_path / "exports").exists(), sorted(p.name for p in (tmp_path / "exports").rglob("*"))
    if command[0] == "fetch":
        assert "<html" in result.stdout.lower()
    if command[0] == "shell":
        assert result.stdout.strip() == "200"
    if command[0] == "parse":  # the record, made without a listing entry: the page is its own
        scraped = result.stdout.split("# Scraped Items")[1].split("# Requests")[0]
        assert "'kind': 'news'" in scraped, scraped
        assert "'url': 'https://www.nato.int/cps/en/natohq/news_91112.htm'" in scraped
