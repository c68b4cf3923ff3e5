"""Listing and detail extraction on the replica's markup and on other markups of the same content."""

from __future__ import annotations

import re

import pytest

from portalscraper.extract.detail import extract_detail
from portalscraper.extract.listing import extract_listing, next_page_url
from portalscraper.profiles import load_profile
from portalscraper.replica import render
from portalscraper.replica.content import Portal

PAGE = "http://portal.test/news/index.html"
ITEM = re.compile(r"/news/\d+\.html$")


def is_item(url: str) -> bool:
    return bool(ITEM.search(url))


TITLE = "Supporting defence education in partner countries"
DATE = "13 Sep. 2012 - 14 Sep. 2012"
SUMMARY = "The first ever NATO Clearing House took place at NATO Headquarters."
TITLE2 = "Staying the course in Afghanistan"
SUMMARY2 = "On 6 September 2012, a group of Afghan junior diplomats visited NATO Headquarters."

MARKUPS = {
    "table": f"""<html><body><h2>People &amp; Activities</h2><table>
        <tr><td><a href="/news/1.html">{TITLE}</a><br>{DATE}</td><td>{SUMMARY}</td></tr>
        <tr><td><a href="/news/2.html">{TITLE2}</a><br>06 Sep. 2012</td><td>{SUMMARY2}</td></tr>
        </table></body></html>""",
    "html5": f"""<html><body><section><h2>People &amp; Activities</h2>
        <article><h3><a href="/news/1.html">{TITLE}</a></h3><time>{DATE}</time><p>{SUMMARY}</p></article>
        <article><h3><a href="/news/2.html">{TITLE2}</a></h3><time>06 Sep. 2012</time><p>{SUMMARY2}</p></article>
        </section></body></html>""",
    "flat": f"""<html><body><div><span class="x9">People &amp; Activities</span>
        <p><a href="/news/1.html"><b>{TITLE}</b></a> <span>{DATE}</span><br>{SUMMARY}</p>
        <p><a href="/news/2.html"><b>{TITLE2}</b></a> <span>06 Sep. 2012</span><br>{SUMMARY2}</p>
        </div></body></html>""",
    "div-soup": f"""<html><body><div class="c1"><font size="4">People &amp; Activities</font><div class="q">
        <div class="z3"><a href="/news/1.html"><img src="/i/1.jpg"></a><div class="k">
          <a href="/news/1.html">{TITLE}</a><div class="m">{DATE}</div><div>{SUMMARY}</div>
          <a href="/news/1.html">Read more</a></div></div>
        <div class="z3"><a href="/news/2.html"><img src="/i/2.jpg"></a><div class="k">
          <a href="/news/2.html">{TITLE2}</a><div class="m">06 Sep. 2012</div><div>{SUMMARY2}</div>
          <a href="/news/2.html">Read more</a></div></div>
        </div></div><ul><li><a href="/about.html">About</a></li></ul></body></html>""",
}


@pytest.mark.parametrize("markup", sorted(MARKUPS))
def test_listing_markups(markup: str) -> None:
    entries = extract_listing(MARKUPS[markup], PAGE, is_item)
    assert [(e.url, e.title, e.date_text, e.summary, e.section, e.position) for e in entries] == [
        ("http://portal.test/news/1.html", TITLE, DATE, SUMMARY, "People & Activities", 1),
        ("http://portal.test/news/2.html", TITLE2, "06 Sep. 2012", SUMMARY2, "People & Activities", 2),
    ]


def test_replica_homepage_listing() -> None:
    portal = Portal(items=50)
    rules = load_profile("nato").urls
    from portalscraper.extract.urls import canonical_url, page_kind

    entries = extract_listing(render.homepage(portal, "en"), "https://www.nato.int/cps/en/natolive/index.htm",
                              lambda u: page_kind(canonical_url(u, rules), rules) is not None,
                              lambda u: canonical_url(u, rules))
    sections = [e.section for e in entries]
    assert sections.count("People & Activities") == 5
    assert sections.count("NATO Review") == 27
    assert sections.count("") == 3  # the top features stand under no heading
    first = entries[3]
    assert (first.title, first.date_text, first.position) == (TITLE, DATE, 1)
    assert entries[-1].title == "Inside out: a different perspective"
    assert entries[-1].position == 27


