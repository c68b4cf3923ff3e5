"""The downloader middlewares, each built by Scrapy's own crawler factory (`get_crawler`) from the
settings it reads, fed requests and responses in this process: no server, no crawl."""

from __future__ import annotations

import time
from collections.abc import Coroutine
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares import cookies as scrapy_cookies
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Response
from scrapy.utils.spider import DefaultSpider
from scrapy.utils.test import get_crawler

from portalscraper.crawl.responses import OtherSiteRefused
from portalscraper.middlewares.cookies import OfflineCookiesMiddleware
from portalscraper.middlewares.encoding import EncodingRepairMiddleware
from portalscraper.middlewares.offsite import OffsiteRedirectMiddleware
from portalscraper.middlewares.origin import OriginGuardMiddleware
from portalscraper.middlewares.replica import ReplicaSpeedMiddleware
from portalscraper.middlewares.retry import BackoffRetryMiddleware
from portalscraper.middlewares.robotstxt import StrictRobotsTxtMiddleware
from portalscraper.middlewares.wayback import WaybackRedirectMiddleware

PORTAL = "http://127.0.0.1:8080"
ARCHIVE = "http://127.0.0.1:8081/web"
BACKOFF = {"BACKOFF_BASE": 0.5, "BACKOFF_MAX": 30.0, "BACKOFF_RETRY_AFTER_MAX": 120.0, "RETRY_TIMES": 2}


def crawler(settings: dict[str, Any] | None = None, wayback: str | None = None) -> Crawler:
    """A crawler of the settings given, whose spider allows the portal's origin only (or, with
    `wayback`, the archive's): what the middlewares ask of the spider."""
    made = get_crawler(settings_dict=settings)
    allowed = ARCHIVE if wayback else PORTAL
    spider = DefaultSpider.from_crawler(made)
    spider.args = SimpleNamespace(wayback=wayback)
    spider.allows_request = lambda url: url.startswith(allowed + "/")
    made.spider = spider
    return made


def at_once(step: Coroutine[Any, Any, Any]) -> Any:
    """The result of a middleware's coroutine that must not wait (a wait would need the reactor)."""
    try:
        step.send(None)
    except StopIteration as done:
        return done.value
    step.close()
    raise AssertionError("the middleware waited")


# -- BackoffRetryMiddleware ---------------------------------------------------------------

def test_backoff_retry_reads_its_settings_and_passes_answers_through() -> None:
    made = crawler(BACKOFF)
    middleware = BackoffRetryMiddleware.from_crawler(made)
    assert (middleware.base, middleware.cap, middleware.retry_after_max, middleware.max_retry_times) == (
        0.5, 30.0, 120.0, 2)
    request = Request(PORTAL + "/a.htm")
    ok = Response(request.url, status=200, request=request)
    assert at_once(middleware.process_request(request)) is None
    assert at_once(middleware.process_response(request, ok)) is ok
    missing = Response(request.url, status=404, request=request)
    assert at_once(middleware.process_response(request, missing)) is missing  # not a status retried
    assert made.stats.get_stats() == {}


@pytest.mark.parametrize("status", [429, 503])
def test_a_retry_after_longer_than_the_limit_is_left_for_the_next_run(status: int) -> None:
    made = crawler(BACKOFF)
    middleware = BackoffRetryMiddleware.from_crawler(made)
    request = Request(PORTAL + "/a.htm")
    refused = Response(request.url, status=status, headers={"Retry-After": "3600"}, request=request)
    assert at_once(middleware.process_response(request, refused)) is refused  # no retry, no wait
    assert made.stats.get_value("retry/retry_after_too_long") == 1
    assert middleware.hosts == {}  # a portal's refusal is the page's, not the host's


def test_a_request_that_must_not_be_retried_is_not() -> None:
    middleware = BackoffRetryMiddleware.from_crawler(crawler(BACKOFF))
    request = Request(PORTAL + "/a.htm", meta={"dont_retry": True})
    failed = Response(request.url, status=503, request=request)
    assert at_once(middleware.process_response(request, failed)) is failed


