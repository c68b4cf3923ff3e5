"""How fast a target is asked: polite unless it is the project's own replica (which says so in its
answers, from loopback) or the researcher says it is their own; a web archive politely wherever it
is. The decision's parts in this process; a real crawl of a loopback site that is not the replica."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse
from scrapy.settings import Settings

from portalscraper.crawl.politeness import answers_as_replica, politeness
from tests.conftest import ROOT, run_cli

sys.path.insert(0, str(ROOT / "benchmarks"))
import itertools

from evaluation.serving import Answer, LoopbackServer


def project_settings(**values: object) -> Settings:
    settings = Settings()
    settings.setmodule("portalscraper.settings")
    settings.setdict(values, priority="cmdline")
    return settings


@pytest.mark.parametrize(("url", "headers", "replica"), [
    ("http://127.0.0.1:8080/robots.txt", {"X-Portal-Replica": "portalscraper"}, True),
    ("http://localhost:8080/", {"x-portal-replica": "portalscraper"}, True),
    ("http://[::1]:8080/", {"X-Portal-Replica": "portalscraper"}, True),
    ("http://127.0.0.1:8080/", {}, False),  # a tunnel or a proxy on loopback: not ours for that
    ("http://127.0.0.1:8080/", {"X-Portal-Replica": "something else"}, False),
    ("https://www.nato.int/", {"X-Portal-Replica": "portalscraper"}, False),  # a remote server saying so
])
def test_only_the_replica_on_loopback_answers_as_the_replica(url: str, headers: dict[str, str],
                                                             replica: bool) -> None:
    assert answers_as_replica(HtmlResponse(url, headers=headers, body=b"")) is replica


def test_full_speed_from_the_start_only_when_the_researcher_says_so() -> None:
    portal, archive = "http://127.0.0.1:8080", "http://127.0.0.1:8081/web"
    assert politeness(project_settings(), portal, False) == {}  # settings.py's polite defaults
    own = project_settings(PORTAL_FULL_SPEED=True)
    assert politeness(own, portal, False) == {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                                             "CONCURRENT_REQUESTS_PER_DOMAIN": 16}
    # A web archive is read politely wherever it is, whatever is said of portals.
    assert politeness(own, archive, True) == {"DOWNLOAD_DELAY": 3.0, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}
    assert politeness(project_settings(PORTAL_WAYBACK_FULL_SPEED=True), archive, True)["DOWNLOAD_DELAY"] == 0


def site(arrivals: list[float], lock: threading.Lock) -> Answer:
    items = [f"/news/2024/05/0{n}/item-{n}.html" for n in range(1, 6)]

    def answer(path: str, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        with lock:
            arrivals.append(time.monotonic())
        html = [("Content-Type", "text/html; charset=utf-8")]
        if path == "/robots.txt":
            return 200, [("Content-Type", "text/plain")], b"User-agent: *\nAllow: /\n"
        if path == "/":
            links = "".join(f'<li><a href="{p}">Item number {p[-6]} of the news</a> <time>2024-05-0{p[-6]}</time></li>'
                            for p in items)
            return 200, html, f"<html><body><h1>News</h1><ul>{links}</ul></body></html>".encode()
        if path in items:
            n = path[-6]
            return 200, html, (f"<html><head><title>Item number {n} of the news</title></head><body><article>"
                               f"<h1>Item number {n} of the news</h1><time datetime='2024-05-0{n}'>May {n}, "
                               f"2024</time><p>The text of item {n}, long enough to be a body of its own.</p>"
                               f"</article></body></html>").encode()
        return 404, html, b"<html><body>Not found</body></html>"

    return answer


@pytest.mark.slow
@pytest.mark.parametrize("replica", [False, True])
def test_a_loopback_site_is_read_politely_unless_it_is_the_replica(replica: bool, tmp_path: Path) -> None:
    """The same small site on 127.0.0.1, once as a stranger (a tunnel to a live portal would look
    the same): the crawl keeps DOWNLOAD_DELAY between requests; once answering as the replica:
    full speed from its first answer, and said in the log. The wait armed for the first page while
    robots.txt was out (the delay, 3 s here) is called off: no request of the replica's waits."""
    arrivals: list[float] = []
    server = LoopbackServer(site(arrivals, threading.Lock()), replica=replica)
    delay = 3.0 if replica else 0.3
    try:
        result = run_cli("crawl", "portal", "--start-url", server.base_url + "/", "--db", str(tmp_path / "a.sqlite"),
                         "--jsonl", "", "--warc", "", "--log-level", "INFO", "-s", f"DOWNLOAD_DELAY={delay}",
                         "-s", "RANDOMIZE_DOWNLOAD_DELAY=false", "-s", "AUTOTHROTTLE_ENABLED=false",
                         "-s", "PORTAL_SOURCES=false", cwd=tmp_path)
    finally:
        server.stop()
    said = "answers as the project's replica: read at full speed" in result.stderr
    assert said is replica
    assert len(arrivals) >= 7  # robots.txt, the listing, five items
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    if replica:
        assert max(gaps) < delay / 3, gaps  # none waited for the delay, the page after robots.txt neither
    else:
        assert min(gaps) >= delay * 0.95, gaps
