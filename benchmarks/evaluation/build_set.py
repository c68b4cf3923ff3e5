"""Build the labelled evaluation set: the same items in many markups, with their true fields.

    python benchmarks/evaluation/build_set.py      # writes benchmarks/evaluation/set/

The content is the 2012-09-28 homepage's (titles, dates, summaries as published, bodies from
the replica). Each item page is written in six markups of different eras and habits (the 2012
portal's own, semantic HTML5, a table layout with font tags and <br> paragraphs, div soup with
meaningless class names, a blog theme with the site name in h1 and the post title in h2, and a
press release whose date is only in its "BRUSSELS, 13 September 2012 –" dateline), plus two
where the date is only in JSON-LD or only in a "Published 13 September 2012" line. Each listing is written in four markups (table, HTML5,
flat paragraphs, div soup with image, title and "Read more" links), their sections named by
h2, span, font and strong headings. `labels.json` holds the truth for every page.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from portalscraper.replica.content import Item, Portal, parse_day  # noqa: E402

OUT = HERE / "set"
BRUSSELS = dt.timezone(dt.timedelta(hours=2))  # CEST: every date of the set is in summer time


def e(text: str) -> str:
    return html.escape(text, quote=True)


def _day(text: str) -> dt.date:
    day = parse_day(text)
    assert day is not None, text
    return day


def truth(item: Item) -> dict[str, Any]:
    start, end = days(item)
    return {
        "title": item.title, "date_start": start.isoformat(), "date_end": end.isoformat() if end else None,
        "summary": item.summary, "updated_at": updated(item).replace(tzinfo=BRUSSELS).isoformat(timespec="minutes"),
        "body": "\n\n".join(item.paragraphs),
    }


def days(item: Item) -> tuple[dt.date, dt.date | None]:
    start, _, end = item.date_text.rstrip(" -").partition(" - ")
    return _day(start), _day(end) if end else None


def updated(item: Item) -> dt.datetime:
    return dt.datetime.strptime(item.updated_text.replace(".", ""), "%d %b %Y %H:%M")


# -- item pages ---------------------------------------------------------------------------------

NAV = ('<ul class="menu"><li><a href="/">Home</a></li><li><a href="/news/">News</a></li>'
       '<li><a href="/topics/">Topics</a></li><li><a href="/multimedia/">Multimedia</a></li>'
       '<li><a href="/contact.html">Contact us</a></li></ul>')


def detail_nato2012(item: Item) -> str:
    paras = "\n".join(f"<p>{e(p)}</p>" for p in item.paragraphs)
    return f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
<html lang="en"><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>NATO - News: {e(item.title)}, {e(item.date_text.rstrip(' -'))}</title>
<meta name="description" content="{e(item.summary)}"></head>
<body><div id="wrapper"><div id="header"><a href="/"><img src="/logo.gif" alt="NATO"></a>{NAV}</div>
<div id="content"><h1>{e(item.title)}</h1>
<div class="dateline"><span class="date">{e(item.date_text)}</span> | <span class="updated">Last updated: {e(item.updated_text)}</span></div>
<div class="text">{paras}</div></div>
<div id="footer"><p>© NATO/OTAN</p></div></div></body></html>
"""


def detail_html5(item: Item) -> str:
    start, end = days(item)
    when = (f"{start.day}–{end.day} {end:%B %Y}" if end and end.month == start.month
            else f"{start.day} {start:%B %Y}")
    paras = "\n".join(f"<p>{e(p)}</p>" for p in item.paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(item.title)} | NATO</title>
<meta property="og:title" content="{e(item.title)}"><meta property="og:site_name" content="NATO"></head>
<body><header class="site-header"><a class="logo" href="/">NATO</a><nav>{NAV}</nav></header>
<main><article><header><h1 class="entry-title">{e(item.title)}</h1>
<p class="meta"><time>{when}</time> · <span class="author">Public Diplomacy Division</span></p></header>
<p class="lead"><strong>{e(item.summary)}</strong></p>
<div class="entry-content">{paras}</div>
<footer class="entry-footer"><p>Updated: {updated(item):%d %B %Y, %H:%M}</p>
<p>Share: <a href="https://twitter.com/share">Twitter</a> <a href="https://facebook.com/share">Facebook</a></p></footer>
</article>
<aside><h2>Related</h2><ul><li><a href="/news/1.html">NATO Secretary General visits Mongolia</a></li>
<li><a href="/news/2.html">Allies agree on smart defence projects</a></li></ul></aside></main>
<footer class="site-footer"><p>© North Atlantic Treaty Organization</p></footer></body></html>
"""


def detail_table(item: Item) -> str:
    start, end = days(item)
    when = f"{start:%d.%m.%Y}" + (f" - {end:%d.%m.%Y}" if end else "")
    text = "<br><br>\n".join(e(p) for p in item.paragraphs)
    return f"""<html><head><title>NATO Update</title>