def test_next_page() -> None:
    html = '<a href="?page=1">Previous</a> <a class="x" href="news.htm?page=3">Next</a>'
    assert next_page_url(html, "http://p.test/news.htm?page=2") == "http://p.test/news.htm?page=3"
    assert next_page_url('<a href="/p/4">Suivant »</a>', "http://p.test/p/3") == "http://p.test/p/4"
    assert next_page_url('<link rel="next" href="/p/9">', "http://p.test/p/8") == "http://p.test/p/9"
    assert next_page_url('<a href="/p/1">Home</a>', "http://p.test/p/8") is None


def test_detail_from_replica_with_and_without_selectors() -> None:
    portal = Portal(items=50)
    html = render.detail(portal.get("news_91112"), "en")  # type: ignore[arg-type]
    for selectors, source in ((load_profile("nato").selectors, "selector"), ({}, "heuristic")):
        fields = extract_detail(html, selectors)
        assert fields.title == TITLE
        assert fields.date_text == DATE
        assert fields.updated_text == "Last updated: 20 Sep. 2012 14:26"
        assert fields.body.startswith("The first ever NATO Clearing House")
        assert "\n\n" in fields.body and "Last updated" not in fields.body
        assert fields.provenance["title"] == fields.provenance["body"] == source
        assert fields.language == "en"


@pytest.mark.parametrize(
    ("html", "date_text", "source"),
    [
        ('<html><head><script type="application/ld+json">{"@type": "NewsArticle", "headline": "A title",'
         ' "datePublished": "2012-09-13"}</script></head><body><p>Body text here.</p></body></html>',
         "2012-09-13", "jsonld"),
        ('<html><head><meta property="article:published_time" content="2012-09-13T10:00:00Z"></head>'
         "<body><h1>A title</h1><p>Body text here.</p></body></html>", "2012-09-13T10:00:00Z", "meta"),
        ('<html><body><h1>A title</h1><time datetime="2012-09-13">13/09</time><p>Body.</p></body></html>',
         "2012-09-13", "time"),
        ("<html><body><h1>A title</h1><div>Published 13 September 2012</div><p>Body.</p></body></html>",
         "13 September 2012", "heuristic"),
        ("<html><body><h1>A title</h1><div><span>28 Aug. 2012 -</span> | Last updated: 29 Aug. 2012 11:18"
         "</div><p>Body.</p></body></html>", "28 Aug. 2012 -", "heuristic"),
    ],
)
def test_detail_date_sources(html: str, date_text: str, source: str) -> None:
    fields = extract_detail(html)
    assert fields.title == "A title"
    assert (fields.date_text, fields.provenance["date_text"]) == (date_text, source)


def test_only_plain_text_goes_into_text_fields() -> None:
    listing = ('<html><body><h2>News</h2><div class="i"><a href="/cps/en/natolive/news_1.htm">Allies meet'
               '<script>document.write("x")</script></a> <span>13 Sep. 2012</span>'
               '<p>Talks on &lt;b&gt;security&lt;/b&gt; <style>.a{color:red}</style>and <i>defence</i>.</p></div>'
               '<div class="i"><a href="/cps/en/natolive/news_2.htm">Second</a> <span>12 Sep. 2012</span>'
               '<p>More.</p></div></body></html>')
    entry = extract_listing(listing, "https://www.nato.int/cps/en/natolive/index.htm", lambda u: "news_" in u)[0]
    assert (entry.title, entry.summary) == ("Allies meet", "Talks on security and defence.")
    page = ('<html><head><title>X</title><script type="application/ld+json">{"@type": "NewsArticle", '
            '"headline": "A &lt;i&gt;headline&lt;/i&gt;", "datePublished": "2012-09-13"}</script></head><body>'
            '<h1>A headline</h1><div class="text"><p>One <script>var a = "<p>no</p>";</script>paragraph '
            'with &lt;em&gt;markup&lt;/em&gt; as text.</p><p>Two.</p></div></body></html>')
    fields = extract_detail(page)
    assert fields.title == "A headline" and fields.date_text == "2012-09-13"
    assert fields.body == "One paragraph with markup as text.\n\nTwo."


