"""HTML, RSS, sitemap and robots.txt of the replica portal, rendered from its content."""

from __future__ import annotations

import datetime as dt
import email.utils
from html import escape
from urllib.parse import quote

from portalscraper.replica.content import SEED_DATE, Item, Portal, format_date, parse_day

NEWS_PER_PAGE = 25
SITEMAP_PAGE_SIZE = 10_000
# A session segment as the real portal put in some of its links; the server ignores it.
SESSION_SEGMENT = "SID-D9080E0A-D29D5220"

LABELS = {
    "en": {"updated": "Last updated:", "entries": "Entries", "next": "Next", "previous": "Previous",
           "news": "News", "home": "Home", "other": ("fr", "Français")},
    "fr": {"updated": "Mis à jour le:", "entries": "Entrées", "next": "Suivant", "previous": "Précédent",
           "news": "Actualités", "home": "Accueil", "other": ("en", "English")},
}
DOCTYPE = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
)


def e(text: str) -> str:
    return escape(text, quote=True)


def _page(lang: str, title: str, body: str, *, head: str = "") -> str:
    labels = LABELS[lang]
    other, other_name = labels["other"]
    return (
        f'{DOCTYPE}<html xmlns="http://www.w3.org/1999/xhtml" lang="{lang}" xml:lang="{lang}">\n<head>\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />\n'
        f"<title>{e(title)}</title>\n"
        '<link rel="alternate" type="application/rss+xml" title="NATO News" '
        f'href="/cps/{lang}/natolive/news_rss.xml" />\n'
        f"{head}</head>\n<body>\n<div id=\"wrapper\">\n{body}\n"
        '<div id="footer"><ul class="footer-links">'
        f'<li><a href="/cps/{lang}/natolive/index.htm">{labels["home"]}</a></li>'
        f'<li><a href="/cps/{lang}/natolive/news.htm">{labels["news"]}</a></li>'
        f'<li><a href="/cps/{other}/natolive/index.htm">{other_name}</a></li>'
        '<li><a href="/sitemap.xml">Sitemap</a></li></ul></div>\n'
        "</div>\n</body>\n</html>\n"
    )


def _link(item: Item, lang: str, variant: int = 0) -> str:
    """The item's path, as the real homepage wrote it: some with a session id or a locale."""
    path = item.path(lang)
    if item.kind == "news" and variant == 2:
        return path.replace(f"/cps/{lang}/", f"/cps/{lang}/{SESSION_SEGMENT}/")
    if item.kind == "news" and variant == 3:
        return f"{path}?selectedLocale={lang}"
    return path


def homepage(portal: Portal, lang: str) -> str:
    features, news, review = portal.homepage()
    hidden = portal.hidden_blocks
    features, news, review = [[] if b in hidden else i for b, i in
                              zip(("features", "people-activities", "nato-review"), (features, news, review),
                                  strict=True)]
    parts = ['<div id="features">']
    for item in features:
        it = item.localized(lang)
        parts.append(
            f'<div class="feature"><h3><a href="{item.path(lang)}">{e(it.title)}</a></h3>\n'
            f'<p class="teaser">{e(it.summary)}</p></div>'
        )
    parts.append("</div>")
    heading = portal.news_heading_fr if lang == "fr" else portal.news_heading
    parts.append(f'<div class="block" id="people-activities">\n<h2>{e(heading)}</h2>')
    for n, item in enumerate(news):
        it = item.localized(lang)
        parts.append(
            f'<div class="item"><a class="title" href="{_link(item, lang, n)}">{e(it.title)}</a> '
            f'<span class="date">{e(item.listing_date)}</span> <p class="summary">{e(it.summary)}</p></div>'
        )
    parts.append("</div>")
    if lang == "en":
        blog = portal.blog
        parts.append(
            f'<div class="block" id="sg-blog">\n<h2>{e(blog["heading"])}</h2>'
            f'<p><a href="/cps/en/natolive/sg_blog.htm">{e(blog["teaser"])}</a></p>'
            f'<p class="follow">{e(blog["follow"])}</p>'
            f'<p class="goto"><a href="/cps/en/natolive/sg_blog.htm">{e(blog["go"])}</a></p></div>'
        )
    parts.append(f'<div class="block" id="nato-review">\n<h2>{e(portal.review_heading)}</h2>')
    for item in review:
        parts.append(
            f'<div class="item"><a class="title" href="{item.path()}">{e(item.title)}</a> '
            f'<span class="date">{e(item.listing_date)}</span> <p class="summary">{e(item.summary)}</p></div>'
        )
    parts.append("</div>")
    return _page(lang, portal.page_title, "\n".join(parts))


