"""Feeds and sitemaps, read defused: the replica's, the forms real sites publish, and hostile ones."""

from __future__ import annotations

import datetime as dt
import gzip

import pytest

from portalscraper.extract.listing import parse_html
from portalscraper.extract.syndication import (
    FeedEntry,
    SitemapEntry,
    XmlRefusedError,
    feed_links,
    latest_moment,
    parse_feed,
    parse_sitemap,
    parse_xml,
    robots_sitemaps,
)
from portalscraper.replica import render
from portalscraper.replica.content import Portal

BASE = "http://127.0.0.1:8123"


def test_the_replicas_sitemap_index_sitemaps_and_feeds() -> None:
    portal = Portal(items=40)
    index = parse_sitemap(render.sitemap_index(portal, BASE).encode(), BASE + "/sitemap.xml")
    assert index.index and [e.url for e in index.entries] == [BASE + "/sitemap-pages.xml", BASE + "/sitemap-news-1.xml"]
    assert all(e.lastmod == "2012-09-28T13:25:24+00:00" for e in index.entries)
    news = parse_sitemap(render.sitemap_news(portal, BASE, 1).encode(), BASE + "/sitemap-news-1.xml")  # type: ignore[union-attr]
    assert not news.index and len(news.entries) == 40
    assert news.entries[0] == SitemapEntry(BASE + "/cps/en/natolive/news_91112.htm", "2012-09-28T13:25:24+00:00")
    feed = parse_feed(render.rss(portal, BASE, "en").encode(), BASE + "/cps/en/natolive/news_rss.xml")
    assert feed[0].url == BASE + "/cps/en/natolive/news_91112.htm"
    assert feed[0].title == "Supporting defence education in partner countries"
    assert feed[0].date_text == "Thu, 13 Sep 2012 12:00:00 +0000"
    review = parse_feed(render.review_rss(portal, BASE).encode(), BASE + "/docu/review/rss.xml")
    assert len(review) == 27 and review[0].url.startswith(BASE + "/docu/review/2012/")


def test_an_edited_item_moves_its_sitemaps_lastmod() -> None:
    portal = Portal(items=40)
    when = dt.datetime(2013, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    portal.apply({"op": "edit", "key": "news_100010", "summary": "Changed."}, now=when)
    index = parse_sitemap(render.sitemap_index(portal, BASE).encode(), BASE + "/sitemap.xml")
    assert [e.lastmod for e in index.entries] == ["2012-09-28T13:25:24+00:00", "2013-01-02T03:04:05+00:00"]
    news = parse_sitemap(render.sitemap_news(portal, BASE, 1).encode(), BASE)  # type: ignore[union-attr]
    assert {e.lastmod for e in news.entries if e.url.endswith("news_100010.htm")} == {"2013-01-02T03:04:05+00:00"}


RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>News</title>
<item><title>Allies meet in Brussels</title><link>/news/1.html</link>
<description>&lt;p&gt;The ministers met for &lt;b&gt;two&lt;/b&gt; days.&lt;/p&gt;</description>
<pubDate>19 Sep. 2025 12:00:00 GMT</pubDate><category>Business</category></item>
<item><title>No link, a permalink guid</title><guid>https://news.example/news/2.html</guid>
<dc:date>2025-09-18T10:00:00+02:00</dc:date></item>
<item><title>Neither link nor permalink</title><guid isPermaLink="false">tag:2</guid></item>
</channel></rss>"""
ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title>
<entry><title>First post</title><link rel="alternate" href="https://news.example/2012/09/first-post/"/>
<link rel="edit" href="https://news.example/edit/1"/><published>2012-09-13T10:00:00Z</published>
<updated>2012-09-20T14:26:00Z</updated><summary type="html">A &lt;i&gt;short&lt;/i&gt; summary.</summary>
<category term="world" label="World"/></entry></feed>"""
RDF = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel rdf:about="x"><title>T</title>
</channel><item rdf:about="https://news.example/a"><title>An RSS 1.0 item</title><link>https://news.example/a</link>
<description>Its teaser.</description><dc:date>2012-09-13</dc:date></item></rdf:RDF>"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (RSS, [FeedEntry("https://news.example/news/1.html", "Allies meet in Brussels", "19 Sep. 2025 12:00:00 GMT",
                         "The ministers met for two days.", None, "Business"),
               FeedEntry("https://news.example/news/2.html", "No link, a permalink guid",
                         "2025-09-18T10:00:00+02:00")]),
        (ATOM, [FeedEntry("https://news.example/2012/09/first-post/", "First post", "2012-09-13T10:00:00Z",
                          "A short summary.", "2012-09-20T14:26:00Z", "World")]),
        (RDF, [FeedEntry("https://news.example/a", "An RSS 1.0 item", "2012-09-13", "Its teaser.")]),
    ],
)
def test_feeds(body: bytes, expected: list[FeedEntry]) -> None:
    assert parse_feed(body, "https://news.example/feed.xml") == expected


