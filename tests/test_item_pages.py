"""Item pages as real news sites and blogs write them, read as the `portal` spider reads them
(`read_item_page`: extract, merge, normalize): one small page per failure category seen on real
pages, each spelled the way such sites spell it."""

from __future__ import annotations

import warnings

import pytest

from portalscraper.extract.itempage import read_item_page

P1 = ("The city council voted on Tuesday to expand the bus network to the northern districts, after two years of "
      "consultations with residents and transport unions.")
P2 = ("The new lines will open in stages from next spring, and the council expects about 40,000 more passengers a "
      "day once all of them run.")
P3 = ("Opposition members criticised the cost of the plan, which the council put at 120 million euros over five "
      "years, and asked for an independent review.")
ARTICLE = f"<p>{P1}</p><p>{P2}</p><p>{P3}</p>"


def page(body: str, head: str = "", lang: str = "en") -> str:
    return f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">{head}</head><body>{body}</body></html>'


# -- 1. dates that only the URL, a byline, a time element or an application's data give ----------------

def test_a_date_only_in_the_url() -> None:
    html = page(f"<h1>Council expands bus network</h1><div class='story'>{ARTICLE}</div>")
    record = read_item_page(html, "https://news.example.com/2019/11/19/council-expands-bus-network/")
    assert (record.date_start, record.provenance["date_text"]) == ("2019-11-19", "url")


def test_a_date_only_in_a_byline_sentence_of_a_page_without_scripts() -> None:
    html = page('<h1>Steam marketshare ticks up for May</h1><div class="author">Written by <a href="/a/jo">Jo '
                'Smith</a> in <a href="/t/games">Games</a> on 1 June 2019 at 08:34 PM EDT. <a href="#c">51 '
                f'Comments</a></div><div class="content">{ARTICLE}</div>')
    assert read_item_page(html, "https://www.example.com/scan.php?page=news_item&px=steam-may").date_start \
        == "2019-06-01"


@pytest.mark.parametrize(
    "stamp",
    [
        '<time class="published">Nov. 19, 2019 5:00 PM EST</time>',  # a time element without datetime
        '<relative-time datetime="2019-11-19T22:00:00Z" title="Nov 19, 2019">on Nov 19</relative-time>',
        '<span class="date">2019年11月19日 17:00</span>',
    ],
)
def test_a_date_next_to_the_headline_in_the_forms_sites_print(stamp: str) -> None:
    html = page(f"<article><h1>Council expands bus network</h1><div class='byline'>By Jo Smith {stamp}</div>"
                f"<div class='story'>{ARTICLE}</div></article>")
    assert read_item_page(html, "https://news.example.com/transport/bus-network").date_start == "2019-11-19"


@pytest.mark.parametrize(
    "script",
    [
        '<script id="__NEXT_DATA__" type="application/json">{"props": {"pageProps": {"article": {"id": 81, '
        '"publishedAt": "2019-11-19T17:00:00-05:00", "title": "Council expands bus network"}}}}</script>',
        '<script>window.__INITIAL_STATE__ = {"story": {"headline": "Council expands bus network", '
        '"datePublished": "2019-11-19T17:00:00-05:00"}};</script>',
        "<script>dataLayer.push({\"pageType\": \"article\", \"datePublished\": \"2019-11-19\"});</script>",
    ],
)
def test_a_date_only_in_an_applications_data(script: str) -> None:
    html = page(f"<h1>Council expands bus network</h1><div class='story'>{ARTICLE}</div>{script}")
    record = read_item_page(html, "https://news.example.com/transport/bus-network")
    assert (record.date_start, record.provenance["date_text"]) == ("2019-11-19", "island")
    assert "publishedAt" not in record.body and "datePublished" not in record.body


def test_time_zone_abbreviations_are_read_without_warnings() -> None:
    html = page("<h1>Council expands bus network</h1><p class='dateline'>Updated Nov. 19, 2019 5:00 PM EST</p>"
                f"<div class='story'>{ARTICLE}</div>")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # dateutil's UnknownTimezoneWarning would fail the test
        record = read_item_page(html, "https://news.example.com/transport/bus-network")
    assert record.updated_at == "2019-11-19T17:00-05:00"


# -- 2. the day in the publisher's own offset --------------------------------------------------------

def test_a_moment_written_in_utc_and_in_the_publishers_offset_gives_the_publishers_day() -> None:
    ld = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Council expands bus network", '
          '"dateCreated": "2019-11-20T01:18:13Z"}</script>')
    head = f'{ld}<meta property="article:published_time" content="2019-11-19T17:18:13-08:00">'
    html = page(f"<h1>Council expands bus network</h1><div class='story'>{ARTICLE}</div>", head)
    assert read_item_page(html, "https://news.example.com/transport/bus-network").date_start == "2019-11-19"