def _body(item: Item) -> str:
    out = []
    for para in item.paragraphs:
        if para.startswith("## "):
            out.append(f"<h3>{e(para[3:])}</h3>")
        else:
            out.append(f"<p>{e(para)}</p>")
    return "\n".join(out)


def detail(item: Item, lang: str, assets: bool = False, related: list[Item] | None = None) -> str:
    """An item's page; with `related` (the rail of a news site's page), grown to a news site's size
    (see `news_sized`)."""
    it = item.localized(lang)
    labels = LABELS[lang]
    date = f'<span class="date">{e(it.date_text)}</span> | ' if it.date_text else ""
    heading = f"<h1>{e(it.title)}</h1>\n" if it.title else ""
    attachments = (f'<p class="attachments"><a href="/docu/pdf/{item.key}.pdf">Full text (PDF)</a> '
                   f'<img src="/images/{item.key}.jpg" alt="" /></p>\n') if assets else ""
    body = (
        f'<div id="content" class="{item.kind}">\n{heading}'
        f'<div class="dateline">{date}<span class="updated">{labels["updated"]} {e(it.updated_text)}</span></div>\n'
        f'<div class="text">\n{_body(it)}\n</div>\n{attachments}</div>'
    )
    desc = f'<meta name="description" content="{e(it.summary)}" />\n' if it.summary else ""
    title = f"NATO - {item.kind.title()}: {it.title}" if it.title else "NATO - North Atlantic Treaty Organization"
    if related is not None:
        return news_sized(_page(lang, title, body, head=desc), item, related, lang)
    return _page(lang, title, body, head=desc)


# What a news site's article page carries around its article, as the replica's --news-sized-pages
# serves it: about 60 KB in all, of which the article is a few.
_SECTIONS = ("World", "Europe", "Americas", "Africa", "Asia", "Middle East", "Politics", "Defence", "Security",
             "Economy", "Energy", "Climate", "Technology", "Cyber", "Science", "Health", "Opinion", "Analysis",
             "Interviews", "Video", "Photos", "Podcasts", "Data", "Archive", "About")
_TOPICS = ("Latest", "Explainers", "Live", "Features", "Briefings", "Partners", "Operations", "Summits",
           "Budgets", "Exercises", "Training", "Reports")