<meta name="description" content="{e(item.summary)}"></head>
<body bgcolor="#ffffff" leftmargin="0" topmargin="0">
<table width="100%" border="0" cellspacing="0" cellpadding="0"><tr>
<td width="160" valign="top" bgcolor="#003366"><a href="/"><font color="#ffffff">Home</font></a><br>
<a href="/news.htm"><font color="#ffffff">News</font></a><br><a href="/docu/"><font color="#ffffff">Documents</font></a><br>
<a href="/search.htm"><font color="#ffffff">Search</font></a></td>
<td valign="top"><table width="100%" cellpadding="6">
<tr><td><font face="Arial" size="4" color="#003366"><b>{e(item.title)}</b></font></td></tr>
<tr><td><font face="Arial" size="1" color="#666666">{when}</font></td></tr>
<tr><td><font face="Arial" size="2">{text}</font></td></tr>
<tr><td><font face="Arial" size="1">Last updated: {updated(item):%d-%b-%Y %H:%M}</font></td></tr>
</table></td></tr></table></body></html>
"""


def detail_divsoup(item: Item) -> str:
    start, end = days(item)
    when = f"{start:%b %d, %Y}" + (f" – {end:%b %d, %Y}" if end else "")
    paras = "\n".join(f'<div class="x9">{e(p)}</div>' for p in item.paragraphs)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{e(item.title)} – NATO</title>
<meta property="og:description" content="{e(item.summary)}">
<style>.k2{{font-size:26px;font-weight:bold}}</style></head>
<body><div class="a1"><div class="a2"><a href="/"><img src="/logo.png" alt=""></a></div>
<div class="a3">{NAV}</div></div>
<div class="b1"><div class="b2"><div class="k2">{e(item.title)}</div>
<div class="k5"><span class="k6">{when}</span></div>
<div class="k7">{paras}</div>
<div class="k8">Modified: {updated(item):%Y-%m-%d %H:%M}</div></div>
<div class="b3"><div class="z1">Most read</div><div class="z2"><a href="/a.html">Afghan forces take the lead</a></div>
<div class="z2"><a href="/b.html">Partners meet in Brussels</a></div></div></div>
<div class="c1">Copyright NATO</div></body></html>
"""


def detail_kicker_date(item: Item) -> str:
    start, _ = days(item)
    when = f"{start:%A} {start.day} {start:%B %Y}"
    paras = "\n".join(f"<p>{e(p)}</p>" for p in item.paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>NATO | News</title></head>
<body><div class="top">{NAV}<form action="/search"><input name="q"><button>Search</button></form></div>
<div class="breadcrumb"><a href="/">Home</a> › <a href="/news/">News</a></div>
<div class="article"><div class="kicker"><span class="category">Defence education</span> <span class="when">{when}</span></div>
<h1 class="headline">{e(item.title)}</h1>
<h2 class="standfirst">{e(item.summary)}</h2>
<div class="article-body">{paras}</div>
<div class="article-foot">Last update: {updated(item):%d.%m.%Y %H:%M}</div></div>
<div class="more"><h3>More news</h3><ul><li><a href="/n1">Chicago Summit declaration</a> 20 May 2012</li>
<li><a href="/n2">Partners and Allies meet in Brussels</a> 18 May 2012</li></ul></div></body></html>
"""


def detail_jsonld_only(item: Item) -> str:
    start, _ = days(item)
    data = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": item.title,
            "datePublished": f"{start.isoformat()}T10:00:00+02:00",
            "dateModified": updated(item).replace(tzinfo=BRUSSELS).isoformat(),
            "publisher": {"@type": "Organization", "name": "NATO"}}
    paras = "\n".join(f"<p>{e(p)}</p>" for p in item.paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(item.title)}</title>
<meta name="description" content="{e(item.summary)}">
<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script></head>
<body><div class="page"><nav>{NAV}</nav><div class="story"><h1>{e(item.title)}</h1>
<div class="story-body">{paras}</div></div></div></body></html>
"""


def detail_published_only(item: Item) -> str:
    start, _ = days(item)
    paras = "\n".join(f"<p>{e(p)}</p>" for p in item.paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(item.title)} - NATO</title></head>
<body><div id="top">{NAV}</div>
<div id="main"><h2>{e(item.title)}</h2>
<p class="intro">{e(item.summary)}</p>
<p class="small">Published {start.day} {start:%B %Y}</p>
<div>{paras}</div>
<p class="small">Last modified on {updated(item):%d %B %Y at %H:%M}</p></div></body></html>
"""


def detail_wordpress(item: Item) -> str:
    start, _ = days(item)
    paras = "\n".join(f"<p>{e(p)}</p>" for p in item.paragraphs)
    comments = ('<div id="comments"><h3>2 comments</h3><ol><li><cite>Anna</cite> <span>September 30, 2012 at '
                '9:14 am</span><p>Thank you for this report on the programme.</p></li></ol></div>')
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="UTF-8"><title>{e(item.title)} | NATO News Blog</title>
<link rel="stylesheet" href="/wp-content/themes/x/style.css"></head>
<body class="single single-post"><div id="page"><header id="masthead"><h1 class="site-title"><a href="/">NATO News Blog</a></h1>
<p class="site-description">News from the Alliance</p><nav id="site-navigation">{NAV}</nav></header>
<div id="content"><div id="primary"><article class="post type-post">
<header class="entry-header"><h2 class="entry-title">{e(item.title)}</h2>
<div class="entry-meta"><span class="posted-on">Posted on <time class="entry-date published">{start:%B} {start.day}, {start:%Y}</time></span>
<span class="byline"> by <a href="/author/pdd/">PDD</a></span></div></header>
<div class="entry-summary"><p>{e(item.summary)}</p></div>
<div class="entry-content">{paras}</div>
<footer class="entry-footer">Posted in <a href="/category/news/">News</a> | Last updated {updated(item):%d/%m/%Y %H:%M}</footer>
</article>{comments}</div>
<div id="secondary"><aside><h2>Recent posts</h2><ul><li><a href="/p/1">Allies meet in Brussels</a> <span>September 27, 2012</span></li></ul></aside></div>
</div></div></body></html>
"""


def detail_press_release(item: Item) -> str:
    start, _ = days(item)
    first, *rest = item.paragraphs
    paras = f"<p><b>BRUSSELS, {start.day} {start:%B %Y}</b> – {e(first)}</p>\n" + "\n".join(f"<p>{e(p)}</p>" for p in rest)
    return f"""<html><head><title>NATO Press Release</title><meta name="description" content="{e(item.summary)}"></head>
<body><div class="navbar"><a href="/">NATO</a> &gt; <a href="/press/">Press releases</a></div>
<center><table width="600"><tr><td>
<p align="center"><font size="2">Press Release (2012) 101</font></p>
<h3 align="center">{e(item.title)}</h3>
{paras}
<hr><p><font size="1">Page updated: Thursday, {updated(item):%d %B %Y %H:%M}</font></p>
</td></tr></table></center></body></html>
"""


# -- markups of real sites' habits (issue categories: inline markup, split bodies, site names,
#    SEO headlines, JSON-LD graphs and broken JSON-LD, meta spellings, dates in many languages) ---

def rich(text: str, n: int) -> str:
    """A paragraph as real sites mark it up: a drop cap on the first, the first words of the others
    linked, tags around words that touch punctuation. The text a browser shows is unchanged."""
    words = e(text).split(" ")
    if n == 0:
        out = f'<span class="initial">{words[0][:1]}</span>{words[0][1:]} ' + " ".join(words[1:])
    else:
        out = f'<a href="/tag/{n}">{" ".join(words[:2])}</a> ' + " ".join(words[2:])
    return out.replace("NATO", '<abbr title="North Atlantic Treaty Organization">NATO</abbr>').replace(
        "Afghanistan", '<a href="/countries/afghanistan">Afghanistan</a>')


def split_body(item: Item, between: list[str]) -> str:
    """The paragraphs in several sibling blocks with boxes between them, as news sites place ads,
    "read also" boxes, image captions and newsletter boxes."""
    paras = [f"<p>{rich(p, n)}</p>" for n, p in enumerate(item.paragraphs)]
    blocks = [paras[:1], paras[1:3], paras[3:]]
    out = []
    for n, block in enumerate(blocks):
        if block:
            out.append('<div class="text-block">' + "\n".join(block) + "</div>")
        if n < len(between):
            out.append(between[n])
    return "\n".join(out)


GERMAN_WEEKDAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
GERMAN_MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
                 "November", "Dezember")


