"""A small web archive of the replica, served by pywb (a real Wayback server) on 127.0.0.1.

Three snapshots of the homepage and the items it links to, a week apart, items leaving the
homepage between them: the `wayback` fixture (tests/conftest.py) builds it once per test session.
One item is first named by a sidebar: the first snapshot's homepage does not list it, and the
NATO Review edition captured with it names it in a "Latest news" box (a bare headline); the later
homepages list it in their People & Activities block, with its date and teaser.
"""

from __future__ import annotations

import io
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.conftest import ROOT, Replica

PYWB = ROOT / ".venv-pywb/bin"
HOME = "/cps/en/natolive/index.htm"
SNAPSHOTS = [("20120928120000", None), ("20121005120000", "news_90387"), ("20121012120000", "news_90440")]
ITEM_LINK = re.compile(r'href="(/(?:cps/en/[^"]*/(?:news|topics)_\d+\.htm[^"]*|docu/review/[^"]+))"')
# The item first named by a sidebar, the edition page whose first capture has that sidebar, and an
# item the sidebar names too that the homepage lists in the same capture.
SIDEBAR_ITEM, SIDEBAR_PAGE, SIDEBAR_OTHER = "news_91045", "/docu/review/2012/Threats-Within/EN/index.htm", "news_91112"


def fetch(url: str) -> tuple[int, list[tuple[str, str]], bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, [(k, v) for k, v in response.getheaders() if k.lower() != "transfer-encoding"], \
            response.read()


def snapshot(server: Replica, timestamp: str, out: Path,
             edit: Callable[[str, bytes], bytes] = lambda path, body: body) -> list[str]:
    """Capture the homepage and the items it links to, as http://www.nato.int at `timestamp`;
    `edit` changes a page's body before it is captured."""
    date = f"{timestamp[:4]}-{timestamp[4:6]}-{timestamp[6:8]}T{timestamp[8:10]}:{timestamp[10:12]}:00Z"
    _, _, home = fetch(server.url(HOME))
    paths = [HOME, *dict.fromkeys(p.replace("&amp;", "&") for p in ITEM_LINK.findall(home.decode("utf-8")))]
    with out.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for path in paths:
            status, headers, body = fetch(server.url(path))
            body = edit(path, body)
            headers = [(k, v) for k, v in headers if k.lower() not in ("content-length", "content-encoding")]
            http = StatusAndHeaders(f"{status} OK", [*headers, ("Content-Length", str(len(body)))],
                                    protocol="HTTP/1.1")
            record = writer.create_warc_record(f"http://www.nato.int{path}", "response", payload=io.BytesIO(body),
                                               http_headers=http, warc_headers_dict={"WARC-Date": date})
            writer.write_record(record)
    return paths


def with_sidebar(home: bytes) -> Callable[[str, bytes], bytes]:
    """The edit of the first snapshot: the homepage without SIDEBAR_ITEM's entry, and SIDEBAR_PAGE
    with a "Latest news" box naming it and SIDEBAR_OTHER, headlines only (no date, no teaser)."""
    def entry(key: str) -> re.Match[str]:
        found = re.search(rf'<div class="item"><a class="title" href="([^"]*{key}[^"]*)">([^<]*)</a>.*?</div>\n?',
                          home.decode("utf-8"))
        assert found is not None, key
        return found

    item, other = entry(SIDEBAR_ITEM), entry(SIDEBAR_OTHER)
    box = ('<div id="latest-news"><h3>Latest news</h3><ul>'
           f'<li><h4><a href="{item[1]}">{item[2]}</a></h4></li>'
           f'<li><h4><a href="{other[1]}">{other[2]}</a></h4></li></ul></div>\n')

    def edit(path: str, body: bytes) -> bytes:
        if path == HOME:
            return body.replace(item[0].encode(), b"")
        if path == SIDEBAR_PAGE:
            return body.replace(b'<div id="footer">', box.encode() + b'<div id="footer">', 1)
        return body

    return edit


def _answers(port: int) -> bool:
    """Whether pywb answers on the port (it binds just after saying it starts)."""
    for _ in range(50):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                return True
        except urllib.error.HTTPError:
            return True  # it answered
        except OSError:
            time.sleep(0.1)  # not listening yet: bounded, 5 s at most
    return False


@contextmanager
def pywb(folder: Path) -> Iterator[str]:
    """pywb indexing and serving every WARC file in `folder` as collection `nato` on 127.0.0.1."""
    subprocess.run([str(PYWB / "wb-manager"), "init", "nato"], cwd=folder, check=True, capture_output=True)
    subprocess.run([str(PYWB / "wb-manager"), "add", "nato", *sorted(str(p) for p in folder.glob("*.warc.gz"))],
                   cwd=folder, check=True, capture_output=True)
    for _attempt in range(3):  # a free port can be taken by another process before pywb binds it: try another
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        proc = subprocess.Popen([str(PYWB / "wayback"), "--bind", "127.0.0.1", "-p", str(port)], cwd=folder,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:  # pywb says when it listens
            if "Starting Gevent Server" in line:
                break
        if proc.poll() is None and _answers(port):
            break
        proc.kill()
        proc.wait(timeout=30)
    else:
        pytest.fail("pywb did not start")
    try:
        yield f"http://127.0.0.1:{port}/nato"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def serve_wayback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, list[str]]]]:
    """pywb serving three snapshots of the replica's homepage; yields its endpoint and the paths each
    captured (the homepage first, then the pages it links to, SIDEBAR_ITEM's too)."""
    folder = tmp_path_factory.mktemp("wayback")
    server = Replica(60)
    held: dict[str, list[str]] = {}
    try:
        for n, (timestamp, removed) in enumerate(SNAPSHOTS):
            if removed:
                server.change({"op": "remove", "key": removed})
            edit = with_sidebar(fetch(server.url(HOME))[2]) if n == 0 else (lambda path, body: body)
            held[timestamp] = snapshot(server, timestamp, folder / f"{timestamp}.warc.gz", edit)
    finally:
        server.stop()
    with pywb(folder) as endpoint:
        yield endpoint, held
