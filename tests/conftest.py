"""Fixtures: the replica portal as a real server process on 127.0.0.1, and crawls through the CLI.

Two speeds: a test that starts a process or a server (the replica, redis, pywb, Datasette, a
browser, the command in a subprocess, an HTTP server in a thread) is marked `slow`, by the fixtures
it uses (SLOW_FIXTURES) or by its own marker; `pytest -m "not slow"` runs the others, and any of
them that starts one all the same fails and says so (`_fast_tests_start_nothing`).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from portalscraper.replica.launch import ReplicaProcess

# Fixtures that start a process or a server, or hand the test something that does: a test using
# one, directly or through another fixture, is slow. (This file's, and the test modules' own.)
SLOW_FIXTURES = frozenset({
    "replica", "start_replica", "crawl", "wayback", "redis_server",
    "archive", "clean", "collection", "feeds", "history", "messy", "newsroom", "other_port", "scrapyd",
    "served", "series", "setup", "site", "big_portal", "reference_archive",
})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        parameters = set(callspec.params) if callspec is not None else set()  # a table's column is no fixture
        if SLOW_FIXTURES.intersection(set(getattr(item, "fixturenames", ())) - parameters):
            item.add_marker(pytest.mark.slow)


# What starts a process or a server, as Python's audit hooks name it (a server binds its socket).
_STARTS = frozenset({"subprocess.Popen", "os.system", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn",
                     "os.exec", "socket.bind"})
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_fast_test: list[str] = []  # the node id of the running test that is not marked slow, if any


def _refuse_starts(event: str, args: tuple[object, ...]) -> None:
    """In a fast test: no process, no server, and no address looked up or asked beyond 127.0.0.1 (a
    command run in this process that fails to refuse its input must not crawl the portal itself)."""
    if not _fast_test:
        return
    if event in _STARTS:
        raise AssertionError(f"{_fast_test[0]} starts a process or a server ({event}): mark it @pytest.mark.slow")
    if event in ("socket.getaddrinfo", "socket.gethostbyname"):
        where = args[0]
    elif event == "socket.connect" and isinstance(args[1], tuple):
        where = args[1][0]
    else:
        return
    if where not in (None, *_LOOPBACK):
        raise AssertionError(f"{_fast_test[0]} reaches beyond 127.0.0.1 ({event} {where!r})")


sys.addaudithook(_refuse_starts)  # an audit hook stays for the process's life: it checks _fast_test


@pytest.fixture(autouse=True)
def _fast_tests_start_nothing(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test not marked slow that starts a process or a server fails, and says so: the marker is exact."""
    if request.node.get_closest_marker("slow") is not None:
        yield
        return
    _fast_test.append(request.node.nodeid)
    try:
        yield
    finally:
        _fast_test.clear()


ROOT = Path(__file__).resolve().parents[1]
SEED_TEXT = (ROOT / "tests/data/nato-homepage-2012-09-28.txt").read_text("utf-8")
# The seed's dated items: "title date summary" lines, read from the reference text itself.
_ITEM_LINE = re.compile(r"^(.*?) (\d\d [A-Z][a-z]{2}\. \d{4}(?: - \d\d [A-Z][a-z]{2}\. \d{4})?) (.*?)\s*$")
SEED_ITEMS = [dict(zip(("title", "date_text", "summary"), m.groups(), strict=True))
              for line in SEED_TEXT.splitlines() if (m := _ITEM_LINE.match(line))]
assert len(SEED_ITEMS) == 32


class Replica(ReplicaProcess):
    def __init__(self, items: int = 300, changes: Path | None = None, *extra: str) -> None:
        options = [*extra, *(["--changes", str(changes)] if changes is not None else [])]
        super().__init__(items, *options, cwd=str(ROOT))

    def url(self, path: str) -> str:
        return self.base_url + path

    def change(self, *changes: dict[str, object]) -> list[str]:
        """Apply changes to the running portal through its HTTP endpoint."""
        request = urllib.request.Request(self.url("/_replica/changes"), data=json.dumps(list(changes)).encode(),
                                         method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())["applied"]


