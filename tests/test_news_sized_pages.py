"""The replica's item pages at a news site's size (`--news-sized-pages`): the same article inside the
scripts, menus, related-stories rail and footer such pages carry, read alike by the extraction.
In process: the replica's router, no server."""

from __future__ import annotations

import pytest

from portalscraper.extract.detail import extract_detail
from portalscraper.profiles import load_profile
from portalscraper.replica.command import add_arguments
from portalscraper.replica.content import Portal
from portalscraper.replica.server import Router

BASE = "http://127.0.0.1:8000"


def _page(portal: Portal, path: str) -> str:
    page = Router(portal).route(path, {}, BASE)
    assert page.status == 200
    return page.body if isinstance(page.body, str) else page.body.decode("utf-8")


@pytest.fixture(scope="module")
def portals() -> tuple[Portal, Portal]:
    return Portal(items=300), Portal(items=300, news_sized=True)


def test_item_pages_grow_to_a_news_sites_size_and_only_item_pages(portals: tuple[Portal, Portal]) -> None:
    plain, sized = portals
    paths = [item.path("en") for item in plain.news_page(3, 5)]
    for path in paths:
        small, large = len(_page(plain, path).encode()), len(_page(sized, path).encode())
        assert small < 8_000 and 50_000 <= large <= 80_000, (path, small, large)
    for listing in ("/cps/en/natolive/index.htm", "/cps/en/natolive/news.htm"):
        assert _page(plain, listing) == _page(sized, listing)


@pytest.mark.parametrize("selectors", ["profile", "none"])
def test_the_article_reads_the_same_inside_a_news_sites_boilerplate(portals: tuple[Portal, Portal],
                                                                    selectors: str) -> None:
    plain, sized = portals
    chosen = load_profile("nato").selectors if selectors == "profile" else {}
    for item in plain.news_page(2, 4):
        path = item.path("en")
        small, large = (extract_detail(_page(p, path), chosen, BASE + path) for p in (plain, sized))
        assert large.body and large.date_text
        assert (large.title, large.date_text, large.body) == (small.title, small.date_text, small.body)


def test_the_replica_command_takes_the_option() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args(["--news-sized-pages"]).news_sized_pages is True
    assert parser.parse_args([]).news_sized_pages is False