def test_a_web_archives_refusal_holds_back_every_request_to_it() -> None:
    made = crawler(BACKOFF, wayback=ARCHIVE)
    middleware = BackoffRetryMiddleware.from_crawler(made)
    request = Request(f"{ARCHIVE}/20120901000000id_/http://www.nato.int/a.htm")
    at_once(middleware.process_request(request))
    refused = Response(request.url, status=429, headers={"Retry-After": "0"}, request=request)
    retry = at_once(middleware.process_response(request, refused))  # the retry waits its turn, not here
    assert isinstance(retry, Request) and retry.url == request.url
    assert (retry.meta["retry_times"], retry.meta["_backoff_refused"]) == (1, True)
    assert list(middleware.hosts) == ["127.0.0.1:8081"]
    assert made.stats.get_value("retry/host_backoff") == 1
    assert at_once(middleware.process_request(retry)) is None  # the first one goes at once...
    backoff = middleware.hosts["127.0.0.1:8081"]
    assert backoff.owed == 0 and backoff.turn(time.monotonic(), 1.0) > 0  # ... the next one waits for its turn


def test_a_captured_error_is_the_same_forever_and_not_retried() -> None:
    middleware = BackoffRetryMiddleware.from_crawler(crawler(BACKOFF, wayback=ARCHIVE))
    request = Request(f"{ARCHIVE}/20120901000000id_/http://www.nato.int/a.htm")
    captured = Response(request.url, status=503, request=request,
                        headers={"Memento-Datetime": "Sat, 01 Sep 2012 00:00:00 GMT"})
    assert at_once(middleware.process_response(request, captured)) is captured
    assert middleware.hosts == {}


# -- EncodingRepairMiddleware -------------------------------------------------------------

TEXT = "Déclaration du Conseil de l’Atlantique Nord – 13 Sep. 2012"


@pytest.mark.parametrize(
    ("body", "header", "meta", "encoding"),
    [
        (TEXT.encode("utf-8"), "text/html; charset=iso-8859-1", "", "utf-8"),  # UTF-8 under a latin-1 header
        (TEXT.encode("utf-8"), "text/html", '<meta charset="windows-1252">', "utf-8"),  # or a latin meta tag
        (TEXT.encode("cp1252"), "text/html; charset=utf-8", "", "cp1252"),  # declared UTF-8, not UTF-8
        (TEXT.encode("utf-8"), "text/html; charset=utf-8", "", None),  # correct: untouched
        (TEXT.encode("cp1252"), "text/html; charset=windows-1252", "", None),
        (b"Plain ASCII text", "text/html; charset=iso-8859-1", "", None),  # nothing to tell them apart
    ],
)
def test_text_is_decoded_as_it_really_is(body: bytes, header: str, meta: str, encoding: str | None) -> None:
    made = crawler()
    middleware = EncodingRepairMiddleware.from_crawler(made)
    page = f"<html><head>{meta}</head><body><p>".encode() + body + b"</p></body></html>"
    response = HtmlResponse(PORTAL + "/a.htm", body=page, headers={"Content-Type": header})
    repaired = middleware.process_response(Request(response.url), response)
    if encoding is None:
        assert repaired is response and made.stats.get_value("portal/encoding_repaired") is None
    else:
        assert repaired.encoding == encoding and made.stats.get_value("portal/encoding_repaired") == 1
    shown = TEXT if not body.isascii() else body.decode()
    assert isinstance(repaired, HtmlResponse) and repaired.css("p::text").get() == shown  # as the page reads


# -- OffsiteRedirectMiddleware and OriginGuardMiddleware ------------------------------------

@pytest.mark.parametrize(
    ("status", "location", "followed"),
    [
        (302, "/cps/en/natolive/b.htm", True),
        (301, PORTAL + "/b.htm", True),
        (302, "http://127.0.0.1:9/b.htm", False),  # another port of the same host
        (307, "https://127.0.0.1:8080/b.htm", False),  # another scheme
        (308, "http://evil.example/", False),
        (302, "file:///etc/passwd", False),
        (200, "http://evil.example/", True),  # not a redirect: its Location means nothing
    ],
)
def test_a_redirect_to_another_origin_fails_visibly(status: int, location: str, followed: bool) -> None:
    made = crawler()
    middleware = OffsiteRedirectMiddleware.from_crawler(made)
    request = Request(PORTAL + "/cps/en/natolive/a.htm")
    response = Response(request.url, status=status, headers={"Location": location}, request=request)
    if followed:
        assert middleware.process_response(request, response) is response
    else:
        with pytest.raises(IgnoreRequest, match=r"^offsite redirect to .* not followed$"):
            middleware.process_response(request, response)
        assert made.stats.get_value("portal/offsite_redirect") == 1


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        (PORTAL + "/cps/en/natolive/a.htm", True),
        (PORTAL + "/robots.txt", True),
        ("http://127.0.0.1:9/a.htm", False),
        ("http://www.nato.int/cps/en/natolive/a.htm", False),  # the portal's own host: a replica crawl asks the replica
        ("data:text/html,<p>x</p>", False),
    ],
)
def test_only_the_crawled_origin_is_asked(url: str, allowed: bool) -> None:
    made = crawler()
    middleware = OriginGuardMiddleware.from_crawler(made)
    if allowed:
        assert middleware.process_request(Request(url)) is None
        assert made.stats.get_value("portal/other_origin_refused") is None
    else:
        with pytest.raises(OtherSiteRefused, match=r"^another site, not requested: "):
            middleware.process_request(Request(url))
        assert made.stats.get_value("portal/other_origin_refused") == 1