def news_sized(page: str, item: Item, related: list[Item], lang: str) -> str:
    """`page` grown to the size and shape of a news site's article page: analytics and
    configuration scripts, styles and social meta tags in the head; a cookie notice, a mega menu and
    a share bar before the article; a rail of related stories and a long footer after it."""
    it = item.localized(lang)
    url = f"https://www.nato.int{item.path(lang)}"
    metas = "".join(f'<meta property="og:{k}" content="{e(v)}" />\n' for k, v in (
        ("type", "article"), ("site_name", "NATO"), ("title", it.title), ("description", it.summary),
        ("url", url), ("image", f"https://www.nato.int/images/{item.key}.jpg"), ("locale", lang)))
    metas += "".join(f'<meta name="twitter:{k}" content="{e(v)}" />\n' for k, v in (
        ("card", "summary_large_image"), ("site", "@NATO"), ("title", it.title), ("description", it.summary)))
    config = ",".join(f'"flag_{k}":{{"enabled":{str(k % 3 == 0).lower()},"variant":"v{k % 7}","weight":{k % 11}}}'
                      for k in range(120))
    scripts = (f"<script>window.__SITE_CONFIG__={{{config}}};</script>\n"
               "<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'start':new Date().getTime(),event:'load'});"
               "var f=d.getElementsByTagName(s)[0],j=d.createElement(s);j.async=true;j.src='/analytics.js?id='+i;"
               "f.parentNode.insertBefore(j,f);})(window,document,'script','dataLayer','X-0000');</script>\n"
               + "".join(f"<script>window.slots=window.slots||[];window.slots.push({{id:'slot-{k}',"
                         f"sizes:[[300,250],[728,90]],targeting:{{section:'news',position:{k}}}}});</script>\n"
                         for k in range(40)))
    styles = "<style>" + "".join(f".c{k}{{margin:{k % 5}px;padding:{k % 4}px;color:#{k:03x}}}" for k in range(250)) \
        + "</style>\n"
    cookie = ('<div class="cookie-banner" role="dialog"><p>We use cookies to measure how this site is used and '
              'to improve it. You can accept or refuse them.</p><button>Accept</button><button>Refuse</button></div>\n')
    menu = '<header class="site-header"><nav class="mega-menu"><ul>' + "".join(
        f'<li class="menu-item"><a href="/cps/{lang}/natolive/index.htm#{k}">{section}</a><ul class="sub-menu">'
        + "".join(f'<li><a href="/cps/{lang}/natolive/index.htm#{k}-{j}">{section}: {topic}</a></li>'
                  for j, topic in enumerate(_TOPICS)) + "</ul></li>"
        for k, section in enumerate(_SECTIONS)) + "</ul></nav></header>\n"
    share = ('<div class="share-bar">' + "".join(
        f'<a class="share-{name.lower()}" href="#share-{name.lower()}">Share on {name}</a>'
        for name in ("Facebook", "X", "LinkedIn", "WhatsApp", "Email")) + "</div>\n")
    rail = '<aside class="related"><h2>Related stories</h2>' + "".join(
        f'<article class="teaser"><a href="{r.path(lang)}"><img src="/images/{r.key}.jpg" alt="" />'
        f'<h3>{e(r.localized(lang).title)}</h3></a><p>{e(r.localized(lang).summary)}</p>'
        f'<time datetime="{r.day.isoformat() if r.day else ""}">{e(r.listing_date)}</time></article>'
        for r in related if r.key != item.key) + "</aside>\n"
    footer = '<footer class="site-footer">' + "".join(
        f'<section><h4>{section}</h4><ul>' + "".join(
            f'<li><a href="/cps/{lang}/natolive/index.htm#f{k}-{j}">{topic}</a></li>'
            for j, topic in enumerate(_TOPICS))
        + "</ul></section>" for k, section in enumerate(_SECTIONS[:8])) + (
        '<p class="legal">Copyright NATO. All rights reserved. Terms of use, privacy notice, accessibility.</p>'
        "</footer>\n")
    head = metas + styles + scripts
    return (page.replace("</head>", head + "</head>", 1)
            .replace('<div id="wrapper">\n', f'<div id="wrapper">\n{cookie}{menu}{share}', 1)
            .replace('<div id="footer">', f"{rail}{footer}" + '<div id="footer">', 1))


def review_article(portal: Portal, item: Item) -> str:
    edition_title = portal.editions.get(item.edition, item.edition)
    body = (
        '<div id="review">\n<p class="tagline">NATO Review</p>\n'
        f'<div class="editionbox"><h4>This month in NATO Review</h4>'
        f'<a href="/docu/review/2012/{item.edition}/EN/index.htm">{e(edition_title)}</a></div>\n'
        f"<h1>{e(item.title)}</h1>\n"
        f'<p class="date">{e(item.date_text)}</p>\n'
        f'<div class="text">\n{_body(item)}\n</div>\n'
        f'<p class="updated">Last updated: {e(item.updated_text)}</p>\n</div>'
    )
    return _page("en", f"NATO Review - {item.title}", body)


