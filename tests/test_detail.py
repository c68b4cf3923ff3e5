"""Item pages as real sites publish them: one small page per failure category, written here in the
habits of real sites (news portals, blogs, agencies, the 2012 portal), with the fields they must give."""

from __future__ import annotations

import pytest
from lxml import etree

from portalscraper.extract import body
from portalscraper.extract.body import render_paragraphs
from portalscraper.extract.detail import extract_detail
from portalscraper.extract.headline import strip_site_name
from portalscraper.extract.itempage import decode_page
from portalscraper.extract.listing import parse_html
from portalscraper.extract.normalize import normalize
from portalscraper.extract.tree import PageText, parse_page, parse_tree
from portalscraper.items import Record

LONG = ("The ministers met for two days in Brussels and agreed on the next steps of the programme, which will be "
        "reviewed again at the end of the year.")
LONG2 = ("Delegations from all member states took part in the talks, and the partner countries sent observers to "
         "the sessions on training and education.")
LONG3 = ("A final report will be presented to the Council in the spring, together with proposals for the budget "
         "of the following years.")


def page(body: str, head: str = "", lang: str = "en") -> str:
    return f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">{head}</head><body>{body}</body></html>'


def fields_of(html: str, url: str | None = None) -> Record:
    """The page's record as the pipeline normalizes it (dates parsed, texts cleaned)."""
    found = extract_detail(html, url=url)
    record = Record(title=found.title, date_text=found.date_text, updated_text=found.updated_text,
                    summary=found.summary, body=found.body, provenance=found.provenance)
    return normalize(record, "Europe/Berlin")


# -- 1, 2: text as a browser renders it, nothing dropped ---------------------------------------------

@pytest.mark.parametrize(
    ("html", "text"),
    [
        ('<p>Talks on <a href="/t/ukraine">Ukraine</a>. Then more.</p>', "Talks on Ukraine. Then more."),
        ('<p><span class="dropcap">D</span>as Treffen fand am <b>8. Mai 2026</b>, dass es regnete.</p>',
         "Das Treffen fand am 8. Mai 2026, dass es regnete."),
        ('<p><a href="/people/harry">Prince Harry</a> and Meghan arrived in <em>Lisbon</em>’s old town.</p>',
         "Prince Harry and Meghan arrived in Lisbon’s old town."),
        ("<p>One<br>line, then<br><br>another paragraph</p>", "One line, then\n\nanother paragraph"),
        ('<div>Text with a <!-- comment -->joined word and <span style="display:none">hidden </span>no more.</div>',
         "Text with a joined word and no more."),
        ("<p>l&#8217;Alliance &amp; “partners” — café</p>", "l’Alliance & “partners” — café"),
    ],
)
def test_inline_markup_joins_as_a_browser_shows_it(html: str, text: str) -> None:
    assert "\n\n".join(render_paragraphs(parse_html(page(html)))) == text


def test_a_paragraph_that_starts_with_a_link_keeps_the_link_text() -> None:
    html = page(f'<h1>Royal visit to the port</h1><div class="story"><p><a href="/p/harry">Prince Harry</a> and '
                f'Meghan visited the port on Tuesday, where they met the crews. {LONG}</p><p>{LONG2}</p></div>')
    body = extract_detail(html).body
    assert body.startswith("Prince Harry and Meghan visited the port on Tuesday")
    assert body.endswith(LONG2)


# -- 3: bodies split into sibling blocks -----------------------------------------------------------

SPLIT = page(f"""
<header class="site"><a href="/">The Daily Example</a>
<nav><a href="/world">World</a> <a href="/sport">Sport</a></nav></header>
<main><article>
<h1>Ministers agree on training programme</h1>
<p class="byline">By Anna Example | 14 February 2012</p>
<div class="article-text"><p>First paragraph: {LONG}</p></div>
<div class="ad-slot"><span>Advertisement</span></div>
<figure><img src="/p.jpg"><figcaption>The ministers in Brussels. Photo: Agency</figcaption></figure>
<div class="article-text"><p>{LONG2}</p><p>{LONG3}</p><p>{LONG}</p></div>
<div class="read-also"><b>Read also:</b> <a href="/x">Budget talks stall again</a></div>
<div class="newsletter-box"><p>Sign up for our newsletter and get the news of the day in your inbox every
morning.</p></div>
<div class="article-text"><p>Last paragraph: the talks continue.</p></div>
</article>
<aside><h2>Most read</h2><p>Something else entirely happened somewhere else yesterday evening.</p></aside></main>
""")


