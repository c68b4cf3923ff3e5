"""`portalscraper extract`: item pages from files, standard input, a manifest and URLs (a real HTTP
server on loopback), one JSON line per source in input order, as the `portal` spider reads them."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from portalscraper.cli import main
from tests.conftest import ROOT, Replica, run_cli

BODY = ("The council voted on Tuesday to expand the bus network to the northern districts, after two years of "
        "consultations with residents and transport unions.")
PAGE = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Council expands bus network | City News</title><meta property="og:site_name" content="City News">
<meta name="description" content="Two new lines from spring.">
</head><body><h1>Council expands bus network</h1><p class="date">Published 19 November 2019</p>
<div class="story"><p>{BODY}</p><p>Opposition members criticised the cost of the plan and asked for a review
of the figures before the final vote.</p></div></body></html>"""


def extract(*args: str, stdin: bytes | None = None, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[dict[str, object]], str]:
    """The command in this process: its exit code, its JSON lines, its standard error."""
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = main(["extract", *args])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_a_file_a_gzipped_file_and_standard_input_in_input_order(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    plain, packed = tmp_path / "a.html", tmp_path / "b.html.gz"
    plain.write_text(PAGE, encoding="utf-8")
    packed.write_bytes(gzip.compress(PAGE.replace("bus network", "tram network").encode("utf-8")))
    code, lines, err = extract(str(plain), str(packed), "-", stdin=PAGE.replace("bus", "ferry").encode(),
                               capsys=capsys, monkeypatch=monkeypatch)
    assert (code, err) == (0, "")
    assert [line["title"] for line in lines] == ["Council expands bus network", "Council expands tram network",
                                                 "Council expands ferry network"]
    assert [line["source"] for line in lines] == [str(plain), str(packed), "-"]
    first = lines[0]
    assert (first["date_start"], first["summary"], first["language"]) == ("2019-11-19", "Two new lines from spring.",
                                                                         "en")
    assert str(first["body"]).startswith(BODY) and first["url"] is None
    assert set(first) == {"source", "url", "title", "date_start", "date_end", "updated_at", "summary", "body",
                          "language", "provenance"}


def test_url_names_the_address_of_a_single_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.html").write_text(PAGE.replace("<p class=\"date\">Published 19 November 2019</p>", ""), "utf-8")
    code, lines, _ = extract(str(tmp_path / "a.html"), "--url", "https://city.example/2019/11/20/bus-network/",
                             capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0 and lines[0]["url"] == "https://city.example/2019/11/20/bus-network/"
    assert lines[0]["date_start"] == "2019-11-20"  # the URL's day, when the page shows none


def test_a_manifest_with_names_relative_paths_and_a_source_that_fails(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "set"
    (folder / "pages").mkdir(parents=True)
    (folder / "pages" / "one.html").write_text(PAGE, encoding="utf-8")
    (folder / "manifest.jsonl").write_text("\n".join([
        json.dumps({"path": "pages/one.html", "url": "https://city.example/news/1", "name": "one"}),
        json.dumps({"path": "pages/missing.html", "name": "two"}),
        "not json",
        json.dumps({"path": "pages/one.html", "name": "three"}),
    ]) + "\n", encoding="utf-8")
    code, lines, _ = extract("--manifest", str(folder / "manifest.jsonl"), capsys=capsys, monkeypatch=monkeypatch)
    assert code == 1  # some sources failed; the others were read
    assert [line.get("name") for line in lines] == ["one", "two", None, "three"]
    assert lines[0]["title"] == "Council expands bus network" and lines[0]["url"] == "https://city.example/news/1"
    assert "cannot read pages/missing.html" in str(lines[1]["error"]) and "title" not in lines[1]
    assert "line 3: not a manifest entry" in str(lines[2]["error"])
    assert lines[3]["title"] == "Council expands bus network"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give a SOURCE"),
        (("a.html", "b.html", "--url", "https://x.example/"), "--url names the address of a single SOURCE"),
        (("a.html", "--url", "ftp://x.example/a"), "--url must be an http(s) address"),
        (("--manifest", "nowhere.jsonl"), "no manifest file at nowhere.jsonl"),
        (("a.html", "--profile", "nosuch"), "unknown profile 'nosuch'"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(args: tuple[str, ...], message: str,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    code, lines, err = extract(*args, capsys=capsys, monkeypatch=monkeypatch)
    assert (code, lines) == (2, [])
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


class _Site(BaseHTTPRequestHandler):
    """A site on loopback: robots.txt forbids /private/, /moved redirects, /gone answers 404."""

    requests: ClassVar[list[tuple[str, str]]] = []

    def do_GET(self) -> None:
        type(self).requests.append((self.path, self.headers.get("User-Agent", "")))
        if self.path == "/robots.txt":
            self._answer(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        elif self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/news/bus-network")
            self.end_headers()
        elif self.path in ("/news/bus-network", "/private/bus-network"):
            self._answer(200, PAGE.encode("latin-1", "replace"), "text/html; charset=iso-8859-1")
        else:
            self._answer(404, b"not here", "text/plain")

    def _answer(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    _Site.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_urls_are_fetched_once_with_robots_txt_obeyed(site: str, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    code, lines, _ = extract(f"{site}/news/bus-network", f"{site}/private/bus-network", f"{site}/moved",
                             f"{site}/gone", capsys=capsys, monkeypatch=monkeypatch)
    assert code == 1
    assert lines[0]["title"] == "Council expands bus network" and lines[0]["url"] == f"{site}/news/bus-network"
    assert "forbidden by robots.txt" in str(lines[1]["error"])
    assert lines[2]["url"] == f"{site}/news/bus-network" and lines[2]["title"] == "Council expands bus network"
    assert "answered 404" in str(lines[3]["error"])
    paths = [path for path, _ in _Site.requests]
    assert paths.count("/robots.txt") == 1 and "/private/bus-network" not in paths
    assert paths.count("/news/bus-network") == 2  # once for itself, once as /moved's target
    assert all(agent.startswith("portalscraper/") for _, agent in _Site.requests)


def test_the_command_reads_an_item_page_as_the_portal_spider_does(replica: Replica, tmp_path: Path) -> None:
    """Crawl the replica's homepage with the `portal` spider, then extract three of the item pages it
    read: every field the spider took from the page (not from the listing) is the command's."""
    out = tmp_path / "out.jsonl"
    crawled = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "portal", "-a",
         f"start_url={replica.url('/cps/en/natolive/index.htm')}", "-a", "max_pages=1", "-O", str(out),
         "-s", f"ARCHIVE_SQLITE_PATH={tmp_path / 'a.sqlite'}",
         "-s", "ARCHIVE_JSONL_PATH=", "-s", f"WARC_DIR={tmp_path / 'warc'}", "-s", "LOG_LEVEL=WARNING"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert crawled.returncode == 0, crawled.stderr[-2000:]
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    records = [r for r in records if r.get("body")][:3]
    assert len(records) == 3
    result = run_cli("extract", *(r["url"] for r in records))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    for record, line in zip(records, lines, strict=True):
        assert line["body"] == record["body"]
        for field in ("title", "summary", "date_start", "updated_at"):
            if record["provenance"].get(field if field in ("title", "summary") else
                                        {"date_start": "date_text", "updated_at": "updated_text"}[field]) != "listing":
                assert line[field] == record[field], (record["url"], field)