def test_a_nearer_block_header_beats_a_real_heading_further_up() -> None:
    html = ('<html><body><div class="features"><h3><a href="/multimedia/discover.html">Discover NATO</a></h3>'
            "<p>An interactive introduction.</p></div><table><tr><td colspan=2><font size=3><b>People &amp; "
            f'Activities</b></font></td></tr><tr><td>13 Sep. 2012</td><td><a href="/news/1.html">{TITLE}</a><br>'
            f'{SUMMARY}</td></tr><tr><td>06 Sep. 2012</td><td><a href="/news/2.html">{TITLE2}</a><br>{SUMMARY2}'
            "</td></tr></table></body></html>")
    entries = extract_listing(html, PAGE, is_item)
    assert [(e.title, e.section, e.position) for e in entries] == [
        (TITLE, "People & Activities", 1), (TITLE2, "People & Activities", 2)]


def test_an_entry_linking_to_a_hub_page_is_an_item_and_never_a_section() -> None:
    hub = "/docu/review/2012/Threats-Within/EN/index.htm"
    html = (f'<html><body><section><h2>NATO Review</h2><article><h3><a href="{hub}">Threats from within</a></h3>'
            f"<time>09 Aug. 2012</time><p>How can societies fight terrorism?</p></article>"
            f'<article><h3><a href="/news/1.html">{TITLE}</a></h3><time>13 Sep. 2012</time><p>{SUMMARY}</p></article>'
            '<p><a href="/docu/review/2012/Chicago/EN/index.htm">All of the Chicago edition</a></p>'
            "</section></body></html>")
    entries = extract_listing(html, PAGE, is_item, is_hub_url=lambda url: url.endswith("/EN/index.htm"))
    assert [(e.url.removeprefix("http://portal.test"), e.title, e.date_text, e.section, e.position)
            for e in entries] == [
        (hub, "Threats from within", "09 Aug. 2012", "NATO Review", 1),
        ("/news/1.html", TITLE, "13 Sep. 2012", "NATO Review", 2),
    ]
    without_hubs = extract_listing(html, PAGE, is_item)
    assert [(e.title, e.section, e.position) for e in without_hubs] == [(TITLE, "NATO Review", 1)]


def test_teasers_without_date_labels_venues_or_pagers() -> None:
    html = ('<html><body><h2>Events</h2>'
            '<div class="i"><a href="/news/1.html">Allies meet in Brussels today</a> <span>Posted:</span> '
            '<time>13 Sep. 2012</time><p><b>BRUSSELS</b> – NATO ministers met today to discuss the next steps.</p>'
            '</div>'
            '<div class="i"><a href="/news/2.html">Workshop on coastal monitoring</a><p>28 November - 6 December 2011'
            '</p><p class="where">Panama City, Panama</p><p>Experts reviewed coastal monitoring systems and agreed '
            'on priorities.</p></div>'
            '<div class="pager"><span>Page 1 of 4</span> <a href="/news/3.html">Older »</a></div>'
            '<ul><li><a href="/news/4.html">2013</a> (8)</li></ul></body></html>')
    entries = extract_listing(html, PAGE, is_item)
    assert [(e.title, e.date_text, e.summary) for e in entries] == [
        ("Allies meet in Brussels today", "13 Sep. 2012",
         "BRUSSELS – NATO ministers met today to discuss the next steps."),
        ("Workshop on coastal monitoring", "28 November - 6 December 2011",
         "Experts reviewed coastal monitoring systems and agreed on priorities."),
    ]


# -- a card's other lines, a listing's name (#25) ------------------------------------------------

LEDGER = "https://ledger.example/category/business?page=52"
MENU = ('<header><nav><a href="/">Home</a> <a href="/category/business">Business</a> '
        '<a href="/category/science">Science</a></nav></header>')


def card(n: int, teaser: str, extra: str = "") -> str:
    return (f'<div class="card"><h2><a href="/news/{n}.html">Harbour authority plans quay number {n}</a></h2>'
            f'<p class="byline">Alice Johnson wrote</p><p class="date">4 March 2013</p>'
            f'<p class="teaser">{teaser}</p>{extra}</div>')