def test_split_bodies_keep_every_block_and_none_of_the_boxes_between() -> None:
    paragraphs = extract_detail(SPLIT).body.split("\n\n")
    assert paragraphs == [f"First paragraph: {LONG}", LONG2, LONG3, LONG, "Last paragraph: the talks continue."]


# -- 4: the wrong block ----------------------------------------------------------------------------

COMMENTS = "".join(f'<li class="comment"><p>Comment {n}: {LONG3} {LONG2}</p></li>' for n in range(8))


@pytest.mark.parametrize(
    "html",
    [
        # a comments box holding more text than the article
        page(f'<h1>Short news item</h1><div class="entry"><p>{LONG}</p><p>{LONG2}</p></div>'
             f'<section id="comments"><h2>8 comments</h2><ol>{COMMENTS}</ol></section>'),
        # a cookie notice before the article
        page(f'<div id="cmp-box"><p>We use cookies to improve your experience. By clicking accept you consent to '
             f'our privacy policy and the use of cookies by our partners for advertising.</p><button>Accept</button>'
             f'</div><h1>Short news item</h1><div class="text"><p>{LONG}</p><p>{LONG2}</p></div>'),
        # a cookie notice with no class that says so
        page(f'<div><p>This website uses cookies. If you continue, you accept our use of cookies and our privacy '
             f'policy, which you can read in full on the page linked below this notice, and you agree to it.</p>'
             f'</div><h1>Short news item</h1><div><p>{LONG}</p><p>{LONG2}</p></div>'),
        # video metadata beside the article
        page(f'<h1>Short news item</h1><div class="video-info"><p>Duration 02:34. Uploaded by Example TV, with '
             f'12,345 views and subtitles in five languages, recorded at the press conference.</p></div>'
             f'<div class="content"><p>{LONG}</p><p>{LONG2}</p></div>'),
        # the whole page inside one form (ASP.NET WebForms)
        page(f'<form id="aspnetForm" action="/news.aspx"><div id="nav"><a href="/">Home</a></div>'
             f'<h1>Short news item</h1><div class="x1"><p>{LONG}</p><p>{LONG2}</p></div></form>'),
        # paragraphs as bare text and <br><br> in a table cell
        page(f'<table><tr><td><a href="/">Home</a><br><a href="/n">News</a></td><td><b>Short news item</b><br><br>'
             f'{LONG}<br><br>{LONG2}</td></tr></table>'),
    ],
    ids=["comments", "cookie-notice", "cookie-unmarked", "video-meta", "aspnet-form", "table-br"],
)
def test_the_article_wins_over_comments_notices_and_metadata(html: str) -> None:
    body = extract_detail(html).body
    assert body.startswith(LONG)
    assert LONG2 in body
    assert "cookie" not in body and "Comment" not in body and "Duration" not in body


def test_deeply_nested_pages_are_walked_without_recursion() -> None:
    deep = "<div>" * 5000 + f"<p>{LONG}</p>" + "</div>" * 5000
    fields = extract_detail(page(f"<h1>Deep page title</h1>{deep}"))
    assert fields.title == "Deep page title"
    assert fields.body in ("", LONG)  # the parser may cut a page this deep; it never raises


# -- 5: dates in metadata --------------------------------------------------------------------------

ARTICLE = f"<h1>Ministers agree on training programme</h1><div class='text'><p>{LONG}</p><p>{LONG2}</p></div>"