def detail_german_news(item: Item) -> str:
    start, _ = days(item)
    changed = updated(item)
    boxes = ['<div class="ad ad-medium-rectangle"><span class="ad-label">Anzeige</span><div id="ad-slot-2"></div></div>',
             '<div class="inline-teaser"><span>Lesen Sie auch:</span> <a href="/politik/nato-gipfel-100.html">Was '
             'der Gipfel in Chicago beschlossen hat</a></div>']
    return f"""<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>{e(item.title)} | Beispiel-Zeitung</title>
<meta property="og:site_name" content="Beispiel-Zeitung"><meta property="og:title" content="{e(item.title)} | Beispiel-Zeitung">
<meta name="description" content="{e(item.summary)}"></head>
<body><div id="cookie-layer" class="consent-layer"><p>Wir verwenden Cookies und ähnliche Technologien. Mit „Akzeptieren“ stimmen Sie der Verarbeitung Ihrer Daten zu; Einzelheiten in unserer Datenschutzerklärung.</p><button>Akzeptieren</button></div>
<header class="page-header"><a href="/" class="logo">Beispiel-Zeitung</a><nav>{NAV}</nav></header>
<main><article class="story">
<div class="story-meta"><span class="story-date">{GERMAN_WEEKDAYS[start.weekday()]} {start:%d.%m.%y} | 10:00 Uhr</span></div>
<h1 class="story-title">{e(item.title)}</h1>
{split_body(item, boxes)}
<p class="story-updated">Aktualisiert am {changed.day}. {GERMAN_MONTHS[changed.month - 1]} {changed.year}, {changed:%H:%M} Uhr</p>
</article></main>
<footer><p>© Beispiel-Zeitung 2012</p></footer></body></html>
"""


FRENCH_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
FRENCH_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
                 "novembre", "décembre")


