"""URL templates learned from a site's own links: no list of words or numbers decides what an item is."""

from __future__ import annotations

import pytest

from portalscraper.extract.templates import TemplateBook, fits, url_template


@pytest.mark.parametrize(
    ("url", "template"),
    [
        ("https://news.example/article/1950", "/article/{n}"),
        ("https://news.example/article/2013", "/article/{n}"),
        ("https://news.example/news/item.php?id=5", "/news/item.php?id={n}"),
        ("https://news.example/2012/09/allies-meet-in-brussels/", "/{n}/{n}/{slug}/"),
        ("https://www.nato.int/cps/en/natolive/news_91112.htm", "/cps/en/natolive/news_{n}.htm"),
        ("https://news.example/press/2013/record-ocean-temperatures/", "/press/{n}/{slug}/"),
        ("https://news.example/press/2013/", "/press/{n}/"),
        ("https://news.example/category/business?page=3", "/category/business?page={n}"),
        ("https://news.example/events/calendar/all", "/events/calendar/all"),
        ("https://news.example/reports/annual-report-2011.pdf", "/reports/{slug}.pdf"),
    ],
)
def test_url_template(url: str, template: str) -> None:
    assert url_template(url) == template


def test_ids_that_look_like_years_are_items_when_the_site_lists_them_so() -> None:
    """A year-archive rule took /article/1900 ... /article/2099 for archives; the site's own
    listings say they are items, and its pager and year links say what its navigation is."""
    book = TemplateBook()
    for number in (2101, 2105, 1890):  # headlines with dates, in a listing
        book.vote(f"https://news.example/article/{number}", item=True)
    for nav in ("https://news.example/archive/2013", "https://news.example/archive/2012",
                "https://news.example/category/business?page=2"):
        book.vote(nav, item=False)
    assert all(book.is_item(f"https://news.example/article/{n}") for n in (1900, 1999, 2000, 2099))
    assert not book.is_item("https://news.example/archive/2013")
    assert not book.is_item("https://news.example/archive/1999")
    assert not book.is_item("https://news.example/category/business?page=7")
    assert not book.is_item("https://news.example/category/business")


def test_a_one_word_slug_fits_the_sites_slug_template() -> None:
    book = TemplateBook()
    book.vote("https://news.example/news/argo-float-milestone", item=True)
    assert book.is_item("https://news.example/news/budget")
    assert not book.is_item("https://news.example/news/")
    assert not book.is_item("https://news.example/about/")
    assert fits("/docu/review/{n}/Chicago/{slug}/EN/index.htm", "/docu/review/{n}/{slug}/{slug}/EN/index.htm")
    assert not fits("/article/{n}", "/article/{slug}")


def test_navigation_votes_outweigh_a_stray_item_vote() -> None:
    book = TemplateBook()
    book.vote("https://news.example/tag/water-academy", item=True)
    for slug in ("open-data", "harbour-futures", "tidal-energy"):
        book.vote(f"https://news.example/tag/{slug}", item=False)
    assert not book.is_item("https://news.example/tag/energy")
    assert book.item_templates() == []