@pytest.mark.parametrize(
    ("head", "date_start", "source"),
    [
        ('<meta name="publishdate" content="2012-02-14">', "2012-02-14", "meta"),
        ('<meta name="publish-date" content="2012-02-14T08:00:00+01:00">', "2012-02-14", "meta"),
        ('<meta property="article:published:time" content="2012-02-14T08:00:00+01:00">', "2012-02-14", "meta"),
        ('<meta itemprop="datePublished" content="2012-02-14">', "2012-02-14", "meta"),
        ('<meta name="DC.date.issued" content="2012-02-14">', "2012-02-14", "meta"),
        ('<meta name="dcterms.created" content="2012-02-14">', "2012-02-14", "meta"),
        ('<meta name="sailthru.date" content="2012-02-14 08:00:00">', "2012-02-14", "meta"),
        ('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2012-02-14T08:00:00+01:00"}'
         "</script><!-- trailing text -->; var x = 1;", "2012-02-14", "jsonld"),
        ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "A\tb\nc", '
         '"datePublished": "2012-02-14"}</script>', "2012-02-14", "jsonld"),
        ('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2012-02-14",}</script>',
         "2012-02-14", "jsonld"),
        ('<script type="application/ld+json">{"@context": "https://schema.org", "@graph": ['
         '{"@type": "WebSite", "name": "Example", "datePublished": "2001-01-01"},'
         '{"@type": "Organization", "name": "Example Media", "foundingDate": "1990"},'
         '{"@type": ["Article", "NewsArticle"], "headline": "Ministers agree", "datePublished": "2012-02-14"}]}'
         "</script>", "2012-02-14", "jsonld"),
        ('<script type="application/ld+json">{"@type": "WebPage", "mainEntity": {"@type": "BlogPosting", '
         '"datePublished": "2012-02-14"}}</script>', "2012-02-14", "jsonld"),
    ],
)
def test_dates_in_metadata_of_every_spelling(head: str, date_start: str, source: str) -> None:
    record = fields_of(page(ARTICLE, head))
    assert (record.date_start, record.provenance["date_text"]) == (date_start, source)


def test_microdata_dates_on_time_elements() -> None:
    html = page('<article itemscope itemtype="https://schema.org/NewsArticle"><h1 itemprop="headline">Ministers '
                'agree</h1><time itemprop="datePublished" datetime="2012-02-14T09:00">14.2.</time> '
                '<time itemprop="dateModified" datetime="2012-02-15T10:30+01:00">15.2.</time>'
                f"<div itemprop='articleBody'><p>{LONG}</p></div></article>")
    record = fields_of(html)
    assert (record.date_start, record.updated_at) == ("2012-02-14", "2012-02-15T10:30+01:00")


# -- 6: visible dates in many languages ------------------------------------------------------------

@pytest.mark.parametrize(
    ("line", "lang", "date_start"),
    [
        ("25.04.24", "de", "2024-04-25"),
        ("Do 25.04.24 | 14:07 Uhr", "de", "2024-04-25"),
        ("14. Februar 2012", "de", "2012-02-14"),
        ("erstellt: 01. April 2025", "de", "2025-04-01"),
        ("Veröffentlicht am 14.02.2012, 10:31 Uhr", "de", "2012-02-14"),
        ("Datum: 14.02.2012", "de", "2012-02-14"),
        ("jeudi 20 septembre 2012", "fr", "2012-09-20"),
        ("Mise en ligne le 20 septembre 2012 à 14h26", "fr", "2012-09-20"),
        ("20 settembre 2012", "it", "2012-09-20"),
        ("Publicado el 14 de febrero de 2012", "es", "2012-02-14"),
        ("14 februari 2012", "nl", "2012-02-14"),
        ("14 de fevereiro de 2012", "pt", "2012-02-14"),
        ("14 Şubat 2012 Salı", "tr", "2012-02-14"),
        ("14 lutego 2012", "pl", "2012-02-14"),
        ("14 февраля 2012", "ru", "2012-02-14"),
        ("2012. február 14.", "hu", "2012-02-14"),
        ("2012年2月14日", "ja", "2012-02-14"),
    ],
)
def test_visible_dates_in_many_languages(line: str, lang: str, date_start: str) -> None:
    html = page(f'<h1>Ministers agree on training programme</h1><div class="meta">{line}</div>'
                f"<div class='text'><p>{LONG}</p><p>{LONG2}</p></div>", lang=lang)
    assert fields_of(html).date_start == date_start


