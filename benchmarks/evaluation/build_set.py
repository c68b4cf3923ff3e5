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


DETAIL_MARKUPS = {
    "nato2012": detail_nato2012, "html5": detail_html5, "table": detail_table, "divsoup": detail_divsoup,
    "jsonld-only-date": detail_jsonld_only, "published-only-date": detail_published_only,
    "wordpress": detail_wordpress, "press-release": detail_press_release, "kicker-date": detail_kicker_date,
}


def detail_truth(markup: str, item: Item) -> dict[str, Any]:
    label = truth(item)
    if markup == "jsonld-only-date":
        label["date_end"] = None  # JSON-LD has one datePublished: a range's end is not on the page
    if markup in ("published-only-date", "wordpress", "press-release", "kicker-date"):
        label["date_end"] = None  # "Published 13 September 2012": the first day only
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


def url_of(item: Item) -> str:
    return "/cps/en/natolive/" + item.key.replace("/", "-").lower() + ".htm"


LISTING_MARKUPS = {"table": listing_table, "html5": listing_html5, "flat-paragraphs": listing_flat,
                   "divsoup": listing_divsoup, "flat-headings": listing_flat_headings,
                   "two-row-table": listing_two_row_table, "posted-on": listing_posted_on}


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder to write (default {OUT})")
    out = parser.parse_args(argv).out
    portal = Portal(items=5)
    _, news, review = portal.homepage()
    items = [*news, *review[:3]]
    labels: dict[str, Any] = {"detail": {}, "listing": {}}
    for markup, render in DETAIL_MARKUPS.items():
        folder = out / "detail" / markup
        folder.mkdir(parents=True, exist_ok=True)
        for n, item in enumerate(items, 1):
            name = f"detail/{markup}/{n}.html"
            (out / name).write_text(render(item), encoding="utf-8")
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
                entries.append({"url": url_of(item), "title": item.title, "date_start": label["date_start"], "date_end": label["date_end"],
                                "summary": item.summary, "section": heading})
        labels["listing"][name] = entries
    (out / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(labels['detail'])} item pages and {len(labels['listing'])} listing pages in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