def edition(portal: Portal, name: str, items: list[Item], intro: Item | None = None) -> str:
    """An edition's index: its intro (title, date, text, as the homepage lists it) when it has one,
    then its articles."""
    title = portal.editions.get(items[0].edition if items else name, name)
    rows = [
        f'<li><a href="{i.path()}">{e(i.title)}</a> <span class="date">{e(i.listing_date)}</span>'
        f'<p>{e(i.summary)}</p></li>'
        for i in items
    ]
    head = f"<h1>{e(title)}</h1>\n"
    if intro is not None:
        head = (f"<h1>{e(intro.title)}</h1>\n<p class=\"date\">{e(intro.date_text)}</p>\n"
                f'<section class="text">\n{_body(intro)}\n</section>\n'
                f'<p class="updated">Last updated: {e(intro.updated_text)}</p>\n<h3>In this edition</h3>\n')
    body = (
        f'<div id="review">\n<p class="tagline">NATO Review</p>\n{head}'
        f'<ul class="edition">\n' + "\n".join(rows) + "\n</ul>\n</div>"
    )
    return _page("en", f"NATO Review - {title}", body)


def news_archive(portal: Portal, lang: str, page: int) -> str | None:
    total = portal.news_count()
    pages = max(1, -(-total // NEWS_PER_PAGE))
    if page < 1 or page > pages:
        return None
    labels = LABELS[lang]
    rows = []
    items = portal.news_page(page, NEWS_PER_PAGE)
    if portal.quirks and page > 1:  # the same item on two pages: the last of the page before, again
        items = portal.news_page(page - 1, NEWS_PER_PAGE)[-1:] + items
    if portal.quirks and page == 1:  # a document listed like an item, and an image
        rows.append('<tr><td class="date">28 Sep. 2012</td><td><a href="/docu/pdf/2012-annual-report.pdf">'
                    'Secretary General\'s Annual Report 2012 (PDF)</a><br />The full report, as a PDF file.</td></tr>')
        rows.append('<tr><td class="date">28 Sep. 2012</td><td><a href="/images/2012-summit.jpg">'
                    'Chicago Summit family photo</a><br />High-resolution photograph.</td></tr>')
    for item in items:
        it = item.localized(lang)
        rows.append(
            f'<tr><td class="date">{e(_archive_date(item))}</td>'
            f'<td><a href="{item.path(lang)}">{e(it.title)}</a><br />{e(it.summary)}</td></tr>'
        )
    paging = []
    base = f"/cps/{lang}/natolive/news.htm"
    if page > 1:
        paging.append(f'<a class="prev" href="{base}?page={page - 1}">{labels["previous"]}</a>')
    if page < pages:
        paging.append(f'<a class="next" href="{base}?page={page + 1}">{labels["next"]}</a>')
    body = (
        f'<div id="content">\n<h1>{labels["news"]}</h1>\n<p class="entries">{total} {labels["entries"]}</p>\n'
        '<table class="listing">\n' + "\n".join(rows) + "\n</table>\n"
        f'<div class="paging">{" ".join(paging)}</div>\n</div>'
    )
    return _page(lang, f"NATO - {labels['news']}", body)


def _archive_date(item: Item) -> str:
    """Archive listings show the first day, not zero-padded (`5 Feb. 2012`)."""
    if not item.day or parse_day(item.listing_date) is None:  # a date that cannot be: as published
        return item.listing_date
    return format_date(item.day, pad=False)


def blog_page() -> str:
    body = (
        '<div id="content">\n<h1>Secretary General\'s Blog</h1>\n'
        "<p>The latest video messages from the NATO Secretary General.</p>\n</div>"
    )
    return _page("en", "NATO - Secretary General's Blog", body)


def _rfc2822(item: Item) -> str:
    day = item.day or dt.date(2012, 9, 28)
    moment = dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC)
    return email.utils.format_datetime(moment)


def rss(portal: Portal, base: str, lang: str) -> str:
    entries = []
    for item in portal.news_page(1, 50):
        it = item.localized(lang)
        entries.append(
            f"<item><title>{e(it.title)}</title><link>{e(base + item.path(lang))}</link>"
            f"<description>{e(it.summary)}</description><pubDate>{_rfc2822(item)}</pubDate>"
            f'<guid isPermaLink="true">{e(base + item.path(lang))}</guid></item>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>NATO News</title><link>{e(base)}/cps/{lang}/natolive/news.htm</link>"
        f"<description>News from NATO</description><language>{lang}</language>\n"
        + "\n".join(entries)
        + "\n</channel></rss>\n"
    )


def review_rss(portal: Portal, base: str) -> str:
    """The NATO Review feed: the homepage's NATO Review items."""
    _, _, review = portal.homepage()
    entries = [f"<item><title>{e(item.title)}</title><link>{e(base + item.path())}</link>"
               f"<description>{e(item.summary)}</description><pubDate>{_rfc2822(item)}</pubDate></item>"
               for item in review]
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>NATO Review</title><link>{e(base)}/docu/review/index.htm</link>"
        "<description>NATO Review magazine</description><language>en</language>\n"
        + "\n".join(entries)
        + "\n</channel></rss>\n"
    )