@pytest.mark.parametrize(
    ("line", "updated_at"),
    [
        ("Aktualisiert am 15. Februar 2012, 08:00 Uhr", "2012-02-15T08:00+01:00"),
        ("Mis à jour le 15 février 2012 à 08h00", "2012-02-15T08:00+01:00"),
        ("Güncelleme: 15.02.2012 08:00", "2012-02-15T08:00+01:00"),
        ("Actualizado el 15 de febrero de 2012", "2012-02-15"),
        ("Updated: February 15, 2012 at 8:00 am", "2012-02-15T08:00+01:00"),
    ],
)
def test_updated_lines_in_many_languages(line: str, updated_at: str) -> None:
    html = page(f"<h1>Ministers agree on training programme</h1><p class='d'>14.02.2012</p>"
                f"<div class='text'><p>{LONG}</p><p>{LONG2}</p></div><p>{line}</p>")
    record = fields_of(html)
    assert (record.date_start, record.updated_at) == ("2012-02-14", updated_at)


# -- 7, 8: the date line next to the headline, the right time element ------------------------------

def test_date_line_found_when_the_title_carries_a_site_suffix() -> None:
    html = page(f"<h1>Ministers agree on training programme</h1><p>14.02.2012 – 10:31</p>"
                f"<div class='text'><p>{LONG}</p><p>{LONG2}</p></div>",
                '<meta property="og:title" content="Ministers agree on training programme - Example News">')
    record = fields_of(html)
    assert (record.title, record.date_start) == ("Ministers agree on training programme", "2012-02-14")


def test_time_elements_in_sidebars_and_comments_are_not_the_article_date() -> None:
    html = page('<aside class="sidebar"><ul><li><a href="/a">Other story</a> <time datetime="2012-03-01">1 March'
                '</time></li></ul></aside><article><h1>Ministers agree on training programme</h1>'
                f'<time datetime="2012-02-14T10:00">14 February</time><div class="text"><p>{LONG}</p></div>'
                '<div class="comments"><time datetime="2012-02-20">20 February</time></div></article>')
    assert fields_of(html).date_start == "2012-02-14"


def test_a_utc_time_past_midnight_gives_the_day_the_page_shows() -> None:
    html = page(f"<h1>Ministers agree on training programme</h1><p class='date'>Tuesday, February 14, 2012</p>"
                f"<div class='text'><p>{LONG}</p></div>",
                '<meta property="article:published_time" content="2012-02-15T01:30:00Z">')
    assert fields_of(html).date_start == "2012-02-14"
    same_day = html.replace("2012-02-15T01:30:00Z", "2012-02-14T11:30:00Z")
    assert fields_of(same_day).date_start == "2012-02-14"


# -- 9, 10, 11: titles -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("head", "h1", "url", "title"),
    [
        # 9: JSON-LD headline is an SEO variant of the displayed one
        ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Ministers agree training '
         'programme Brussels 2012 news"}</script><meta property="og:title" content="Ministers agree on training '
         'programme: what it means">', "Ministers agree on training programme", None,
         "Ministers agree on training programme"),
        # 10: site names by og:site_name, by host, by the publisher's name
        ('<meta property="og:site_name" content="Börsen-Zeitung"><title>Zinsen steigen weiter | Börsen-Zeitung'
         "</title>", "", None, "Zinsen steigen weiter"),
        ("<title>Neue Grafikkarten vorgestellt - Golem.de</title>", "", "https://www.golem.de/news/x.html",
         "Neue Grafikkarten vorgestellt"),
        ('<meta property="og:title" content="Tokyo stocks close higher | The Japan Times">', "",
         "https://www.japantimes.co.jp/news/2012/02/14/x/", "Tokyo stocks close higher"),
        ('<script type="application/ld+json">{"@type": "Organization", "name": "Example Post"}</script>'
         "<title>Example Post – Storm hits the coast</title>", "", None, "Storm hits the coast"),
        # a separator inside the headline itself is kept
        ('<meta property="og:site_name" content="Example News"><title>Brexit: what next? | Example News</title>',
         "", None, "Brexit: what next?"),
        # 11: the JSON-LD object used is the article, not the first one with a name or headline
        ('<script type="application/ld+json">[{"@type": "WebSite", "headline": "Example News - all the news"},'
         '{"@type": "ReportageNewsArticle", "headline": "Storm hits the coast"}]</script>', "", None,
         "Storm hits the coast"),
    ],
)
def test_titles_as_displayed_without_site_names(head: str, h1: str, url: str | None, title: str) -> None:
    heading = f"<h1>{h1}</h1>" if h1 else ""
    html = page(f"<header><a href='/'><img alt='logo'></a></header>{heading}<div class='text'><p>{LONG}</p></div>",
                head)
    assert extract_detail(html, url=url).title == title