@pytest.mark.parametrize("cards", [1, 3])
def test_a_byline_line_is_never_glued_to_a_short_teaser(cards: int) -> None:
    html = (f"<html><body>{MENU}<main><h1>Business</h1>"
            + "".join(card(n, "Rates held steady.") for n in range(1, cards + 1)) + "</main></body></html>")
    entries = extract_listing(html, LEDGER, is_item)
    assert [(e.summary, e.date_text) for e in entries] == [("Rates held steady.", "4 March 2013")] * cards


def test_the_pager_is_no_teaser_of_the_only_card_of_a_last_listing_page() -> None:
    pager = ('<nav class="pager"><a href="?page=51">« Previous</a> <a href="/category/business">1</a> … '
             '<a href="?page=51">51</a> <span class="current">52</span> <span class="disabled">Next →</span></nav>')
    html = (f'<html><body>{MENU}<main><h1>Business</h1><section class="listing">'
            f'{card(7, "A vote on the new quay is expected in the council next month.")}{pager}</section></main>'
            "</body></html>")
    entries = extract_listing(html, LEDGER, is_item)
    assert [e.summary for e in entries] == ["A vote on the new quay is expected in the council next month."]


def test_a_venue_line_is_not_a_teaser() -> None:
    events = [("Tidal energy forum", "30 September - 2 October 2013", "Bergen, Norway", ""),
              ("Fishermen's market week", "2 - 8 December 2013", "The Hague, Netherlands", ""),
              ("Open data day", "5 November 2013", "Harbour Library, Main Hall",
               "Journalists and developers work on the city's new data portal.")]
    rows = "".join(f'<li class="event"><h3><a href="/news/{n}.html">{title}</a></h3><p class="when">{when}</p>'
                   f'<p class="where">{where}</p>' + (f'<p class="teaser">{teaser}</p>' if teaser else "") + "</li>"
                   for n, (title, when, where, teaser) in enumerate(events, 1))
    entries = extract_listing(f"<html><body><h1>Events</h1><ul>{rows}</ul></body></html>", PAGE, is_item)
    assert [(e.date_text, e.summary) for e in entries] == [(when, teaser) for _, when, _, teaser in events]


@pytest.mark.parametrize(
    ("page", "heading", "menu", "section"),
    [
        (LEDGER, "510 articles in the Business category", MENU, "Business"),
        ("https://ledger.example/press/page/2/", "Press releases: page 2 of 4",
         '<a href="/press/">Press releases</a> <a href="/news/">News</a>', "Press releases"),
        (LEDGER, "Business", MENU, "Business"),
        (LEDGER, "510 articles in the Business category", "", "510 articles in the Business category"),
    ],
)
def test_the_section_is_the_listing_as_the_sites_navigation_names_it(page: str, heading: str, menu: str,
                                                                       section: str) -> None:
    html = (f"<html><body><nav>{menu}</nav><main><h1>{heading}</h1>"
            + "".join(card(n, "A vote on the new quay is expected next month.") for n in (1, 2))
            + "</main></body></html>")
    assert {e.section for e in extract_listing(html, page, is_item)} == {section}


def test_a_byline_word_above_every_card_is_no_section() -> None:
    posts = "".join(
        f'<div class="post"><div class="by"><a href="/author/alice">Alice Johnson</a> <span>wrote</span></div>'
        f'<h3><a href="/news/{n}.html">Harbour authority plans quay number {n}</a></h3><p>4 March 2013</p>'
        f'<p>A vote on the new quay is expected next month.</p><a href="/topic/{n}.html">quays</a></div>'
        for n in (1, 2, 3))
    html = f"<html><body><h2>Business</h2>{posts}</body></html>"
    entries = extract_listing(html, PAGE, lambda u: "/news/" in u or "/topic/" in u)
    assert [(e.url.rsplit("/", 1)[1], e.section) for e in entries if "/news/" in e.url] == [
        ("1.html", "Business"), ("2.html", "Business"), ("3.html", "Business")]
