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