def detail_french_news(item: Item) -> str:
    start, _ = days(item)
    changed = updated(item)
    comments = "".join(f'<li class="commentaire"><p class="auteur">Lecteur {n}</p><p>Merci pour cet article très '
                       f"complet sur la coopération entre les Alliés et leurs partenaires, qui mérite d’être lu "
                       f"attentivement par tous ceux que la sécurité intéresse.</p></li>" for n in range(6))
    boxes = ['<figure class="photo"><img src="/img/1.jpg" alt=""><figcaption class="legende">Les délégués au siège de '
             "l’OTAN, à Bruxelles. Photo : OTAN</figcaption></figure>",
             '<div class="newsletter"><p>Recevez chaque matin l’essentiel de l’actualité internationale dans votre '
             "boîte aux lettres électronique.</p><form><input name=email><button>S’inscrire</button></form></div>"]
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{e(item.title)} - Exemple.fr</title>
<meta property="og:title" content="{e(item.title)} - Exemple.fr"><meta name="description" content="{e(item.summary)}"></head>
<body><div class="bandeau"><a href="/">Exemple.fr</a> <a href="/international/">International</a></div>
<div class="contenu"><div class="article"><h1>{e(item.title)}</h1>
<p class="date">Mise en ligne le {FRENCH_WEEKDAYS[start.weekday()]} {start.day} {FRENCH_MONTHS[start.month - 1]} {start.year} à 10h00</p>
{split_body(item, boxes)}
<p class="maj">Mis à jour le {changed.day} {FRENCH_MONTHS[changed.month - 1]} {changed.year} à {changed:%Hh%M}</p></div>
<div id="reactions"><h2>Réactions (6)</h2><ol>{comments}</ol></div></div></body></html>
"""


def detail_jsonld_graph(item: Item) -> str:
    start, _ = days(item)
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebSite", "@id": "https://news.example/#website", "name": "Alliance News", "url": "https://news.example/"},
        {"@type": "Organization", "@id": "https://news.example/#org", "name": "Alliance News Ltd",
         "foundingDate": "1999-01-01", "logo": {"@type": "ImageObject", "url": "https://news.example/logo.png"}},
        {"@type": "WebPage", "@id": "https://news.example/a/#webpage", "name": f"{item.title} – latest news",
         "datePublished": "2011-01-01T00:00:00+00:00"},
        {"@type": ["NewsArticle"], "headline": f"{item.title} – NATO news 2012 (update)", "description": item.summary,
         "datePublished": f"{start.isoformat()}T10:00:00+02:00",
         "dateModified": updated(item).replace(tzinfo=BRUSSELS).isoformat(),
         "author": {"@type": "Person", "name": "Staff"}, "publisher": {"@id": "https://news.example/#org"}},
    ]}
    paras = "\n".join(f"<p>{rich(p, n)}</p>" for n, p in enumerate(item.paragraphs))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(item.title)} – latest news | Alliance News</title>
<script type="application/ld+json">{json.dumps(graph, ensure_ascii=False)}</script></head>
<body><div class="layout"><aside class="rail"><h2>Latest</h2><ul><li><a href="/b">Ministers meet in Brussels</a> <time datetime="2012-09-27T09:00:00+02:00">27 Sep</time></li>
<li><a href="/c">Exercise ends in Norway</a> <time datetime="2012-09-26T09:00:00+02:00">26 Sep</time></li></ul></aside>
<article><h1>{e(item.title)}</h1><div class="rich-text">{paras}</div>
<section class="comments"><h3>Comments</h3><div class="comment"><time datetime="2012-09-29T08:00:00+02:00">29 Sep</time><p>Interesting.</p></div></section></article></div></body></html>
"""


def detail_broken_jsonld(item: Item) -> str:
    start, _ = days(item)
    # As pages publish it: a raw line break and tab inside a string, a trailing comma, and text after the object.
    description = item.summary.replace(" ", "\n\t", 1)
    raw = ('{"@context": "https://schema.org", "@type": "BlogPosting", '
           f'"headline": {json.dumps(item.title, ensure_ascii=False)}, "description": "{description}", '
           f'"datePublished": "{start.isoformat()}T09:30:00+02:00", '
           f'"dateModified": "{updated(item).replace(tzinfo=BRUSSELS).isoformat()}",'
           "}\n;\n/* end of structured data */")
    paras = "\n".join(f"<p>{rich(p, n)}</p>" for n, p in enumerate(item.paragraphs))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(item.title)} | NATO Watch Blog</title>
<meta property="og:site_name" content="NATO Watch Blog"><meta property="og:title" content="{e(item.title)} | NATO Watch Blog">
<meta name="description" content="{e(item.summary)}">
<script type="application/ld+json">{raw}</script></head>
<body><div id="wrap"><div id="header"><h1 id="logo"><a href="/">NATO Watch Blog</a></h1>{NAV}</div>
<div id="main"><div class="post"><h2 class="post-title">{e(item.title)}</h2><div class="post-body">{paras}</div>
<div class="post-footer">Labels: <a href="/l/nato">NATO</a>, <a href="/l/afghanistan">Afghanistan</a></div></div></div>
<div id="sidebar"><h2>Blog archive</h2><ul><li><a href="/2012/09/">September 2012 (12)</a></li></ul></div></div></body></html>
"""


def detail_meta_variants(item: Item) -> str:
    start, _ = days(item)
    # The publication time in UTC, just before midnight of the day before: the page's own date is the day it shows.
    published = dt.datetime.combine(start, dt.time(0, 30), BRUSSELS).astimezone(dt.UTC)
    paras = "\n".join(f"<p>{rich(p, n)}</p>" for n, p in enumerate(item.paragraphs))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>NATO :: {e(item.title)}</title>
<meta property="og:site_name" content="NATO"><meta name="publishdate" content="{published:%Y-%m-%dT%H:%M:%SZ}">
<meta name="DC.date.issued" content="{published:%Y-%m-%dT%H:%M:%SZ}"><meta name="dcterms.modified" content="{updated(item).replace(tzinfo=BRUSSELS).isoformat()}">
<meta name="description" content="{e(item.summary)}"></head>
<body><form id="aspnetForm" method="post" action="./item.aspx"><div id="topnav">{NAV}</div>
<div id="ctl00_main"><div class="crumbs"><a href="/">Home</a> &gt; <a href="/news">News</a></div>
<h1>{e(item.title)}</h1><p class="pubdate">{start.day} {start:%B %Y}</p>
<div id="ctl00_main_body">{paras}</div></div>
<div id="ctl00_footer"><p>Share this page: <a href="/share/fb">Facebook</a> <a href="/share/x">X</a></p></div></form></body></html>
"""