def test_without_a_portal_spider_nothing_is_refused() -> None:
    made = get_crawler()  # a spider that says nothing of what it allows
    made.spider = DefaultSpider.from_crawler(made)
    assert OriginGuardMiddleware.from_crawler(made).process_request(Request("http://evil.example/")) is None


# -- WaybackRedirectMiddleware --------------------------------------------------------------

def replayed_redirect(location: str, **headers: str) -> tuple[Request, Response]:
    request = Request(f"{ARCHIVE}/20120901000000id_/http://www.nato.int/cps/en/natolive/a.htm")
    return request, Response(request.url, status=302, request=request, headers={"Location": location, **headers})


def test_a_replayed_redirect_goes_to_the_archives_capture_of_its_target() -> None:
    made = crawler(wayback=ARCHIVE)
    middleware = WaybackRedirectMiddleware.from_crawler(made)
    request, response = replayed_redirect("http://www.nato.int/cps/en/natolive/b.htm",
                                          **{"Memento-Datetime": "Sat, 01 Sep 2012 10:20:30 GMT"})
    rewritten = middleware.process_response(request, response)
    assert rewritten.headers["Location"].decode() == (
        f"{ARCHIVE}/20120901102030id_/http://www.nato.int/cps/en/natolive/b.htm")  # at the capture's own time
    assert made.stats.get_value("portal/archived_redirect_followed") == 1


def test_a_redirect_the_archive_rewrote_or_outside_a_replay_is_left_alone() -> None:
    middleware = WaybackRedirectMiddleware.from_crawler(crawler(wayback=ARCHIVE))
    request, response = replayed_redirect(f"{ARCHIVE}/20120901000000id_/http://www.nato.int/b.htm")
    assert middleware.process_response(request, response) is response
    request, response = replayed_redirect("/cps/en/natolive/b.htm")
    relative = middleware.process_response(request, response)  # resolved against the captured URL
    assert relative.headers["Location"].decode() == f"{ARCHIVE}/20120901000000id_/http://www.nato.int/cps/en/natolive/b.htm"
    plain = WaybackRedirectMiddleware.from_crawler(crawler())  # not a web-archive crawl
    request, response = replayed_redirect("http://www.nato.int/b.htm")
    assert plain.process_response(request, response) is response


# -- OfflineCookiesMiddleware ---------------------------------------------------------------

def test_cookies_are_kept_with_the_bundled_public_suffix_list() -> None:
    """A site that sets a cookie gets it back; the public-suffix list is the bundled one (the test
    fails if anything looks up or reaches a host beyond 127.0.0.1: tests/conftest.py)."""
    middleware = OfflineCookiesMiddleware.from_crawler(crawler({"COOKIES_ENABLED": True}))
    assert scrapy_cookies._split_domain.suffix_list_urls == ()
    first = Request("http://portal.example.org/a.htm")
    middleware.process_request(first)
    answer = Response(first.url, headers={"Set-Cookie": "session=abc; Path=/"}, request=first)
    middleware.process_response(first, answer)
    second = Request("http://portal.example.org/b.htm")
    middleware.process_request(second)
    assert second.headers.get("Cookie") == b"session=abc"
    elsewhere = Request("http://other.example.org/b.htm")
    middleware.process_request(elsewhere)
    assert elsewhere.headers.get("Cookie") is None


# -- StrictRobotsTxtMiddleware --------------------------------------------------------------

def test_robots_txt_middleware_is_off_when_robots_txt_is_not_obeyed() -> None:
    with pytest.raises(NotConfigured):
        StrictRobotsTxtMiddleware.from_crawler(crawler({"ROBOTSTXT_OBEY": False}))


