"""Item or listing, by the page's own evidence: never by the presence of dated links."""

from __future__ import annotations

import sys

import pytest

from portalscraper.extract.listing import extract_listing, parse_html
from portalscraper.extract.pagetype import ITEM, LISTING, PAGE, page_type
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from evaluation.newsroom import Newsroom

SITE = Newsroom()
BASE = "https://ledger.example"
PARAGRAPH = ("The decision follows months of talks between the city, the port and the unions, and officials said "
             "the first results would be published before the end of the year.")


def kind(html: str, url: str = BASE + "/page", template: bool = False) -> str:
    root = parse_html(html)
    entries = extract_listing(root, url, lambda u: u.startswith(BASE + "/") and u != url)
    return page_type(root, entries, template).kind


def test_an_article_with_a_topic_link_and_a_more_news_sidebar_is_an_item() -> None:
    for item in SITE.articles[:12]:  # with og:type and without, with a programme link and without
        html = SITE.item_page(item)
        assert kind(html, BASE + item.path) == ITEM, item.path
        assert kind(html.replace('<meta property="og:type" content="article">', ""), BASE + item.path) == ITEM


@pytest.mark.parametrize("path", ["/category/business", "/category/sport?page=3", "/archive/2012", "/events/",
                                  "/topic/markets"])
def test_listings_are_listings(path: str) -> None:
    status, _, html, _ = SITE.render(path, BASE)
    assert status == 200
    found = kind(html, BASE + path)
    assert found == (LISTING if path != "/category/sport?page=3" else PAGE)  # one card: no listing to read


def test_metadata_says_article_even_for_a_short_text() -> None:
    page = (f'<html><head><meta property="og:type" content="article"></head><body><h1>T</h1><p>{PARAGRAPH}</p>'
            "</body></html>")
    assert kind(page) == ITEM
    ld = ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle", '
          '"headline": "T", "datePublished": "2013-03-04"}</script>')
    assert kind(f"<html><head>{ld}</head><body><h1>T</h1><p>Short.</p></body></html>") == ITEM
    assert kind(f"<html><body><h1>T</h1><p>{PARAGRAPH}</p></body></html>") == PAGE
    assert kind(f"<html><body><h1>T</h1><p>{PARAGRAPH}</p></body></html>", template=True) == ITEM


def test_a_listing_page_that_calls_itself_an_article_stays_a_listing() -> None:
    cards = "".join(f'<div class="card"><h2><a href="/article/{n}">Harbour authority plans quay number {n}</a></h2>'
                    f'<p class="date">4 March 2013</p><p>Work starts in May.</p></div>' for n in range(5))
    page = f'<html><head><meta property="og:type" content="article"></head><body>{cards}</body></html>'
    assert kind(page) == LISTING
