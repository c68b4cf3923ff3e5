"""The replica portal: verbatim seed, working links, feeds, caching headers, changes, scale."""

from __future__ import annotations

import email.utils
import gzip
import http.client
import json
import re
import urllib.error
import urllib.request
import urllib.robotparser
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest

from tests.conftest import SEED_ITEMS, SEED_TEXT, Replica

HOME = "/cps/en/natolive/index.htm"


def get(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def page_text(html: bytes) -> str:
    return " ".join(lxml.html.document_fromstring(html).text_content().split())


def test_homepage_contains_every_seed_item_verbatim(replica: Replica) -> None:
    status, headers, body = get(replica.url(HOME))
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    text = page_text(body)
    for item in SEED_ITEMS:
        assert item["title"] in text
        assert item["date_text"] in text
        assert " ".join(item["summary"].split()) in text
    assert "Václav Havel: remembering the big little man" in text
    assert "To view this content please go to and install the flash plugin." in text


def test_homepage_blocks_in_seed_order(replica: Replica) -> None:
    text = page_text(get(replica.url(HOME))[2])
    blocks = [line.strip() for line in SEED_TEXT.splitlines() if line.strip() and len(line) < 70]
    positions = [text.index(block) for block in blocks]
    assert positions == sorted(positions)


def test_every_homepage_link_resolves(replica: Replica) -> None:
    for lang in ("en", "fr"):
        root = lxml.html.document_fromstring(get(replica.url(f"/cps/{lang}/natolive/index.htm"))[2])
        links = {urljoin(replica.url(HOME), a.get("href")) for a in root.iter("a") if a.get("href")}
        assert len(links) > 35
        for link in links:
            assert urlsplit(link).netloc == urlsplit(replica.base_url).netloc
            status, _, _ = get(link)
            assert status == 200, link


def test_session_ids_locales_and_natohq_serve_the_same_item(replica: Replica) -> None:
    plain = page_text(get(replica.url("/cps/en/natolive/news_90839.htm"))[2])
    assert page_text(get(replica.url("/cps/en/SID-D9080E0A-D29D5220/natolive/news_90839.htm"))[2]) == plain
    assert page_text(get(replica.url("/cps/en/natohq/news_90839.htm"))[2]) == plain
    french = page_text(get(replica.url("/cps/en/natolive/news_90839.htm?selectedLocale=fr"))[2])
    assert "Garder le cap en Afghanistan" in french
    assert "Mis à jour le: 07 Sep. 2012 17:30" in french


def test_detail_page_date_block(replica: Replica) -> None:
    text = page_text(get(replica.url("/cps/en/natolive/news_91112.htm"))[2])
    assert "13 Sep. 2012 - 14 Sep. 2012 | Last updated: 20 Sep. 2012 14:26" in text
    text = page_text(get(replica.url("/cps/en/natolive/news_90440.htm"))[2])
    assert "28 Aug. 2012 - | Last updated: 29 Aug. 2012 11:18" in text


def test_unknown_paths_are_404(replica: Replica) -> None:
    for path in ("/nope", "/cps/en/natolive/news_1.htm", "/cps/en/natolive/news.htm?page=999",
                 "/docu/review/2012/Chicago/Nope/EN/index.htm"):
        assert get(replica.url(path))[0] == 404, path


def test_robots_rss_and_sitemap_parse(replica: Replica) -> None:
    robots = urllib.robotparser.RobotFileParser(replica.url("/robots.txt"))
    robots.read()
    assert robots.can_fetch("portalscraper", replica.url(HOME))
    assert not robots.can_fetch("portalscraper", replica.url("/cps/en/natolive/search.htm"))
    assert robots.site_maps() == [replica.url("/sitemap.xml")]

    channel = ET.fromstring(get(replica.url("/cps/en/natolive/news_rss.xml"))[2]).find("channel")
    assert channel is not None
    items = channel.findall("item")
    assert len(items) == 50
    assert items[0].findtext("title") == "Supporting defence education in partner countries"
    assert email.utils.parsedate_to_datetime(items[0].findtext("pubDate") or "").date().isoformat() == "2012-09-13"

    ns = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    index = ET.fromstring(get(replica.url("/sitemap.xml"))[2])
    locs = [loc.text or "" for loc in index.findall("sm:sitemap/sm:loc", ns)]
    urls = [u.text for loc in locs for u in ET.fromstring(get(loc)[2]).findall("sm:url/sm:loc", ns)]
    assert sum("/news_" in (u or "") for u in urls) == 300
    assert len(urls) == len(set(urls))


def test_conditional_get_gzip_and_head(replica: Replica) -> None:
    url = replica.url("/cps/en/natolive/news_91112.htm")
    status, headers, body = get(url)
    assert status == 200 and headers["ETag"] and headers["Last-Modified"]
    assert get(url, {"If-None-Match": headers["ETag"]})[0] == 304
    assert get(url, {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    status, zipped_headers, zipped = get(url, {"Accept-Encoding": "gzip"})
    assert zipped_headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped) == body
    status, head_headers, head_body = get(url, method="HEAD")
    assert status == 200 and head_body == b"" and head_headers["ETag"] == headers["ETag"]


def test_a_changed_item_gets_200_and_a_new_etag(start_replica) -> None:  # type: ignore[no-untyped-def]
    server = start_replica(items=50)
    url = server.url("/cps/en/natolive/news_91112.htm")
    _, headers, _ = get(url)
    change = [{"op": "edit", "key": "news_91112", "summary": "An edited summary."},
              {"op": "add", "title": "A new item", "date_text": "27 Sep. 2012", "summary": "Added."},
              {"op": "remove", "key": "news_90387"}]
    request = urllib.request.Request(server.url("/_replica/changes"), data=json.dumps(change).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.load(response) == {"applied": ["news_91112", "news_93300", "news_90387"]}
    status, new_headers, body = get(url, {"If-None-Match": headers["ETag"]})
    assert status == 200
    assert new_headers["ETag"] != headers["ETag"]
    assert b'content="An edited summary."' in body
    assert get(server.url("/cps/en/natolive/news_90387.htm"))[0] == 404
    archive = page_text(get(server.url("/cps/en/natolive/news.htm"))[2])
    assert "50 Entries" in archive
    assert archive.index("27 Sep. 2012") < archive.index("A new item") < archive.index("Supporting defence")
    assert "Afghan National Army improves front-line defences" not in archive
    bad = urllib.request.Request(server.url("/_replica/changes"), data=b'{"op": "explode"}', method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(bad, timeout=10)
    assert err.value.code == 400


def test_changes_file_applies_at_start(start_replica, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    changes = tmp_path / "changes.json"
    changes.write_text(json.dumps([{"op": "remove", "key": "news_91045"}]), encoding="utf-8")
    server = start_replica(items=50, changes=changes)
    assert get(server.url("/cps/en/natolive/news_91045.htm"))[0] == 404
    assert "Latest Transatlantic Trends" not in page_text(get(server.url(HOME))[2])


def test_scale_mode_serves_distinct_detail_pages_from_the_archive(start_replica) -> None:  # type: ignore[no-untyped-def]
    server = start_replica(items=5000)
    host = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    links: list[str] = []
    path: str | None = "/cps/en/natolive/news.htm"
    while path:
        conn.request("GET", path)
        html = conn.getresponse().read().decode("utf-8")
        links += re.findall(r'href="(/cps/en/natolive/news_\d+\.htm)"', html)
        m = re.search(r'class="next" href="([^"]+)"', html)
        path = m.group(1).replace("&amp;", "&") if m else None
    assert len(links) == 5000
    assert len(set(links)) == 5000
    titles = set()
    for link in links:
        conn.request("GET", link)
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, link
        titles.add(lxml.html.document_fromstring(body).findtext(".//h1"))
    assert len(titles) > 1000  # synthetic items differ, not one page served 5,000 times
    years = {int(m) for m in re.findall(r"\d{4}", " ".join(links[-100:] + links[:10]))}
    assert years
