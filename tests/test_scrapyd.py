"""A Scrapyd deployment: a real scrapyd on 127.0.0.1, the project's egg deployed, `nato` scheduled."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, Replica


def api(base: str, path: str, data: dict[str, object] | list[tuple[str, str]] | None = None) -> dict[str, object]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(base + path, data=body, timeout=30) as response:
        answer: dict[str, object] = json.loads(response.read())
    return answer


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[str]:
    """scrapyd on a free port of 127.0.0.1, with its eggs, logs and queues in tmp_path."""
    with socket.socket() as probe:  # scrapyd cannot listen on port 0: take a free port and hand it over
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    (tmp_path / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {free_port}\npoll_interval = 0.2\nmax_proc = 2\n"
        f"eggs_dir = {tmp_path / 'eggs'}\nlogs_dir = {tmp_path / 'logs'}\ndbs_dir = {tmp_path / 'dbs'}\n"
        "items_dir =\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "scrapyd", "--nodaemon", "--pidfile="], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    port = None
    for line in proc.stdout:
        if "Site starting on " in line:
            port = int(line.rsplit("Site starting on ", 1)[1].split()[0])
            break
    assert port, "scrapyd did not start"
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_scrapyd_runs_the_nato_spider_into_the_archive(scrapyd: str, replica: Replica, tmp_path: Path) -> None:
    deployed = subprocess.run([sys.executable, str(ROOT / "deploy/scrapyd_deploy.py"), "--url", scrapyd,
                               "--version", "1"], capture_output=True, text=True, timeout=300)
    assert deployed.returncode == 0, deployed.stderr
    assert api(scrapyd, "listspiders.json?project=portalscraper")["spiders"] == ["nato", "portal"]

    db = tmp_path / "scheduled.sqlite"
    job = api(scrapyd, "schedule.json", [
        ("project", "portalscraper"), ("spider", "nato"), ("base_url", replica.base_url), ("max_items", "40"),
        ("setting", f"ARCHIVE_SQLITE_PATH={db}"), ("setting", f"ARCHIVE_JSONL_PATH={tmp_path / 'records.jsonl'}"),
    ])
    assert job["status"] == "ok", job
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # Scrapyd reports job states only through polling its API
        finished = api(scrapyd, "listjobs.json?project=portalscraper")["finished"]
        if any(j["id"] == job["jobid"] for j in finished):  # type: ignore[union-attr]
            break
        time.sleep(0.2)
    else:
        pytest.fail("the Scrapyd job did not finish in 240 s")

    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM records").fetchone() == (40,)
        crawl = conn.execute("SELECT spider, status, exit_code, records_new FROM crawls").fetchall()
    assert crawl == [("nato", "finished", 0, 40)]
    assert len((tmp_path / "records.jsonl").read_text("utf-8").splitlines()) == 40
    log = next((tmp_path / "logs/portalscraper/nato").glob("*.log")).read_text("utf-8")
    assert "Traceback" not in log