# -- 5. titles ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("title_tag", "url"),
    [
        ("버스 노선 확대 결정-사회ㅣ한국일보", "https://www.hankookilbo.com/News/Read/201911191234"),
        ("Stadtrat erweitert das Busnetz | MDR.DE", "https://www.mdr.de/nachrichten/busnetz-100.html"),
        ("市议会决定扩大公交网络--社会--人民网", "http://society.people.com.cn/n1/2019/1119/c1008-31463130.html"),
    ],
)
def test_site_names_after_the_separators_of_other_scripts(title_tag: str, url: str) -> None:
    headline = title_tag.split("-")[0].split(" |")[0]
    html = page(f"<div class='story'>{ARTICLE}</div>", f"<title>{title_tag}</title>")
    assert read_item_page(html, url).title == headline


def test_the_visible_headline_over_a_title_written_for_search_engines() -> None:
    head = ('<meta property="og:title" content="13 Ways To Compliment Women In The Most Empowering, Transformative '
            'Way Possible"><meta property="og:site_name" content="Bustling">')
    html = page('<header><a href="/" class="logo"><h1>Bustling</h1></a></header><article><header><h1>The '
                f"Transformative Power Of Feminist Compliments</h1></header><div class='story'>{ARTICLE}</div>"
                "</article>", head)
    assert read_item_page(html, "https://www.bustling.example/life/compliments").title \
        == "The Transformative Power Of Feminist Compliments"


def test_a_section_label_in_the_h1_is_not_the_headline() -> None:
    head = '<meta property="og:title" content="NSF 2019 in Kansai: early detection, early response">'
    html = page("<h1>Events and seminars</h1><div><h2>NSF 2019 in Kansai: early detection, early response</h2>"
                f"{ARTICLE}</div>", head)
    assert read_item_page(html, "https://www.jnsa.example/seminar/2019/nsf.html").title \
        == "NSF 2019 in Kansai: early detection, early response"


def test_a_kicker_printed_in_the_h1_is_joined_as_the_publishers_metadata_joins_it() -> None:
    head = '<meta property="og:title" content="Transport: Council expands bus network">'
    html = page('<h1><span class="kicker">Transport</span><span class="headline">Council expands bus network'
                f"</span></h1><div class='story'>{ARTICLE}</div>", head)
    assert read_item_page(html, "https://news.example.com/transport/bus-network").title \
        == "Transport: Council expands bus network"


def test_quotes_as_the_page_shows_them() -> None:
    head = "<meta property=\"og:title\" content=\"'Star Wars' original cuts might get released\">"
    html = page(f"<h1 class='entry-title'>‘Star Wars’ original cuts might get released</h1>{ARTICLE}", head)
    assert read_item_page(html, "https://fandom.example.com/articles/star-wars").title \
        == "‘Star Wars’ original cuts might get released"


# -- 3. no body at all, or the wrong block ------------------------------------------------------------

def test_an_article_written_as_text_and_line_breaks_in_the_block_of_its_headline() -> None:
    html = page(f'<div id="nav"><a href="/">Home</a> | <a href="/news">News</a></div><div class="article">'
                f"<h1>Council expands bus network</h1>{P1}<br><br>{P2}<br><br>{P3}</div>"
                '<div class="footer">Rua Walter Marquardt, 1111 - Caixa Postal 21</div>')
    body = read_item_page(html, "https://news.example.com/n/81").body
    assert body == f"{P1}\n\n{P2}\n\n{P3}"


def test_paragraphs_in_custom_elements_and_an_amp_page() -> None:
    html = page('<amp-sidebar id="menu" layout="nodisplay"><ul><li><a href="/">Home</a></li><li><a href="/n">News'
                '</a></li><li><a href="/s">Sport, culture and the rest of the long menu of sections</a></li></ul>'
                '</amp-sidebar><h1>Council expands bus network</h1><article-body>'
                f"<story-paragraph>{P1}</story-paragraph><amp-img src='/bus.jpg' layout='responsive'></amp-img>"
                f"<story-paragraph>{P2} <cite-source><a href='/s/1'>1</a></cite-source></story-paragraph>"
                f"<story-paragraph>{P3}</story-paragraph></article-body>",
                '<link rel="canonical" href="https://news.example.com/n/81">')
    body = read_item_page(html, "https://news.example.com/amp/n/81").body
    assert body == f"{P1}\n\n{P2} 1\n\n{P3}"