def test_an_unreadable_robots_txt_allows_nothing_on_its_host_and_says_why() -> None:
    made = crawler({"ROBOTSTXT_OBEY": True, "ROBOTSTXT_MAXSIZE": 1000})
    middleware = StrictRobotsTxtMiddleware.from_crawler(made)
    assert middleware.maxsize == 1000
    parser = middleware._refuse("127.0.0.1:8080", "it answered HTTP 503")
    with pytest.raises(IgnoreRequest) as refused:
        middleware.process_request_2(parser, Request(PORTAL + "/a.htm"))
    assert str(refused.value) == ("robots.txt could not be read (it answered HTTP 503): nothing may be crawled there "
                                  "(RFC 9309)")
    assert made.stats.get_value("portal/robots_unreadable") == "127.0.0.1:8080: it answered HTTP 503"
    assert made.stats.get_value("robotstxt/forbidden") == 1
    other = middleware._build(b"User-agent: *\nDisallow: /private/\n")  # another host's, read whole
    assert middleware.process_request_2(other, Request("http://127.0.0.1:9/a.htm")) is None


# -- ReplicaSpeedMiddleware ---------------------------------------------------------------

@pytest.mark.parametrize(("settings", "wayback", "headers"), [
    ({}, ARCHIVE, {"X-Portal-Replica": "portalscraper"}),  # a replay passes the replica's headers on
    ({"PORTAL_REPLICA_FULL_SPEED": False}, None, {"X-Portal-Replica": "portalscraper"}),
    ({}, None, {}),  # loopback alone: not the replica
])
def test_the_replica_speed_stays_polite_unless_the_replica_answers_in_a_portal_crawl(
        settings: dict[str, Any], wayback: str | None, headers: dict[str, str]) -> None:
    made = crawler(settings, wayback=wayback)
    middleware = ReplicaSpeedMiddleware.from_crawler(made)
    request = Request(f"{PORTAL}/robots.txt", meta={"download_slot": "127.0.0.1"})
    response = Response(f"{PORTAL}/robots.txt", headers=headers, request=request)
    assert middleware.process_response(request, response) is response
    assert middleware.hosts == set()  # no download slot touched (the crawler has no engine to touch)
    later = Request(f"{PORTAL}/news.htm")
    middleware.process_request(later)
    assert "autothrottle_dont_adjust_delay" not in later.meta


def test_the_collector_is_set_for_the_crawl_and_given_back() -> None:
    """An extension, not a middleware, but built and driven the same way."""
    import gc

    from portalscraper.crawl.collector import CrawlCollector

    before = gc.get_threshold()
    collector = CrawlCollector.from_crawler(get_crawler(settings_dict={"GC_THRESHOLD": 12_345}))
    other = CrawlCollector.from_crawler(get_crawler(settings_dict={"GC_THRESHOLD": 23_456}))
    collector.engine_started()
    try:
        assert gc.get_threshold() == (12_345, *before[1:])
        assert gc.get_freeze_count() > 1000  # the heap built before the engine started
        collector.engine_started()  # a second start changes nothing
        other.engine_started()  # nor another crawler's, in the same process
        assert gc.get_threshold()[0] == 12_345
        collector.engine_stopped()
        assert gc.get_threshold()[0] == 12_345 and gc.get_freeze_count() > 1000  # the other still runs
    finally:
        collector.engine_stopped()
        other.engine_stopped()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    with pytest.raises(NotConfigured):
        CrawlCollector.from_crawler(get_crawler(settings_dict={"GC_THRESHOLD": 0}))


@pytest.mark.parametrize(("level", "shown"), [("DEBUG", True), ("INFO", False), ("WARNING", False), (10, True),
                                              (30, False)])
def test_the_per_page_debug_messages_are_put_together_only_when_shown(level: str | int, shown: bool) -> None:
    """"Crawled (200)" and "Scraped from" (DEBUG, one a page and one an item): built at DEBUG,
    skipped above it (Scrapy logs nothing for a formatter's None)."""
    from portalscraper.crawl.logformatter import CrawlLogFormatter

    crawler = get_crawler(DefaultSpider, {"LOG_LEVEL": level,
                                          "LOG_FORMATTER": "portalscraper.crawl.logformatter.CrawlLogFormatter"})
    formatter = CrawlLogFormatter.from_crawler(crawler)
    request = Request("http://127.0.0.1:9/news_1.htm")
    response = HtmlResponse(request.url, body=b"<p>x</p>", request=request)
    spider = DefaultSpider()
    crawled, scraped = formatter.crawled(request, response, spider), formatter.scraped({"id": 1}, response, spider)
    if shown:
        assert crawled is not None and crawled["level"] == 10
        assert crawled["msg"] % crawled["args"] == "Crawled (200) <GET http://127.0.0.1:9/news_1.htm> (referer: None)"
        assert scraped is not None and (scraped["msg"] % scraped["args"]).startswith("Scraped from <200 ")
    else:
        assert (crawled, scraped) == (None, None)
