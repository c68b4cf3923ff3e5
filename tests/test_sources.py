"""Feeds and sitemaps as a crawl asks for them (spiders/sources.py), in process: a spider built by
Scrapy's crawler factory, its sources given responses made here."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy import Request
from scrapy.http import Response, TextResponse, XmlResponse
from scrapy.settings import Settings
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.internet import reactor  # noqa: F401  (the crawler factory expects one installed)
from twisted.python.failure import Failure

from portalscraper.extract.urls import record_id
from portalscraper.spiders.nato import NatoSpider

BASE = "http://127.0.0.1:9"


def nato(**settings: Any) -> NatoSpider:
    project = Settings()
    project.setmodule("portalscraper.settings")
    values = {k: v for k, v in project.items() if k != "TWISTED_REACTOR"} | settings
    return NatoSpider.from_crawler(get_crawler(NatoSpider, settings_dict=values), base_url=BASE)


def sitemaps(outputs: Any) -> list[str]:
    return [o.url.removeprefix(BASE) for o in outputs if isinstance(o, Request) and "/sitemap" in o.url]


def urlset(n: int) -> XmlResponse:
    body = "<urlset>" + "".join(f"<url><loc>{BASE}/cps/en/natolive/news_{n}{k}.htm</loc></url>" for k in range(2))
    return XmlResponse(f"{BASE}/sitemap-{n}.xml", body=(body + "</urlset>").encode())


INDEX = XmlResponse(f"{BASE}/sitemap_index.xml", body=(
    "<sitemapindex>" + "".join(f"<sitemap><loc>{BASE}/sitemap-{n}.xml</loc></sitemap>" for n in range(6))
    + "</sitemapindex>").encode())
ROBOTS = TextResponse(f"{BASE}/robots.txt", body=f"Sitemap: {BASE}/sitemap_index.xml\n".encode(), encoding="utf-8")


def test_sitemaps_are_asked_two_at_a_time_the_next_when_one_is_read_or_fails() -> None:
    """A large portal's index names a hundred sitemaps of 10,000 URLs: asked all at once, their
    responses waited in memory together. Two at a time, the next when one is read or has failed."""
    sources = nato().sources
    assert sitemaps(sources.read_robots(ROBOTS)) == ["/sitemap_index.xml"]
    assert sitemaps(sources.read_sitemap(INDEX)) == ["/sitemap-0.xml", "/sitemap-1.xml"]
    read = list(sources.read_sitemap(urlset(0)))
    assert sitemaps(read) == ["/sitemap-2.xml"]  # after the sitemap's own entries
    assert [o.url.removeprefix(BASE) for o in read[:2]] == ["/cps/en/natolive/news_00.htm",
                                                            "/cps/en/natolive/news_01.htm"]
    asked = Request(f"{BASE}/sitemap-1.xml", meta={"source": "sitemap"})
    missing = Failure(HttpError(Response(asked.url, status=404, request=asked)))
    missing.request = asked  # type: ignore[attr-defined]  # as Scrapy gives it to an errback
    assert sitemaps(sources.failed(missing)) == ["/sitemap-3.xml"]
    assert sitemaps(sources.read_sitemap(urlset(2))) == ["/sitemap-4.xml"]
    # Idle with one still waiting (an answer that never reached a callback): the spider asks for the rest.
    assert sitemaps(sources.sitemaps_left(len(sources.sitemaps_waiting))) == ["/sitemap-5.xml"]
    assert sitemaps(sources.read_sitemap(urlset(3))) == [] and not sources.sitemaps_waiting


@pytest.mark.parametrize("at_once", [0, 6])
def test_sitemaps_all_at_once_when_asked_to(at_once: int) -> None:
    sources = nato(PORTAL_SITEMAPS_AT_ONCE=at_once).sources
    list(sources.read_robots(ROBOTS))
    assert sitemaps(sources.read_sitemap(INDEX)) == [f"/sitemap-{n}.xml" for n in range(6)]


def test_a_sitemap_of_new_items_is_read_a_thousand_requests_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sitemap naming 10,000 items no listing named put them all in Scrapy's queue at once (+50 MB
    for two sitemaps at a million items): 1,000 requests at a time, the rest of the sitemap read
    once a response finds fewer than 250 queued, or at idle; the next sitemap after its last."""
    from scrapy.exceptions import DontCloseSpider

    from portalscraper.spiders import sources as module

    scheduled: list[list[str]] = []
    monkeypatch.setattr(module, "schedule", lambda crawler, requests, others: scheduled.append(
        [r.url.removeprefix(BASE) for r in requests]) or [])
    spider = nato()
    sources, stats = spider.sources, spider.crawler.stats
    assert stats is not None
    list(sources.read_robots(ROBOTS))
    list(sources.read_sitemap(INDEX))
    body = "<urlset>" + "".join(f"<url><loc>{BASE}/cps/en/natolive/news_{k}.htm</loc></url>"
                                for k in range(2500)) + "</urlset>"
    first = list(sources.read_sitemap(XmlResponse(f"{BASE}/sitemap-0.xml", body=body.encode())))
    assert [o.url.removeprefix(BASE) for o in first] == [f"/cps/en/natolive/news_{k}.htm" for k in range(1000)]
    stats.set_value("scheduler/enqueued", 1000)
    stats.set_value("scheduler/dequeued", 750)  # 250 queued: not short yet
    sources.read_paused()
    assert scheduled == []
    stats.set_value("scheduler/dequeued", 751)
    sources.read_paused()
    assert scheduled == [[f"/cps/en/natolive/news_{k}.htm" for k in range(1000, 2000)]]
    with pytest.raises(DontCloseSpider):  # idle: the rest, and the next sitemap after the last of it
        sources.request_waiting()
    assert scheduled[1] == [f"/cps/en/natolive/news_{k}.htm" for k in range(2000, 2500)] + ["/sitemap-2.xml"]
    assert not sources.sitemaps_paused
    sources.read_paused()  # nothing left to read
    assert len(scheduled) == 2