def test_a_heading_that_links_home_is_the_site_name_not_the_headline() -> None:
    html = page(f'<h1 class="site-title"><a href="/">Example News Blog</a></h1><h2 class="entry-title">Storm '
                f"hits the coast</h2><div class='entry-content'><p>{LONG}</p></div>",
                "<title>Storm hits the coast | Example News Blog</title>")
    assert extract_detail(html).title == "Storm hits the coast"


@pytest.mark.parametrize(
    ("title", "names", "url", "stripped"),
    [
        ("Storm hits the coast | Example News", ["Example News"], None, "Storm hits the coast"),
        ("Example News: Storm hits the coast", ["Example News"], None, "Storm hits the coast"),
        ("Storm - the day after - golem.de", [], "https://www.golem.de/", "Storm - the day after"),
        ("Storm hits the coast", ["Example News"], None, "Storm hits the coast"),
        ("Example News", ["Example News"], None, "Example News"),  # never empty
        ("Greece - Germany: 2-1", [], "https://www.sport.example/", "Greece - Germany: 2-1"),
    ],
)
def test_strip_site_name(title: str, names: list[str], url: str | None, stripped: str) -> None:
    assert strip_site_name(title, names, url) == stripped


@pytest.mark.parametrize(
    "template",
    [
        # each paragraph in wrappers of its own, as component-built pages render them
        '<div data-component="text-block"><div class="c1"><p>{}</p></div></div>',
        # page-builder widgets around the text
        '<div class="elementor-widget elementor-widget-text-editor"><div class="elementor-widget-container"><p>{}</p>'
        "</div></div>",
        # the body behind a paywall marker that is still in the page
        '<div class="paywall"><p>{}</p></div>',
    ],
    ids=["wrapped-paragraphs", "page-builder", "paywall"],
)
def test_paragraphs_in_wrappers_of_their_own(template: str) -> None:
    comments = "".join(f'<li><p>Reader {n} wrote: {LONG2}</p></li>' for n in range(2))
    html = page('<h1>Ministers agree on training programme</h1><div class="article-body">'
                + "".join(template.format(text) for text in (LONG, LONG2, LONG3))
                + f'</div><div class="reader-posts"><ol>{comments}</ol></div>')
    assert extract_detail(html).body.split("\n\n")[:3] == [LONG, LONG2, LONG3]


def test_a_date_line_above_the_headline_is_found_past_a_large_header() -> None:
    """The text just before the headline is read from its end: a kicker's date line is found
    whatever the size of the header before it, in the order the page shows it."""
    from portalscraper.extract.detail import _texts_backwards

    header = "<header>" + "".join(f'<ul><li><a href="/s{n}">Section {n}</a><!-- x -->tail {n}</li></ul>'
                                  for n in range(300)) + "</header>"
    html = page(f'{header}<div><p class="kicker">Published 13 September 2012</p>'
                f'<h1>Ministers agree on training programme</h1><p>{LONG}</p></div>')
    menu = parse_html(html).find(".//header")
    assert list(_texts_backwards(menu)) == list(reversed(list(menu.itertext())))
    assert extract_detail(html).date_text == "13 September 2012"


# Class words as sites spell them: the shortcuts that judge them (a search over the whole class
# string, a lower-cased ASCII word against the lower-case pattern) agree with the patterns.
@pytest.mark.parametrize("word", [
    "CommentList", "comments-open", "Commentary", "Related-Articles", "has-sidebar", "Sidebar-left", "SIDEBAR",
    "ad_slot", "AD", "main-ad", "Adventure", "read-more", "ReadMore", "PlayerWrapper", "player-2", "sr-only",
    "VisuallyHidden", "latest-News", "Widget_text", "widgetized", "Nav", "subnav", "entry-content", "Gallery",
    "ſidebar", "socıal",
])
def test_class_word_shortcuts_agree_with_the_patterns(word: str) -> None:
    stem = body._maybe_off(word)
    assert stem == any(s in word.lower() for s in body._OFF_STEMS) or word.lower().startswith("ad")
    assert body._any_stem(f"x {word} y") == (stem or body._any_stem("x y"))
    expected = stem and body._OFF_WORDS.search(word) is not None
    assert body._word_off(word) == expected


