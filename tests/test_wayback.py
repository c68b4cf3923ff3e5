"""Web-archive mode against pywb, a real Wayback server: a 2012 homepage time series.

The test builds a small web archive of the replica: three snapshots of the homepage and the
items it links to, a week apart, items leaving the homepage between them. pywb indexes and
serves it on 127.0.0.1; the crawl asks its CDX API for the homepage's captures and reads each
capture's original bytes through `id_` replay URLs.
"""

from __future__ import annotations

import io
import re
import socket
import sqlite3
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from portalscraper.wayback import Capture, capture_of, cdx_query, parse_cdx
from tests.conftest import ROOT, Replica, run_cli

PYWB = ROOT / ".venv-pywb/bin"
HOME = "/cps/en/natolive/index.htm"
SNAPSHOTS = [("20120928120000", None), ("20121005120000", "news_90387"), ("20121012120000", "news_90440")]
_ITEM_LINK = re.compile(r'href="(/(?:cps/en/[^"]*/(?:news|topics)_\d+\.htm[^"]*|docu/review/[^"]+))"')


def fetch(url: str) -> tuple[int, list[tuple[str, str]], bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, [(k, v) for k, v in response.getheaders() if k.lower() != "transfer-encoding"], \
            response.read()


def snapshot(server: Replica, timestamp: str, out: Path) -> list[str]:
    """Capture the homepage and the items it links to, as http://www.nato.int at `timestamp`."""
    date = f"{timestamp[:4]}-{timestamp[4:6]}-{timestamp[6:8]}T{timestamp[8:10]}:{timestamp[10:12]}:00Z"
    _, _, home = fetch(server.url(HOME))
    paths = [HOME, *dict.fromkeys(p.replace("&amp;", "&") for p in _ITEM_LINK.findall(home.decode("utf-8")))]
    with out.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for path in paths:
            status, headers, body = fetch(server.url(path))
            headers = [(k, v) for k, v in headers if k.lower() not in ("content-length", "content-encoding")]
            http = StatusAndHeaders(f"{status} OK", [*headers, ("Content-Length", str(len(body)))],
                                    protocol="HTTP/1.1")
            record = writer.create_warc_record(f"http://www.nato.int{path}", "response", payload=io.BytesIO(body),
                                               http_headers=http, warc_headers_dict={"WARC-Date": date})
            writer.write_record(record)
    return paths


@pytest.fixture(scope="module")
def wayback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, list[str]]]]:
    """pywb serving three snapshots of the replica's homepage; yields its endpoint and what each held."""
    folder = tmp_path_factory.mktemp("wayback")
    server = Replica(60)
    held: dict[str, list[str]] = {}
    try:
        for timestamp, removed in SNAPSHOTS:
            if removed:
                server.change({"op": "remove", "key": removed})
            held[timestamp] = snapshot(server, timestamp, folder / f"{timestamp}.warc.gz")
    finally:
        server.stop()
    subprocess.run([str(PYWB / "wb-manager"), "init", "nato"], cwd=folder, check=True, capture_output=True)
    subprocess.run([str(PYWB / "wb-manager"), "add", "nato", *sorted(str(p) for p in folder.glob("*.warc.gz"))],
                   cwd=folder, check=True, capture_output=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([str(PYWB / "wayback"), "--bind", "127.0.0.1", "-p", str(port)], cwd=folder,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # pywb says when it listens
        if "Starting Gevent Server" in line:
            break
    else:
        pytest.fail("pywb did not start")
    try:
        yield f"http://127.0.0.1:{port}/nato", held
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_cdx_api_lists_the_three_homepage_captures(wayback: tuple[str, dict[str, list[str]]]) -> None:
    endpoint, _ = wayback
    with urllib.request.urlopen(cdx_query(endpoint, "https://www.nato.int" + HOME, "2012", "2012"), timeout=30) as r:
        captures, _ = parse_cdx(r.read().decode())
    assert [c.timestamp for c in captures] == [t for t, _ in SNAPSHOTS]
    assert all(c.original == "http://www.nato.int" + HOME for c in captures)


def test_homepage_time_series_from_the_web_archive(wayback: tuple[str, dict[str, list[str]]], tmp_path: Path) -> None:
    endpoint, held = wayback
    db = tmp_path / "archive.sqlite"
    run_cli("crawl", "nato", "--wayback", endpoint, "--from", "20120101", "--to", "20121231", "--db", str(db),
            "--jsonl", "", "--warc", "", "--log-level", "WARNING", cwd=tmp_path)
    with sqlite3.connect(db) as conn:
        records = conn.execute("SELECT id, url, capture_url, capture_time, title FROM records").fetchall()
        seen = conn.execute("SELECT r.url, a.capture_time FROM appearances a JOIN records r ON r.id = a.record_id "
                            "WHERE a.source_url LIKE '%index.htm'").fetchall()
    # Every item once, as a record of the portal's canonical URL, made from a capture.
    assert len(records) == len({r[0] for r in records}) == 35
    assert all(url.startswith("https://www.nato.int/") and capture_url.startswith(endpoint)
               and capture_time.startswith("2012-") for _, url, capture_url, capture_time, _ in records)
    # One appearance per snapshot that carried the item, at the snapshot's capture time.
    by_item: dict[str, set[str]] = {}
    for url, capture_time in seen:
        by_item.setdefault(url.removeprefix("https://www.nato.int/cps/en/natohq/"), set()).add(capture_time)
    times = {f"{t[:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}+00:00" for t, _ in SNAPSHOTS}
    assert by_item["news_91112.htm"] == times
    assert by_item["news_90440.htm"] == times - {"2012-10-12T12:00:00+00:00"}
    assert by_item["news_90387.htm"] == {"2012-09-28T12:00:00+00:00"}
    assert sum(len(v) for v in by_item.values()) == sum(len(paths) - 1 for paths in held.values())


def test_replay_urls_and_memento_times() -> None:
    capture = capture_of("http://127.0.0.1:8080/nato/20121005120000id_/http://www.nato.int/cps/en/x.htm",
                         "Fri, 05 Oct 2012 12:00:07 GMT")
    assert capture == Capture("20121005120007", "http://www.nato.int/cps/en/x.htm")
    assert capture.time == "2012-10-05T12:00:07+00:00"
    ia = ('[["urlkey","timestamp","original","mimetype","statuscode","digest","length"],'
          '["gov,nato)/","20120928132524","http://www.nato.int/","text/html","200","X","1"],[],["next-key"]]')
    assert parse_cdx(ia) == ([Capture("20120928132524", "http://www.nato.int/")], "next-key")