def test_sitemaps_of_every_form() -> None:
    news = b"""<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
      xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>https://news.example/a/1</loc>
      <lastmod>2012-09-20</lastmod><news:news><news:publication_date>2012-09-13T10:00:00Z</news:publication_date>
      <news:title>Allies meet</news:title></news:news></url><url><loc> /a/2 </loc></url></urlset>"""
    found = parse_sitemap(news, "https://news.example/sitemap.xml")
    assert found.entries == (SitemapEntry("https://news.example/a/1", "2012-09-20", "Allies meet",
                                          "2012-09-13T10:00:00Z"), SitemapEntry("https://news.example/a/2"))
    gz = parse_sitemap(gzip.compress(news), "https://news.example/sitemap.xml.gz")
    assert gz.entries == found.entries
    text = parse_sitemap(b"https://news.example/a/1\nhttps://news.example/a/2\n", "https://news.example/s.txt")
    assert [e.url for e in text.entries] == ["https://news.example/a/1", "https://news.example/a/2"]
    as_feed = parse_sitemap(RSS, "https://news.example/feed.xml")  # robots.txt may name a feed as a sitemap
    assert as_feed.entries[0] == SitemapEntry("https://news.example/news/1.html", "19 Sep. 2025 12:00:00 GMT",
                                              "Allies meet in Brussels")
    with pytest.raises(XmlRefusedError, match="not a sitemap"):
        parse_sitemap(b"<html><body>Not found</body></html>", "https://news.example/sitemap.xml")
    with pytest.raises(XmlRefusedError, match="neither XML nor a list of URLs"):
        parse_sitemap(b"Not found", "https://news.example/sitemap.xml")


def test_a_sitemap_is_read_entry_by_entry_as_a_whole_parse_would() -> None:
    """Sitemaps are parsed as a stream (a URL set of 50,000 entries is never one tree): only the
    root's own `<url>` children count, in order, and a file cut short keeps what came before the cut."""
    entries = "".join(f"<url><loc>/a/{n}</loc><lastmod>2012-09-{n % 28 + 1:02d}</lastmod></url>" for n in range(3000))
    body = f"<urlset><!-- a note --><url><loc>/first</loc></url><group><url><loc>/nested</loc></url></group>" \
           f"<other/>{entries}</urlset>".encode()
    found = parse_sitemap(body, "https://news.example/sitemap.xml")
    urls = [e.url for e in found.entries]
    assert urls[:2] == ["https://news.example/first", "https://news.example/a/0"] and len(urls) == 3001
    assert found.entries[-1] == SitemapEntry("https://news.example/a/2999", "2012-09-04")
    cut = parse_sitemap(body[:body.index(b"/a/1500<")], "https://news.example/sitemap.xml")
    assert [e.url for e in cut.entries] == urls[:1501]


def test_robots_txt_sitemap_lines_and_feeds_a_page_announces() -> None:
    robots = "User-agent: *\nDisallow: /search\nSitemap: https://news.example/sitemap_index.xml\n" \
             "sitemap: /news-sitemap.xml # news\nSitemap: https://news.example/sitemap_index.xml\n"
    assert robots_sitemaps(robots, "https://news.example/robots.txt") == [
        "https://news.example/sitemap_index.xml", "https://news.example/news-sitemap.xml"]
    page = parse_html('<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml">'
                      '<link rel="alternate" type="application/atom+xml; charset=utf-8" href="/atom.xml">'
                      '<link rel="alternate" hreflang="fr" href="/fr/"><link rel="stylesheet" href="/s.css">'
                      '</head><body></body></html>')
    assert feed_links(page, "https://news.example/a/1") == ["https://news.example/feed.xml",
                                                           "https://news.example/atom.xml"]


LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<urlset><url><loc>https://news.example/&lol3;</loc></url></urlset>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss><channel><item><title>&x;</title><link>https://news.example/a</link></item></channel></rss>"""


@pytest.mark.parametrize(("body", "why"), [
    (LAUGHS, "declares entities"),
    (XXE, "declares entities"),
    (gzip.compress(b"<urlset>" + b" " * 3_000_000 + b"</urlset>"), "larger than 1,000,000 bytes once inflated"),
    (b"<urlset>" + b" " * 1_000_001 + b"</urlset>", "larger than 1,000,000 bytes"),
])
def test_hostile_xml_is_refused_not_expanded(body: bytes, why: str) -> None:
    with pytest.raises(XmlRefusedError, match=why):
        parse_xml(body, max_bytes=1_000_000)


def test_external_dtds_are_never_fetched() -> None:
    body = (b'<?xml version="1.0"?><!DOCTYPE urlset SYSTEM "http://192.0.2.1/never.dtd">'
            b"<urlset><url><loc>https://news.example/a</loc></url></urlset>")
    assert [e.url for e in parse_sitemap(body, "https://news.example/s.xml").entries] == ["https://news.example/a"]


@pytest.mark.parametrize(
    ("text", "latest"),
    [
        ("Thu, 13 Sep 2012 12:00:00 +0000", "2012-09-13T12:00:00+00:00"),
        ("19 Sep. 2025 12:00:00 GMT", "2025-09-19T12:00:00+00:00"),  # the portal's own pubDate
        ("2012-09-28T13:25:24+02:00", "2012-09-28T11:25:24+00:00"),
        ("2012-09-28T13:25:24", "2012-09-29T03:25:24+00:00"),  # no offset: as late as UTC+14
        ("2012-09-28", "2012-09-29T14:00:00+00:00"),  # a day: until it ends everywhere
        ("2012-09", None),
        ("soon", None),
        (None, None),
    ],
)
def test_latest_moment_a_source_date_may_mean(text: str | None, latest: str | None) -> None:
    found = latest_moment(text)
    assert (found.isoformat() if found else None) == latest