@pytest.fixture(scope="session")
def replica() -> Iterator[Replica]:
    server = Replica(items=300)
    yield server
    server.stop()


@pytest.fixture
def start_replica() -> Iterator[Callable[..., Replica]]:
    with ExitStack() as stack:

        def start(items: int = 300, changes: Path | None = None, *extra: str) -> Replica:
            server = Replica(items, changes, *extra)
            stack.callback(server.stop)
            return server

        yield start



@dataclass(frozen=True)
class SessionArgs:
    """What a crawl session takes of a crawl's arguments, for tests that open sessions without Scrapy."""

    spider: str = "nato"
    portal: str = "nato"
    lang: str = "en"
    resume: bool = False

    def row(self) -> dict[str, Any]:
        return {"base_url": "http://127.0.0.1:9", "lang": self.lang}

# Runs the portalscraper command in-process and reports its peak resident memory on its last stderr line:
#   subprocess.run([sys.executable, "-c", MEASURED, *args])
# The peak is the process's own memory's high-water mark (VmHWM): getrusage's ru_maxrss would carry
# the parent's, since Linux keeps it across the fork (or vfork) and exec that start the child.
MEASURED = ("import sys\nfrom portalscraper.cli import main\ncode = main(sys.argv[1:])\n"
            "hwm = next(line for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
            "print(f'PEAK_RSS_KB {hwm.split()[1]}', file=sys.stderr)\n"
            "sys.exit(code)\n")


def run_cli(*args: str, cwd: Path | None = None, check: bool = True,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The portalscraper command in a subprocess; `env` adds environment variables (a proxy)."""
    env = {**{k: v for k, v in os.environ.items() if "proxy" not in k.lower()}, "PYTHONPATH": str(ROOT), **(env or {})}
    result = subprocess.run([sys.executable, "-m", "portalscraper.cli", *args], capture_output=True, text=True,
                            cwd=cwd or ROOT, env=env, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"portalscraper {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result


@pytest.fixture
def crawl(tmp_path: Path) -> Callable[..., Path]:
    """Crawl a replica into tmp_path/archive.sqlite (and records.jsonl) with the real CLI."""

    def do(base_url: str, *extra: str, db: Path | None = None) -> Path:
        db = db or tmp_path / "archive.sqlite"
        run_cli("crawl", "nato", "--base-url", base_url, "--db", str(db), "--jsonl", str(tmp_path / "records.jsonl"),
                "--log-level", "WARNING", *extra, cwd=tmp_path)
        return db

    return do


@pytest.fixture(scope="session")
def wayback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, list[str]]]]:
    """pywb serving three weekly snapshots of a replica's homepage (tests/webarchive.py): its endpoint
    and the paths each snapshot held."""
    from tests.webarchive import serve_wayback

    yield from serve_wayback(tmp_path_factory)


@contextmanager
def serve(db: Path) -> Iterator[str]:
    """`portalscraper serve` (a real Datasette) on a free port of 127.0.0.1; yields its root URL once it
    answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "portalscraper.cli", "serve", "--db", str(db), "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:  # ready when it answers, not when it says so
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None and time.monotonic() < deadline, "datasette did not start"
                time.sleep(0.1)  # bounded by the deadline
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server (Debian's; .ci/run installs it) on a free port of 127.0.0.1, its data in a
    temporary folder; yields redis://127.0.0.1:PORT."""
    folder = tmp_path_factory.mktemp("redis")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder),
                             "--save", "", "--appendonly", "no", "--databases", "64"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:  # ready when it answers
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)  # bounded by the deadline
    yield f"redis://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


_redis_databases = iter(range(1, 64))


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """A Redis database of the test's own (one crawl's state each)."""
    return f"{redis_server}/{next(_redis_databases)}"