def test_a_sitemaps_requests_all_at_once_when_asked_to_and_in_a_shared_crawl() -> None:
    """A shared crawl's worker takes them whole: what it left for later would die with it."""
    from portalscraper.spiders.sources import SourceOptions

    alone = {"PORTAL_SITEMAP_REQUESTS_AT_ONCE": 1000}
    shared = get_crawler(NatoSpider, settings_dict={**alone, "FRONTIER_REDIS_URL": "redis://127.0.0.1:9/0"})
    assert SourceOptions.from_crawler(shared, True).sitemap_requests == 0
    assert SourceOptions.from_crawler(get_crawler(NatoSpider, settings_dict=alone), True).sitemap_requests == 1000
    body = "<urlset>" + "".join(f"<url><loc>{BASE}/cps/en/natolive/news_{k}.htm</loc></url>"
                                for k in range(1500)) + "</urlset>"
    sources = nato(PORTAL_SITEMAP_REQUESTS_AT_ONCE=0).sources
    read = list(sources.read_sitemap(XmlResponse(f"{BASE}/sitemap-0.xml", body=body.encode())))
    assert len(read) == 1500 and not sources.sitemaps_paused


def test_a_sitemap_names_items_asked_already_they_are_set_aside_by_their_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    """At a crawl's end the sitemaps name every item the listings named, most of them as the
    listings did: an entry asked for under the same URL is set aside by that alone, without its
    canonical URL; one named another way (another host's spelling) by its record id, as before."""
    spider = nato()
    sources = spider.sources
    asked = f"{BASE}/cps/en/natolive/news_00.htm"
    request = spider.items.request(sources.complete_listing({"url": asked, "title": "A"}, asked))  # type: ignore[typeddict-item]
    assert request is not None and spider.items.asked(asked)
    other = "https://www.nato.int/cps/en/natohq/news_01.htm"  # the same portal's item, its canonical spelling
    spider.requested.add(record_id(spider.scope.canonical(other)))
    canonicalized: list[str] = []
    canonical = spider.scope.canonical
    monkeypatch.setattr(spider.scope, "canonical", lambda url: canonicalized.append(url) or canonical(url))
    read = list(sources.read_sitemap(urlset(0)))
    assert [o for o in read if isinstance(o, Request) and "/sitemap" not in o.url] == []
    assert canonicalized == [f"{BASE}/cps/en/natolive/news_01.htm"]  # news_00: its URL was enough