# -- in the habits of real sites the project never wrote (the failure categories of real pages) ---------

def detail_app_shell(item: Item) -> str:
    """An application's shell: the markup holds the headline and a loading placeholder; the date and
    the text are in the page's data island (Next.js' __NEXT_DATA__), the text with line breaks."""
    start, _ = days(item)
    data = {"props": {"pageProps": {"article": {
        "id": item.key, "title": item.title, "publishedAt": f"{start.isoformat()}T10:00:00+02:00",
        "articleBody": "\n".join(item.paragraphs), "section": {"name": "News"}}}}, "page": "/news/[slug]"}
    island = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")  # a script's text ends at "</"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(item.title)} | NATO</title>
<meta property="og:title" content="{e(item.title)}"><meta name="description" content="{e(item.summary)}">
<meta property="article:modified_time" content="{updated(item).replace(tzinfo=BRUSSELS).isoformat()}"></head>
<body><div id="__next"><header class="Header_bar__x1"><a href="/" class="Header_logo__9f">NATO</a></header>
<main class="Main_main__3k"><h1 class="Article_title__7Qz">{e(item.title)}</h1>
<div class="Skeleton_lines__2b" aria-busy="true">Loading…</div></main></div>
<script id="__NEXT_DATA__" type="application/json">{island}</script></body></html>
"""


def detail_amp_byline(item: Item) -> str:
    """An AMP page without JSON-LD: a menu in amp-sidebar, paragraphs in custom elements, the date
    only in a byline with a zone abbreviation, a photo credit and an audio promotion before the lead,
    whose dateline is the article's."""
    start, _ = days(item)
    first, *rest = item.paragraphs
    paras = "\n".join(f"<story-paragraph>{e(p)}</story-paragraph>" for p in rest)
    return f"""<!DOCTYPE html>
<html amp lang="en"><head><meta charset="utf-8"><title>{e(item.title)} - NATO News</title>
<link rel="canonical" href="https://www.nato.example{url_of(item)}"><meta name="description" content="{e(item.summary)}">
</head><body><amp-sidebar id="menu" layout="nodisplay" side="left">{NAV}</amp-sidebar>
<header class="bar"><button on="tap:menu.toggle">Menu</button><a href="/">NATO News</a></header>
<article><h1 class="headline">{e(item.title)}</h1>
<div class="byline">By Public Diplomacy Division | {start.day} {start:%b}. {start.year} 10:00 CEST</div>
<div class="lead-media"><amp-img src="/img/{item.key.replace('/', '-')}.jpg" width="800" height="450" layout="responsive"></amp-img>
<span>Allied ministers at NATO Headquarters. (Photo: NATO)</span></div>
<p><em>Listen to this article</em></p>
<article-body><story-paragraph>BRUSSELS (NATO) - {e(first)}</story-paragraph>
{paras}</article-body>
<p class="updated">Updated {updated(item):%d %b. %Y %H:%M} CEST</p></article></body></html>
"""


def detail_utc_and_offset(item: Item) -> str:
    """The publication written twice: in UTC in the JSON-LD (late on the day before, as UTC reads
    00:30 in Brussels) and in the publisher's own offset in a meta tag; no date on the page."""
    start, _ = days(item)
    local = dt.datetime.combine(start, dt.time(0, 30), BRUSSELS)
    data = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": item.title,
            "dateCreated": local.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "dateModified": updated(item).replace(tzinfo=BRUSSELS).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    paras = "\n".join(f"<p>{rich(p, n)}</p>" for n, p in enumerate(item.paragraphs))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(item.title)} | NATO</title>
<meta property="article:published_time" content="{local.isoformat()}"><meta name="description" content="{e(item.summary)}">
<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script></head>
<body><nav>{NAV}</nav><div class="article"><h1>{e(item.title)}</h1><div class="article-body">{paras}</div></div></body></html>
"""


def detail_kicker_h1(item: Item) -> str:
    """A kicker printed above the headline in the same h1, and the metadata spelling them "Kicker:
    Headline"; an SEO title that differs; the site's name after a separator of another script."""
    start, _ = days(item)
    paras = "\n".join(f"<p>{rich(p, n)}</p>" for n, p in enumerate(item.paragraphs))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>NATO news: {e(item.title)} | Latest Alliance news ㅣNATO</title>
