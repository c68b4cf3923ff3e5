"""A third site of the project's own, for the `portal` spider: a newspaper unlike the NATO replica and
unlike the press portal of `site.py`.

    python benchmarks/evaluation/newsroom.py [--port 8101] [--articles 60]

"The Harbour Ledger" publishes articles at `/article/{id}` whose numeric ids look like years
(1890 to 2126: most between 1900 and 2099), in five categories whose pages (`/category/{name}`,
`?page=N`, five cards a page by default) are headed by a counting sentence ("11 articles in the Business
category"); one category's last page holds a single card above a pager ("1 2 3 Next →").
Cards carry a byline line ("Alice Johnson wrote") above teasers, some of them short, and some a
topic link. Article pages have `og:type` article (but two), a dateline inside the article's
body, a "Topics:" link to a programme page in the text, tag links, and a "More news" sidebar of
dated links. Year archives (`/archive/2013`) list titles and dates. Events list a date range and
a venue line, two of them with no teaser. robots.txt names a sitemap index: articles with
`lastmod`, and the site's other pages. An RSS feed (announced in every page's head) lists the ten
newest articles. Three old articles are linked from the sitemap only; the newest one from the
feed only. Pages answer conditional requests (ETag, Last-Modified).

`ITEMS` is the truth: what a crawl must archive, each item's fields as a reader sees them.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import html
import random
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script too
from evaluation.serving import LoopbackServer

CATEGORIES = ("Business", "Science", "World", "Culture", "Sport")
AUTHORS = ("Alice Johnson", "Bram de Vries", "Chloé Martin", "Dmitri Volkov", "Emma Lindqvist", "Farid Haddad")
PER_PAGE = 5
FIRST_ID = 1890
FIRST_DAY = dt.date(2012, 1, 5)
MODIFIED = dt.datetime(2013, 9, 2, 8, 0, tzinfo=dt.UTC)  # every page's Last-Modified, unless changed
PROGRAMMES = {"water-academy": "Water Academy", "harbour-futures": "Harbour Futures",
              "open-data-desk": "Open Data Desk"}
TOPICS = ("markets", "energy", "climate", "elections", "football")
_SUBJECTS = ("Harbour authority", "City council", "Port workers", "Local researchers", "The regional bank",
             "Ferry operators", "A new study", "The football club", "The museum", "Fishermen")
_VERBS = ("announces", "questions", "delays", "welcomes", "plans", "rejects", "reviews", "expands")
_OBJECTS = ("the northern quay", "a tidal energy project", "winter ferry timetables", "the fish market",
            "a climate adaptation plan", "new cargo cranes", "the stadium's roof", "the harbour festival",
            "a data portal", "the lighthouse restoration")
_SHORT_TEASERS = ("Rates held steady.", "A vote is expected.", "Work starts in May.", "The plan was dropped.")
_SENTENCES = (
    "The decision follows months of talks between the city, the port and the unions.",
    "Officials said the first results would be published before the end of the year.",
    "Critics argue that the costs have been underestimated from the start.",
    "Residents of the old quarter have been invited to a public meeting next week.",
    "The project is financed in part by the regional development fund.",
    "Similar schemes in other harbour cities have taken twice as long as planned.",
    "A spokesperson declined to comment on the timetable.",
)


@dataclass(frozen=True)
class Item:
    path: str
    kind: str  # article, event
    title: str
    date_start: str
    date_end: str | None
    summary: str  # as a reader should get it: the listing's teaser, else the page's
    section: str  # the listing as the site's navigation names it; "" when no listing names it
    listed: str = "category"  # category, sitemap (only), feed (only), events
    author: str = ""
    teaser: str = ""  # on the cards
    category: str = ""
    topic: str = ""
    programme: str = ""
    paragraphs: tuple[str, ...] = ()
    venue: str = ""
    og: bool = True
    number: int = 0
    modified: dt.datetime = MODIFIED


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def _articles(count: int, seed: int) -> list[Item]:
    rng = random.Random(seed)
    unlisted = {2, 7, 13} if count > 13 else set()
    out = []
    for k in range(count):
        number = FIRST_ID + 4 * k
        day = FIRST_DAY + dt.timedelta(days=9 * k if count <= 100 else k * 600 // count)  # two years at most
        title = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
        if k % 3 == 0:
            title += f" ({day.year})" if k % 6 == 0 else " after long debate"
        teaser = rng.choice(_SHORT_TEASERS) if k % 4 == 1 else " ".join(rng.sample(_SENTENCES, 2))
        paragraphs = tuple(" ".join(rng.sample(_SENTENCES, 3)) for _ in range(3))
        listed = "sitemap" if k in unlisted else "feed" if k == count - 1 else "category"
        category = CATEGORIES[k % len(CATEGORIES)]
        out.append(Item(
            f"/article/{number}", "article", title, day.isoformat(), None, teaser,
            category if listed in ("category", "feed") else "", listed, AUTHORS[k % len(AUTHORS)], teaser,
            category, TOPICS[k % len(TOPICS)] if k % 2 else "", list(PROGRAMMES)[k % 3] if k % 5 == 0 else "",
            paragraphs, og=k not in (7, 8), number=number,
            modified=MODIFIED + dt.timedelta(minutes=k)))
    return out


_EVENTS = [
    ("harbour-festival-2013", "Harbour festival", "2013-06-12", "2013-06-14", "The Hague, Netherlands",
     "Three days of concerts and boat parades along the old quay."),
    ("tidal-energy-forum", "Tidal energy forum", "2013-09-30", "2013-10-02", "Bergen, Norway", ""),
    ("open-data-day", "Open data day", "2013-11-05", None, "Harbour Library, Main Hall",
     "Journalists and developers work on the city's new data portal."),
    ("fishermens-market-week", "Fishermen's market week", "2013-12-02", "2013-12-08", "Old Fish Market", ""),
]


def _events() -> list[Item]:
    out = []
    for slug, title, start, end, venue, teaser in _EVENTS:
        page_teaser = teaser or f"{title}: the programme, the venue and how to register."
        out.append(Item(f"/events/{slug}", "event", title, start, end, page_teaser, "Events", "events",
                        teaser=teaser, venue=venue, paragraphs=(
                            f"{page_teaser} Registration opens one month before the event.",
                            "The event is free of charge and open to the public; places are limited.")))
    return out


class Newsroom:
    """The site's content, `articles` articles of it (60 by default), made from a seed."""

    def __init__(self, articles: int = 60, seed: int = 2013, per_page: int = PER_PAGE) -> None:
        self.articles = _articles(articles, seed)
        self.per_page = per_page
        self.events = _events()
        self.items = [*self.articles, *self.events]
        self.by_path = {i.path: i for i in self.items}

    def listed(self, category: str) -> list[Item]:
        return [i for i in reversed(self.articles) if i.listed == "category" and i.category == category]

    def newest(self, count: int, listed_only: bool = True) -> list[Item]:
        wanted = ("category",) if listed_only else ("category", "feed")
        pool = [i for i in reversed(self.articles) if i.listed in wanted]
        return pool[:count]

    # -- pages -------------------------------------------------------------------------------

    def render(self, url: str, base: str) -> tuple[int, str, str, dt.datetime]:
        """(status, content type, body, last modified) of a URL path with its query."""
        parts = urlsplit(url)
        path, query = parts.path, parse_qs(parts.query)
        page = "text/html; charset=utf-8"
        if path == "/robots.txt":
            return 200, "text/plain", f"User-agent: *\nDisallow: /search\nSitemap: {base}/sitemap_index.xml\n", MODIFIED
        if path == "/sitemap_index.xml":
            return 200, "application/xml", self.sitemap_index(base), MODIFIED
        if path == "/sitemap-articles.xml":
            return 200, "application/xml", self.sitemap_articles(base), self.latest()
        if path == "/sitemap-pages.xml":
            return 200, "application/xml", self.sitemap_pages(base), MODIFIED
        if path == "/feed.xml":
            return 200, "application/rss+xml; charset=utf-8", self.feed(base), self.latest()
        if path == "/":
            return 200, page, self.home(), MODIFIED
        if path.startswith("/category/"):
            name = next((c for c in CATEGORIES if _slug(c) == path.removeprefix("/category/")), None)
            number = query.get("page", ["1"])[0]
            if name and number.isdigit():
                text = self.category(name, int(number))
                if text:
                    return 200, page, text, MODIFIED
        if path.startswith("/archive/") and path[9:].isdigit():
            year = path[9:]
            rows = [i for i in reversed(self.articles) if i.listed == "category" and i.date_start.startswith(year)]
            if rows:
                return 200, page, self.archive(year, rows), MODIFIED
        if path.startswith("/topic/") and path[7:] in TOPICS:
            return 200, page, self.topic(path[7:]), MODIFIED
        if path.startswith("/programmes/") and path[12:] in PROGRAMMES:
            return 200, page, self.programme(path[12:]), MODIFIED
        if path == "/events/":
            return 200, page, self.events_page(), MODIFIED
        if path in ("/about", "/contact", "/privacy"):
            name = path[1:].capitalize()
            return 200, page, _page(name, f"<h1>{name}</h1><p>The Harbour Ledger's {name.lower()} page.</p>"), \
                MODIFIED
        item = self.by_path.get(path)
        if item is not None:
            return 200, page, self.item_page(item), item.modified
        return 404, page, _page("Not found", "<h1>Page not found</h1>"), MODIFIED

    def latest(self) -> dt.datetime:
        return max(i.modified for i in self.articles)

    def home(self) -> str:
        top, *latest = self.newest(6)
        most_read = self.newest(12)[6:11]
        rows = "".join(f'<li><a href="{i.path}">{e(i.title)}</a> <span class="date">{_long(_day(i))}</span></li>'
                       for i in latest)
        read = "".join(f'<li><a href="{i.path}">{e(i.title)}</a></li>' for i in most_read)
        years = sorted({i.date_start[:4] for i in self.articles if i.listed == "category"}, reverse=True)
        archive = "".join(f'<li><a href="/archive/{y}">{y}</a></li>' for y in years)
        main = (f'<section class="top"><h2>Top story</h2><div class="hero"><h3><a href="{top.path}">{e(top.title)}'
                f'</a></h3><p>{e(top.teaser)}</p></div></section>'
                f'<section class="latest"><h2>Latest</h2><ul>{rows}</ul></section>'
                f'<aside><section class="most-read"><h2>Most read</h2><ol>{read}</ol></section>'
                f'<section class="archive"><h2>Archive</h2><ul>{archive}</ul></section></aside>')
        return _page("The Harbour Ledger", main)

    def category(self, name: str, number: int) -> str | None:
        items = self.listed(name)
        pages = max(1, -(-len(items) // self.per_page))
        if not 1 <= number <= pages:
            return None
        chunk = items[(number - 1) * self.per_page:number * self.per_page]
        cards = "".join(_card(i) for i in chunk)
        base = f"/category/{_slug(name)}"
        links = []
        if number > 1:
            links.append(f'<a href="{base}{_query(number - 1)}">« Previous</a>')
        for n in range(1, pages + 1):
            links.append(f'<span class="current">{n}</span>' if n == number else f'<a href="{base}{_query(n)}">{n}</a>')
        links.append(f'<a class="next" href="{base}?page={number + 1}">Next →</a>' if number < pages else
                     '<span class="next disabled">Next →</span>')
        main = (f'<h1>{len(items)} articles in the {e(name)} category</h1><section class="listing">{cards}'
                f'<nav class="pager">{" ".join(links)}</nav></section>')
        return _page(f"{name} | The Harbour Ledger", main)

    def archive(self, year: str, rows: list[Item]) -> str:
        body = "".join(f'<li><a href="{i.path}">{e(i.title)}</a> — <span>{_long(_day(i))}</span></li>' for i in rows)
        return _page(f"Archive {year}", f"<h1>Articles from {year}</h1><ul class=\"archive\">{body}</ul>")

    def topic(self, topic: str) -> str:
        rows = [i for i in reversed(self.articles) if i.topic == topic and i.listed == "category"][:8]
        return _page(topic.capitalize(), f"<h1>{topic.capitalize()}</h1><section class=\"listing\">"
                                         f"{''.join(_card(i) for i in rows)}</section>")

    def programme(self, slug: str) -> str:
        name = PROGRAMMES[slug]
        related = [i for i in reversed(self.articles) if i.programme == slug and i.listed == "category"][:3]
        rows = "".join(f'<li><a href="{i.path}">{e(i.title)}</a> <span class="date">{_long(_day(i))}</span></li>'
                       for i in related)
        text = (f"<p>The {name} programme brings together the city, the port and the university. It was started "
                "in 2010 to give residents a say in how the harbour changes, and it publishes its minutes.</p>"
                "<p>Each year the programme chooses three projects, follows them from the first plans to the "
                "opening, and reports on what went well and what did not, in plain language.</p>")
        return _page(name, f"<h1>{name}</h1>{text}<h2>Related articles</h2><ul>{rows}</ul>")

    def events_page(self) -> str:
        rows = "".join(
            f'<li class="event"><h3><a href="{i.path}">{e(i.title)}</a></h3><p class="when">{_range(i)}</p>'
            f'<p class="where">{e(i.venue)}</p>' + (f'<p class="teaser">{e(i.teaser)}</p>' if i.teaser else "")
            + "</li>" for i in self.events)
        return _page("Events", f'<h1>Events</h1><ul class="events">{rows}</ul>')

    def item_page(self, item: Item) -> str:
        if item.kind == "event":
            ld = ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Event", '
                  f'"name": "{e(item.title)}"}}</script>')
            main = (f'<article class="event"><h1>{e(item.title)}</h1><p class="when">{_range(item)}</p>'
                    f'<p class="where">{e(item.venue)}</p><div class="text">'
                    + "".join(f"<p>{e(p)}</p>" for p in item.paragraphs) + "</div></article>")
            return _page(item.title, main, head=f'<meta name="description" content="{e(item.summary)}">{ld}')
        day = _day(item)
        text = list(item.paragraphs)
        programme = (f'<p>Topics: <a href="/programmes/{item.programme}">{PROGRAMMES[item.programme]}</a></p>'
                     if item.programme else "")
        tags = f'<ul class="tags"><li><a href="/topic/{item.topic}">{item.topic}</a></li></ul>' if item.topic else ""
        related = [i for i in self.newest(40) if i.path != item.path and i.category == item.category][:3]
        aside = "".join(f'<li><a href="{i.path}">{e(i.title)}</a> <span class="date">{_long(_day(i))}</span></li>'
                        for i in related)
        main = (f'<article><h1>{e(item.title)}</h1><div class="body"><p class="byline">By {e(item.author)} · '
                f'<time datetime="{item.date_start}">{_long(day)}</time></p><p>{e(item.teaser)} {e(text[0])}</p>'
                f'<figure><img src="/img/{item.number}.jpg" alt=""><figcaption>The harbour on {_long(day)}.'
                f'</figcaption></figure><p>{e(text[1])}</p>{programme}<p>{e(text[2])}</p></div>{tags}</article>'
                f'<aside class="related"><h2>More news</h2><ul>{aside}</ul></aside>')
        head = (f'<meta name="description" content="{e(item.teaser)}">'
                + ('<meta property="og:type" content="article">' if item.og else ""))
        return _page(f"{item.title} | The Harbour Ledger", main, head=head)

    # -- feeds and sitemaps ------------------------------------------------------------------

    def feed(self, base: str) -> str:
        entries = "".join(
            f"<item><title>{e(i.title)}</title><link>{base}{i.path}</link><description>{e(i.teaser)}</description>"
            f"<pubDate>{email.utils.format_datetime(dt.datetime.combine(_day(i), dt.time(9), dt.UTC))}</pubDate>"
            f"<category>{e(i.category)}</category><guid>{base}{i.path}</guid></item>"
            for i in self.newest(10, listed_only=False))
        return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>The Harbour Ledger'
                f"</title><link>{base}/</link><description>News from the harbour</description>{entries}"
                "</channel></rss>")

    def sitemap_index(self, base: str) -> str:
        maps = [("sitemap-articles.xml", self.latest()), ("sitemap-pages.xml", MODIFIED)]
        body = "".join(f"<sitemap><loc>{base}/{name}</loc><lastmod>{when.isoformat()}</lastmod></sitemap>"
                       for name, when in maps)
        return ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex '
                f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</sitemapindex>')

    def sitemap_articles(self, base: str) -> str:
        return _urlset((f"{base}{i.path}", i.modified) for i in reversed(self.articles))

    def sitemap_pages(self, base: str) -> str:
        paths = ["/", *(f"/category/{_slug(c)}" for c in CATEGORIES), "/events/", *(i.path for i in self.events),
                 *(f"/programmes/{p}" for p in PROGRAMMES), *(f"/topic/{t}" for t in TOPICS), "/about"]
        return _urlset((f"{base}{p}", MODIFIED) for p in paths)