def _w3c(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _page_items(portal: Portal) -> list[Item]:
    features, _, review = portal.homepage()
    return [*features, *review]


def sitemap_index(portal: Portal, base: str) -> str:
    """The index of the replica's sitemaps, each with its `lastmod`: the latest change of a page it
    lists (or, for the news sitemaps, of the news items listed at all)."""
    pages = max(1, -(-portal.news_count() // SITEMAP_PAGE_SIZE))
    first = max((i.modified for i in _page_items(portal)), default=SEED_DATE)
    maps = [f"<sitemap><loc>{e(base)}/sitemap-pages.xml</loc><lastmod>{_w3c(max(first, SEED_DATE))}</lastmod>"
            "</sitemap>"]
    for n in range(1, pages + 1):
        keys = portal.news_keys((n - 1) * SITEMAP_PAGE_SIZE, SITEMAP_PAGE_SIZE)
        latest = max((portal.modified(k) for k in keys), default=SEED_DATE)
        maps.append(f"<sitemap><loc>{e(base)}/sitemap-news-{n}.xml</loc>"
                    f"<lastmod>{_w3c(max(latest, portal.news_changed))}</lastmod></sitemap>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "\n".join(maps)
        + "\n</sitemapindex>\n"
    )


def _urlset(locs: list[tuple[str, dt.datetime | None]]) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "\n".join(f"<url><loc>{e(loc)}</loc>" + (f"<lastmod>{_w3c(when)}</lastmod>" if when else "") + "</url>"
                     for loc, when in locs)
        + "\n</urlset>\n"
    )


def sitemap_pages(portal: Portal, base: str) -> str:
    features, _, review = portal.homepage()
    paths: dict[str, dt.datetime | None] = {
        "/cps/en/natolive/index.htm": None, "/cps/fr/natolive/index.htm": None, "/cps/en/natolive/news.htm": None}
    for item in [*features, *review]:
        paths.setdefault(item.path(), item.modified)  # an edition's own entry is its index
    for name in portal.editions:
        paths.setdefault(f"/docu/review/2012/{name}/EN/index.htm", None)
    return _urlset([(base + quote(p), when) for p, when in paths.items()])


def sitemap_news(portal: Portal, base: str, number: int) -> str | None:
    start = (number - 1) * SITEMAP_PAGE_SIZE
    if number < 1 or start >= max(1, portal.news_count()):
        return None
    keys = portal.news_keys(start, SITEMAP_PAGE_SIZE)
    return _urlset([(f"{base}/cps/en/natolive/{key}.htm", portal.modified(key)) for key in keys])


# With quirks, robots.txt closes a block of a hundred news items to crawlers.
ROBOTS_CLOSED = ("/cps/en/natolive/news_1001", "/cps/en/natohq/news_1001")


def robots(base: str, quirks: bool = False) -> str:
    closed = "".join(f"Disallow: {path}\n" for path in ROBOTS_CLOSED) if quirks else ""
    return (
        "User-agent: *\n"
        "Disallow: /cps/en/natolive/search.htm\n"
        "Disallow: /cps/fr/natolive/search.htm\n"
        "Disallow: /_replica/\n"
        f"{closed}"
        f"Sitemap: {base}/sitemap.xml\n"
    )


def not_found(path: str) -> str:
    body = f'<div id="content">\n<h1>Page not found</h1>\n<p>No page at {e(path)}.</p>\n</div>'
    return _page("en", "NATO - Page not found", body)