<meta property="og:title" content="{e(KICKER)}: {e(item.title)}"><meta property="og:site_name" content="NATO">
<meta name="description" content="{e(item.summary)}">
<meta property="article:published_time" content="{start.isoformat()}T11:00:00+02:00">
<meta property="article:modified_time" content="{updated(item).replace(tzinfo=BRUSSELS).isoformat()}"></head>
<body><nav>{NAV}</nav><main><h1 class="article-title"><span class="article-title__kicker">{e(KICKER)}</span>
<span class="article-title__text">{e(item.title)}</span></h1><div class="rich-text">{paras}</div></main></body></html>
"""


KICKER = "Alliance"


def detail_url_date(item: Item) -> str:
    """A page that says when it was published only in its address (`/2012/09/13/slug/`)."""
    paras = "\n".join(f"<p>{rich(p, n)}</p>" for n, p in enumerate(item.paragraphs))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(item.title)} – NATO Watch</title>
<meta property="og:site_name" content="NATO Watch"><meta name="description" content="{e(item.summary)}"></head>
<body><div class="site"><header><a href="/" class="brand">NATO Watch</a>{NAV}</header>
<div class="content"><h2 class="entry-title">{e(item.title)}</h2><div class="entry">{paras}</div>
<p class="modified">Last modified: {updated(item):%d %B %Y %H:%M}</p></div></div></body></html>
"""


def url_dated(item: Item) -> str:
    start, _ = days(item)
    return f"https://watch.example/{start:%Y/%m/%d}/{item.key.replace('/', '-').lower()}/"


LANGUAGE_DATES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    # lang, "published" label, "updated" label, month names
    ("es", "Publicado el", "Actualizado el", ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                                              "septiembre", "octubre", "noviembre", "diciembre")),
    ("it", "Pubblicato il", "Aggiornato il", ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio",
                                              "agosto", "settembre", "ottobre", "novembre", "dicembre")),
    ("nl", "Gepubliceerd op", "Bijgewerkt op", ("januari", "februari", "maart", "april", "mei", "juni", "juli",
                                                "augustus", "september", "oktober", "november", "december")),
    ("pt", "Publicado em", "Atualizado em", ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho",
                                             "agosto", "setembro", "outubro", "novembro", "dezembro")),
    ("tr", "Yayınlanma", "Güncelleme", ("Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos",
                                        "Eylül", "Ekim", "Kasım", "Aralık")),
    ("pl", "Opublikowano", "Zaktualizowano", ("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca",
                                              "sierpnia", "września", "października", "listopada", "grudnia")),
    ("ru", "Опубликовано", "Обновлено", ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
                                         "сентября", "октября", "ноября", "декабря")),
    ("sv", "Publicerad", "Uppdaterad", ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
                                        "september", "oktober", "november", "december")),
)


def detail_multilingual(item: Item, n: int) -> str:
    lang, published_label, updated_label, months = LANGUAGE_DATES[n % len(LANGUAGE_DATES)]
    start, _ = days(item)
    changed = updated(item)
    joiner = " de " if lang in ("es", "pt") else " "
    published = f"{start.day}{joiner}{months[start.month - 1]}{joiner}{start.year}"
    paras = "\n".join(f"<p>{e(p)}</p>" for p in item.paragraphs)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{e(item.title)}</title>