def _judged_by_the_patterns(words: str) -> bool:
    """`_off_words` as its patterns define it (a word without a stem is never "off"), without a memo."""
    names = [w.split("--", 1)[0] for w in words.split()]
    names = [w for w in names if not body._NEGATED.match(w)]
    off = [w for w in names if w and body._maybe_off(w) and body._OFF_WORDS.search(w)]
    return bool(off) and not any(body._ON_WORDS.search(w) for w in names if w not in off)


# Class strings judged word by word (each word's judgement kept), lower-cased when ASCII: as the
# patterns judge the whole string, whatever words stand beside each other.
@pytest.mark.parametrize("words", [
    "post comments-open", "article-comments", "Article-Comments", "comment-list Main-Content", "NO-Caption sidebar",
    "Has-Sidebar entry", "IS_hidden", "hide-menu", "Layout--sidebar-end", "Layout--Sidebar-End menu--open",
    "STORY related", "related story", "ſhow-menu", "ſhow-menu Story", "socıal Artıcle", "ſidebar Artıcle",
    "promo  PROMO", "Related-Articles", "SIDEBAR Nav", "CommentList Entry",
    "-- --related", "widget_text Text-Block", "Widget_text textwidget", "ad rich-text", "ads main",
])
def test_class_strings_judged_word_by_word_as_by_the_patterns(words: str) -> None:
    body._OFF_CACHE.clear()
    body._WORD_CACHE.clear()
    assert body._off_words(words) == _judged_by_the_patterns(words)
    assert body._off_words(words) == _judged_by_the_patterns(words)  # (from the memos)
    for word in words.split():  # each word judged alone, then in this string again
        body._OFF_CACHE.clear()
        assert body._off_words(word) == _judged_by_the_patterns(word)
    body._OFF_CACHE.clear()
    assert body._off_words(words) == _judged_by_the_patterns(words)


def test_a_page_read_from_its_text_is_the_page_read_from_its_tree_with_comments() -> None:
    html = ("<html><head><title>Talks <!-- x -->resume | Site</title></head><body><!-- top --><h1>Talks"
            "<!-- a --> resume</h1><p class='date'>13 <!-- b -->September 2012</p><article><p>The talks "
            "resumed<?php echo 1 ?> on Monday in Brussels, <!-- c -->after a pause of two weeks.</p>"
            "<p>Both sides said <!-- d --><b>little</b><!-- e --> about them.</p></article></body></html>")
    from_text = extract_detail(html, url="https://example.org/talks")
    from_tree = extract_detail(parse_page(html, "https://example.org/talks"), url="https://example.org/talks")
    assert from_text == from_tree
    assert from_text.body.startswith("The talks resumed on Monday in Brussels, after a pause")


@pytest.mark.parametrize("around", ["", "\n", " \t\r\n", "\x1c\x1f", "\xa0", "\u3000\n", "\n\x85"])
def test_a_page_parsed_from_the_bytes_it_was_decoded_from_is_the_page_parsed_from_its_text(around: str) -> None:
    # Whitespace around the page is cut from the bytes only where it is ASCII; other whitespace (a
    # no-break space, an ideographic space, NEL) makes the parser read the text encoded again.
    html = (f"{around}<html><head><title>Caf\u00e9 talks</title></head><body><h1>Caf\u00e9 talks</h1>"
            f"<p>{LONG} \u4e2d\u6587\x00 \U0001f600</p></body></html>{around}")
    raw = html.encode("utf-8")
    decoded = decode_page(raw)
    assert isinstance(decoded, PageText) and decoded == html
    from_bytes, from_text = parse_tree(decoded, comments=False)[0], parse_tree(html, comments=False)[0]
    assert etree.tostring(from_bytes, encoding="unicode") == etree.tostring(from_text, encoding="unicode")
    assert extract_detail(decoded) == extract_detail(html)