@pytest.mark.parametrize(
    ("shell", "source"),
    [
        ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Council expands bus network", '
         f'"datePublished": "2019-11-19", "articleBody": "{P1}\\n{P2}\\n{P3}"}}</script>', "jsonld"),
        ('<script id="__NEXT_DATA__" type="application/json">{"props": {"story": {"articleBody": '
         f'"<p>{P1}</p><p>{P2}</p><p>{P3}</p>"}}}}</script>', "island"),
    ],
)
def test_an_application_shell_whose_text_is_in_its_data(shell: str, source: str) -> None:
    html = page(f'<div id="root"><h1>Council expands bus network</h1><div class="loading">Loading…</div></div>{shell}')
    record = read_item_page(html, "https://news.example.com/n/81")
    assert (record.body, record.provenance["body"]) == (f"{P1}\n\n{P2}\n\n{P3}", source)


@pytest.mark.parametrize(
    "hidden",
    [
        "<p hidden>This paragraph should never be shown to readers.</p>",
        '<p aria-hidden="true">Tap to listen to this article read aloud by a computer voice.</p>',
        '<div style="display: none"><p>Subscribers only: the rest of this article is for members.</p></div>',
    ],
)
def test_hidden_text_is_not_the_body(hidden: str) -> None:
    html = page(f"<h1>Council expands bus network</h1><div class='story'><p>{P1}</p>{hidden}<p>{P2}</p></div>")
    assert read_item_page(html, "https://news.example.com/n/81").body == f"{P1}\n\n{P2}"


def test_a_page_wide_wrapper_named_for_its_sidebar_holds_the_article() -> None:
    html = page('<div class="container penci_sidebar"><div id="main"><div class="theiaStickySidebar"><article>'
                f"<h1>Council expands bus network</h1><div class='entry-content'>{ARTICLE}</div></article></div></div>"
                '<aside class="widget"><h3>Archives</h3><ul><li><a href="/2019/10">October 2019</a></li></ul></aside>'
                "</div>")
    assert read_item_page(html, "https://blog.example.com/2019/11/bus").body == f"{P1}\n\n{P2}\n\n{P3}"


# -- 4. the first paragraph --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("before", "lead"),
    [
        ('<div class="media"><img src="/bus.jpg"><span>The line 7 bus at its first stop. (Image: GETTY)</span></div>',
         P1),
        ("<p><em>Listen to this article</em></p>", P1),
        ("<p><strong>Get our daily email</strong></p><p>Sign up: <a href='/nl'>the news you need, every morning in "
         "your inbox</a></p>", P1),
        ('<div class="byline">By Jo Smith</div><div class="reading-time">4 min read</div>', P1),
        ("<p>by NATO Secretary General Anders Fogh Rasmussen</p>", P1),  # a speech page's byline, in a <p>
        ("", f"BEIRUT (Reuters) - {P1}"),
        ("", f"Kiel (dpo) - {P1}"),
    ],
)
def test_the_first_paragraph_is_the_articles_lead(before: str, lead: str) -> None:
    html = page(f"<article><h1>Council expands bus network</h1><div class='story'>{before}<p>{lead}</p><p>{P2}</p>"
                f"<p>{P3}</p></div></article>")
    assert read_item_page(html, "https://news.example.com/n/81").body.split("\n\n")[0] == lead


def test_a_lead_set_apart_between_the_headline_and_the_body_is_the_first_paragraph() -> None:
    lead = ("The Xbox One X is the most powerful console ever made, and <a href='/t/xbox'>Microsoft</a> says it plays "
            "more titles than any before it.")
    html = page(f"<article><h1>Xbox One X review</h1><div class='lede'><p>{lead}</p></div><aside class='score'>"
                f"<p>Score: 87</p></aside><div class='article-text'>{ARTICLE}</div></article>")
    body = read_item_page(html, "https://www.gadgets.example/2017/11/03/xbox-one-x-review/").body
    assert body.split("\n\n")[:2] == [lead.replace("<a href='/t/xbox'>", "").replace("</a>", ""), P1]


# -- text as the page shows it ------------------------------------------------------------------------

def test_entities_are_decoded_once_as_the_page_shows_them() -> None:
    """A headline whose source is `&amp;#163;1.8m` shows "&#163;1.8m"; a JSON-LD string (HTML
    source no parser decoded) is decoded once."""
    ld = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Fund raises &amp;#163;1.8m", '
          '"description": "Tom &amp; Jerry&#8217;s fund"}</script>')
    html = page(f"<h1>Fund raises &amp;#163;1.8m</h1><div class='story'>{ARTICLE}<p>It was &amp;amp; is.</p></div>",
                ld)
    record = read_item_page(html, "https://news.example.com/n/82")
    assert (record.title, record.summary) == ("Fund raises &#163;1.8m", "Tom & Jerry’s fund")
    assert record.body.endswith("It was &amp; is.")