<meta name="description" content="{e(item.summary)}"></head>
<body><div class="top">{NAV}</div><div class="nota">
<h1 class="titulo">{e(item.title)}</h1>
<div class="autor">Redacción <span class="sep">·</span> <span>{published_label}: {published}</span></div>
<div class="cuerpo">{paras}</div>
<p class="act">{updated_label}: {changed:%d.%m.%Y %H:%M}</p></div></body></html>
"""


DETAIL_MARKUPS = {
    "nato2012": detail_nato2012, "html5": detail_html5, "table": detail_table, "divsoup": detail_divsoup,
    "jsonld-only-date": detail_jsonld_only, "published-only-date": detail_published_only,
    "wordpress": detail_wordpress, "press-release": detail_press_release, "kicker-date": detail_kicker_date,
    "german-news": detail_german_news, "french-news": detail_french_news, "jsonld-graph": detail_jsonld_graph,
    "broken-jsonld": detail_broken_jsonld, "meta-variants": detail_meta_variants,
    "app-shell": detail_app_shell, "amp-byline": detail_amp_byline, "utc-and-offset": detail_utc_and_offset,
    "kicker-h1": detail_kicker_h1, "url-date": detail_url_date,
}
# Markups that also take the item's number (a language per item).
NUMBERED_MARKUPS = {"multilingual": detail_multilingual}


def detail_truth(markup: str, item: Item) -> dict[str, Any]:
    label = truth(item)
    if markup == "jsonld-only-date":
        label["date_end"] = None  # JSON-LD has one datePublished: a range's end is not on the page
    if markup in ("jsonld-graph", "broken-jsonld", "meta-variants", "german-news", "french-news", "multilingual"):
        label["date_end"] = None  # one publication date on the page
    if markup in ("published-only-date", "wordpress", "press-release", "kicker-date"):
        label["date_end"] = None  # "Published 13 September 2012": the first day only
    if markup in ("app-shell", "amp-byline", "utc-and-offset", "kicker-h1", "url-date"):
        label["date_end"] = None  # one publication date on the page (or in its address)
    if markup == "amp-byline":
        label["body"] = "BRUSSELS (NATO) - " + label["body"]  # the dateline is the lead's
    if markup == "kicker-h1":
        label["title"] = f"{KICKER}: {item.title}"  # as the publisher's metadata joins them
    if markup == "url-date":
        label["page_url"] = url_dated(item)
    return label


# -- listing pages ------------------------------------------------------------------------------

def listing_table(sections: list[tuple[str, list[Item]]]) -> str:
    out = []
    for heading, items in sections:
        out.append(f'<tr><td colspan="2"><font size="3" color="#003366"><b><font>{e(heading)}</font></b></font></td></tr>')
        for item in items:
            out.append(f'<tr><td width="40%"><a href="{url_of(item)}">'
                       f"{e(item.title)}</a><br><font size=1>{e(item.listing_date)}</font></td>"
                       f"<td>{e(item.summary)}</td></tr>")
    return ("<html><head><title>NATO News</title></head><body><table width='100%'><tr><td>" + NAV
            + "</td></tr></table><table cellpadding='4'>" + "\n".join(out) + "</table></body></html>")


def listing_html5(sections: list[tuple[str, list[Item]]]) -> str:
    out = []
    for heading, items in sections:
        out.append(f"<section><h2>{e(heading)}</h2>")
        for item in items:
            start, end = days(item)
            when = f"{start.day} {start:%B %Y}" + (f" – {end.day} {end:%B %Y}" if end else "")
            out.append(f'<article class="teaser"><h3><a href="{url_of(item)}">{e(item.title)}</a></h3>'
                       f"<time>{when}</time><p>{e(item.summary)}</p></article>")
        out.append("</section>")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>News</title></head><body>"
            f"<header><nav>{NAV}</nav></header><main>" + "\n".join(out) + "</main><footer>© NATO</footer></body></html>")


def listing_flat(sections: list[tuple[str, list[Item]]]) -> str:
    out = []
    for heading, items in sections:
        out.append(f'<span class="sectiontitle">{e(heading)}</span>')
        for item in items:
            start, end = days(item)
            when = f"{start:%d/%m/%Y}" + (f" - {end:%d/%m/%Y}" if end else "")
            out.append(f'<p><a href="{url_of(item)}"><b>{e(item.title)}</b></a> <span>{when}</span><br>'
                       f"{e(item.summary)}</p>")
    return ("<html><head><title>NATO</title></head><body><div id='nav'>" + NAV + "</div><div id='col'>"
            + "\n".join(out) + "</div></body></html>")


def listing_divsoup(sections: list[tuple[str, list[Item]]]) -> str:
    out = []
    for heading, items in sections:
        out.append(f'<div class="q1"><strong>{e(heading)}</strong></div><div class="q2">')
        for n, item in enumerate(items):
            start, end = days(item)
            when = f"{start:%b %d, %Y}" + (f" - {end:%b %d, %Y}" if end else "")
            out.append(f'<div class="w4"><div class="w5"><a href="{url_of(item)}"><img src="/img/{n}.jpg" '
                       f'alt=""></a></div><div class="w6"><div class="w7"><a href="{url_of(item)}">{e(item.title)}</a>'
                       f'</div><div class="w8">{when}</div><div class="w9">{e(item.summary)}</div>'
                       f'<a class="w0" href="{url_of(item)}">Read more »</a></div></div>')
        out.append("</div>")
    return ("<!DOCTYPE html><html><head><title>NATO</title></head><body><div class='h1'>" + NAV + "</div>"
            + "\n".join(out) + "<div class='f1'><a href='/about.html'>About</a> | <a href='/faq.html'>FAQ</a></div>"
            "</body></html>")


def listing_flat_headings(sections: list[tuple[str, list[Item]]]) -> str:
    out = []
    for heading, items in sections:
        out.append(f"<h2>{e(heading)}</h2>")
        for item in items:
            start, end = days(item)
            when = f"{start:%d %B %Y}" + (f" to {end:%d %B %Y}" if end else "")
            out.append(f'<h3><a href="{url_of(item)}">{e(item.title)}</a></h3>\n<p class="d">{when}</p>\n<p>{e(item.summary)}</p>')
    return ("<html><head><title>News</title></head><body><div id='menu'>" + NAV + "</div><div id='main'>"
            + "\n".join(out) + "<p class='pager'><a href='?page=2'>Older news</a></p></div></body></html>")


def listing_two_row_table(sections: list[tuple[str, list[Item]]]) -> str:
    out = []
    for heading, items in sections:
        out.append(f'<tr><td colspan="2" class="hdr"><b>{e(heading)}</b></td></tr>')
        for item in items:
            start, end = days(item)
            when = f"{start:%d.%m.%Y}" + (f" - {end:%d.%m.%Y}" if end else "")
            out.append(f'<tr><td class="c1">{when}</td><td class="c2"><a href="{url_of(item)}">{e(item.title)}</a></td></tr>'
                       f'<tr><td></td><td class="c3">{e(item.summary)}</td></tr>')
    return ("<html><head><title>Press</title></head><body><table>" + "\n".join(out) + "</table></body></html>")


def listing_posted_on(sections: list[tuple[str, list[Item]]]) -> str:
    out = []
    for heading, items in sections:
        out.append(f'<div class="block"><font size="3" color="#036"><b>{e(heading)}</b></font><ul class="posts">')
        for item in items:
            start, end = days(item)
            when = f"{start:%B} {start.day}, {start:%Y}" + (f" - {end:%B} {end.day}, {end:%Y}" if end else "")
            out.append(f'<li class="post"><a class="t" href="{url_of(item)}">{e(item.title)}</a>'
                       f'<div class="m">Posted by the Press Office on {when}</div>'
                       f'<div class="x">{e(item.summary)}</div>'
                       f'<a href="{url_of(item)}" class="more">Continue reading →</a></li>')
        out.append("</ul></div>")
    return ("<!DOCTYPE html><html><head><title>Blog</title></head><body><nav>" + NAV + "</nav>"
            + "\n".join(out) + "</body></html>")


def listing_features_table(sections: list[tuple[str, list[Item]]]) -> str:
    """A features strip of linked h3 titles above table blocks whose headers are `font` text in a
    header cell: the nearer block header names a block's items, not the last feature's title."""
    # Features link to multimedia pages, which are not items: their linked h3s are titles, never sections.
    strip = "".join(f'<div class="feature"><h3><a href="/multimedia/feature-{n}.html">{e(f.title)}</a></h3>'
                    f"<p>{e(FEATURE_TEASERS[n])}</p></div>" for n, f in enumerate(FEATURES))
    out = []
    for heading, items in sections:
        out.append(f'<table class="block" width="100%"><tr><td class="hdr" colspan="2"><font size="3" color="#003366">'
                   f"<b>{e(heading)}</b></font></td></tr>")
        for item in items:
            out.append(f'<tr><td width="30%" valign="top"><font size="1">{e(item.listing_date)}</font></td>'
                       f'<td><a href="{url_of(item)}"><b>{e(item.title)}</b></a><br>{e(item.summary)}</td></tr>')
        out.append("</table>")
    return ("<html><head><title>NATO</title></head><body><div id='nav'>" + NAV + f"</div><div id='features'>{strip}</div>"
            + "\n".join(out) + "</body></html>")


def listing_html5_hub(sections: list[tuple[str, list[Item]]]) -> str:
    """HTML5 blocks where one item links to a hub page (an edition's index) with an h3 title, a
    date and a summary: it is an item of its block, and its h3 never names the items after it."""
    out = []
    for heading, items in sections:
        out.append(f'<section class="block"><header><span class="block-title">{e(heading)}</span></header>')
        for item in items:
            start, _ = days(item)
            out.append(f'<article><h3><a href="{listing_url(item)}">{e(item.title)}</a></h3>'
                       f'<time datetime="{start.isoformat()}">{start.day} {start:%B %Y}</time><p>{e(item.summary)}</p>'
                       "</article>")
        out.append("</section>")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>NATO</title></head><body>"
            f"<header><nav>{NAV}</nav></header><main><h2>Latest from NATO</h2>" + "\n".join(out) + "</main></body></html>")


def listing_url(item: Item) -> str:
    """Where a listing links an item: the edition's index for an edition's own entry (a hub)."""
    if item.kind == "review" and item.title == EDITION_TITLES.get(item.edition):
        return f"/docu/review/2012/{item.edition}/EN/index.htm"
    return url_of(item)


FEATURES: list[Item] = []
FEATURE_TEASERS = ("Cooperating on maintaining international peace and security",
                   "Thousands of visitors came to see the Alliance’s aircraft and soldiers",
                   "A brief interactive introduction to the Alliance’s role and work")
EDITION_TITLES: dict[str, str] = {}


def url_of(item: Item) -> str:
    return "/cps/en/natolive/" + item.key.replace("/", "-").lower() + ".htm"


LISTING_MARKUPS = {"table": listing_table, "html5": listing_html5, "flat-paragraphs": listing_flat,
                   "divsoup": listing_divsoup, "flat-headings": listing_flat_headings,
                   "two-row-table": listing_two_row_table, "posted-on": listing_posted_on,
                   "features-table": listing_features_table, "html5-hub": listing_html5_hub}


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder to write (default {OUT})")
    out = parser.parse_args(argv).out
    portal = Portal(items=5)
    features, news, review = portal.homepage()
    FEATURES[:] = features
    EDITION_TITLES.update(portal.editions)
    items = [*news, *review[:3]]
    labels: dict[str, Any] = {"detail": {}, "listing": {}}
    renderers = {**{m: (lambda item, n, r=r: r(item)) for m, r in DETAIL_MARKUPS.items()}, **NUMBERED_MARKUPS}
    for markup, render in renderers.items():
        folder = out / "detail" / markup
        folder.mkdir(parents=True, exist_ok=True)
        for n, item in enumerate(items, 1):
            name = f"detail/{markup}/{n}.html"
            (out / name).write_text(render(item, n), encoding="utf-8")
            labels["detail"][name] = detail_truth(markup, item)
    sections = [("People & Activities", news), ("NATO Review", review[:3])]
    for markup, render_listing in LISTING_MARKUPS.items():
        folder = out / "listing"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"listing/{markup}.html"
        (out / name).write_text(render_listing(sections), encoding="utf-8")
        entries = []
        for heading, group in sections:
            for item in group:
                label = truth(item)
                url = listing_url(item) if markup == "html5-hub" else url_of(item)
                end = None if markup == "html5-hub" else label["date_end"]  # one date per entry there
                entries.append({"url": url, "title": item.title, "date_start": label["date_start"], "date_end": end,
                                "summary": item.summary, "section": heading})
        labels["listing"][name] = entries
    (out / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(labels['detail'])} item pages and {len(labels['listing'])} listing pages in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