def test_the_elements_found_while_scripts_are_dropped_are_those_left_in_the_tree() -> None:
    # JSON-LD, meta tags and headings inside a noscript or a template go with it; a data island is set
    # aside in the head and is no JSON-LD; the page reads the same from its text as from its tree.
    ld = '{"@type": "NewsArticle", "headline": "Talks resume", "datePublished": "2012-09-13"}'
    html = (f'<html><head><meta name="description" content="Talks in Brussels.">'
            f'<noscript><meta name="description" content="Enable scripts."><script type="application/ld+json">'
            f'{{"@type": "NewsArticle", "datePublished": "2001-01-01"}}</script></noscript>'
            f'<script type="application/ld+json">{ld}</script><script>var x = 1;</script></head><body>'
            f'<template><h1>Not shown</h1></template><script>window.state = {{"publishedAt": "2012-09-14"}}'
            f'</script><h1>Talks resume</h1><p>{LONG}</p></body></html>')
    root, found = parse_tree(html, comments=False, find=("script", "meta", "title", "h1"))
    left = [el for el in root.iter("script", "meta", "title", "h1")
            if el.tag != "script" or el.get("type") == "application/ld+json"]
    assert found == left
    assert [el.tag for el in found] == ["meta", "script", "h1"]
    assert extract_detail(html) == extract_detail(parse_page(html))
    assert extract_detail(html).date_text == "2012-09-13"


# A page that says nothing of its summary: the lead is the first text after the headline classed as
# one (its own class or id, or its parent's when it is the parent's only element), or a paragraph
# all in bold. Text before the headline, and a class on a parent of several elements, do not count.
LEAD = "Ministers agreed on Tuesday to extend the training programme by two years, officials said."


@pytest.mark.parametrize(("markup", "summary"), [
    (f'<h1>Training extended</h1><p class="Article-Intro">{LEAD}</p><p>{LONG}</p>', LEAD),
    (f'<h1>Training extended</h1><div id="STANDFIRST"><p>{LEAD}</p></div><p>{LONG}</p>', LEAD),
    (f'<h1>Training extended</h1><div class="teaser"><p>{LONG2}</p><p>{LEAD}</p></div><p>{LONG}</p>', ""),
    (f'<h1>Training extended</h1><p><strong>{LEAD}</strong></p><p>{LONG}</p>', LEAD),
    (f'<p class="lead">{LONG2}</p><h1>Training extended</h1><p>{LONG}</p><p><b>{LEAD}</b></p>', LEAD),
    (f'<h1>Training extended</h1><p class="résumé-intro">{LEAD}</p><p>{LONG}</p>', LEAD),
])
def test_a_lead_is_found_by_its_class_or_its_bold_after_the_headline(markup: str, summary: str) -> None:
    assert extract_detail(page(markup)).summary == summary


@pytest.mark.parametrize("css", ["#content h1", "#content .dateline .date", "#review p.date", "#missing h1",
                                 "#twice .text", "#content > h1", "#content.x h1", "h1", "#content h1, h2",
                                 "#content  div   .text"])
def test_a_profiles_id_led_selector_finds_what_css_finds(css: str) -> None:
    """A selector led by an id is read below that element (the page's ids found in one pass): the
    same element as the selector read whole, for an id given once, never, or twice, and for other
    selectors as they are."""
    from cssselect import HTMLTranslator

    from portalscraper.extract.detail import _by_selectors, _Ids

    root = parse_html(b"""<html><body><h2>Side</h2><div id="twice"><p class="text">First</p></div>
        <div id="content" class="x"><div><h1>Title</h1><p class="dateline">On <span class="date">3 May
        2012</span></p><div class="text"><p>Body</p></div></div></div>
        <div id="review"><p class="date">4 May</p></div><div id="twice"><p class="text">Second</p></div>
        </body></html>""")
    expected = root.xpath(HTMLTranslator().css_to_xpath(css))
    found = _by_selectors(root, [css], _Ids(root))
    assert found is (expected[0] if expected else None)
    assert (found is None) == (css in ("#missing h1", "#content > h1"))