e = html.escape


def _day(item: Item) -> dt.date:
    return dt.date.fromisoformat(item.date_start)


def _range(item: Item) -> str:
    start = dt.date.fromisoformat(item.date_start)
    if not item.date_end:
        return _long(start)
    end = dt.date.fromisoformat(item.date_end)
    head = f"{start.day}" if start.month == end.month else f"{start.day} {start:%B}"
    return f"{head} - {_long(end)}"


def _query(number: int) -> str:
    return "" if number == 1 else f"?page={number}"


def _card(item: Item) -> str:
    topic = f'<ul class="tags"><li><a href="/topic/{item.topic}">{item.topic}</a></li></ul>' if item.topic else ""
    return (f'<div class="card"><h2><a href="{item.path}">{e(item.title)}</a></h2><p class="byline">'
            f'{e(item.author)} wrote</p><p class="date">{_long(_day(item))}</p><p class="teaser">{e(item.teaser)}</p>'
            f"{topic}</div>")


def _urlset(entries: object) -> str:
    body = "".join(f"<url><loc>{loc}</loc><lastmod>{when.isoformat()}</lastmod></url>"
                   for loc, when in entries)  # type: ignore[attr-defined]
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'


def _page(title: str, main: str, head: str = "") -> str:
    menu = "".join(f'<li><a href="/category/{_slug(c)}">{c}</a></li>' for c in CATEGORIES)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>{head}'
            '<link rel="alternate" type="application/rss+xml" title="The Harbour Ledger" href="/feed.xml"></head>'
            f'<body><header><a class="brand" href="/">The Harbour Ledger</a><nav><ul class="menu"><li><a href="/">'
            f'Home</a></li>{menu}<li><a href="/events/">Events</a></li></ul></nav></header><main>{main}</main>'
            '<footer><p><a href="/about">About us</a> · <a href="/contact">Contact</a> · <a href="/privacy">Privacy'
            "</a></p><p>© The Harbour Ledger</p></footer></body></html>")


class NewsroomServer(LoopbackServer):
    """The site on 127.0.0.1, in a thread, answering conditional requests (ETag, Last-Modified); `hits`
    are the paths asked for."""

    def __init__(self, port: int = 0, articles: int = 60, per_page: int = PER_PAGE) -> None:
        self.site = Newsroom(articles, per_page=per_page)
        super().__init__(self.answer, port)

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        status, kind, text, modified = self.site.render(path, self.base_url)
        body = text.encode("utf-8")
        if status != 200:
            return status, [("Content-Type", kind)], body
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if headers.get("If-None-Match") == etag or _not_since(headers.get("If-Modified-Since"), modified):
            return 304, [("ETag", etag)], b""
        return 200, [("Content-Type", kind), ("ETag", etag),
                     ("Last-Modified", email.utils.format_datetime(modified, usegmt=True))], body


def _not_since(header: str | None, modified: dt.datetime) -> bool:
    if not header:
        return False
    try:
        return modified.replace(microsecond=0) <= email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False


ITEMS = Newsroom().items

if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--articles", type=int, default=60)
    options = parser.parse_args()
    site = NewsroomServer(options.port, options.articles)
    print(f"listening on {site.base_url}", flush=True)
    threading.Event().wait()
