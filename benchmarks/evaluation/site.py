"""A second portal of the project's own, for the `portal` spider: a press site unlike the NATO replica.

    python benchmarks/evaluation/site.py [--port 8100]    # serve it on 127.0.0.1

The invented "Ocean Observation Organization" publishes press releases in a WordPress-like theme
(`/press/`, pager `/press/page/N/` with "Page 1 of 2" and "Older »", year archives `/press/2013/`
with counts), news in a Drupal-like one (`/news/?page=N`, "« first" and "next ›", "Published:
14/02/2013"), and events with date ranges across months and a venue line above the teaser. Its
homepage has a carousel under a visually hidden "Main menu" heading whose links carry
`?utm_source=home`, a language switcher, a media-centre menu, and a teaser (title, date, text)
linking the events calendar: a listing page linked like an item (so an item, as issue 13's hubs
are), holding one event listed nowhere else. Item pages have datelines,
"Published: ... | Last updated: ..." lines and full headlines that one listing cuts with an
ellipsis; one listed item answers 404. `SITE_ITEMS` is the truth: what a crawl must archive.
"""

from __future__ import annotations

import html
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script too
from evaluation.serving import LoopbackServer


@dataclass(frozen=True)
class SiteItem:
    path: str
    kind: str  # press, news, event
    title: str
    date_start: str
    date_end: str | None
    summary: str
    listed_title: str = ""  # the title as a listing shows it, when cut
    venue: str = ""
    updated: str = ""  # "15 February 2013 10:00"
    missing: bool = False  # listed, but its page answers 404

    @property
    def listing_title(self) -> str:
        return self.listed_title or self.title


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def _long(day: str) -> str:
    year, month, d = day.split("-")
    return f"{int(d)} {_MONTHS[int(month) - 1]} {year}"


def _range(item: SiteItem) -> str:
    if not item.date_end:
        return _long(item.date_start)
    start, end = item.date_start.split("-"), item.date_end.split("-")
    head = f"{int(start[2])} {_MONTHS[int(start[1]) - 1]}" + (f" {start[0]}" if start[0] != end[0] else "")
    return f"{head} - {_long(item.date_end)}"


CALENDAR = "/events/calendar/all"
_PRESS = [
    ("record-ocean-temperatures", "Record ocean temperatures measured across the North Atlantic basin", "2013-03-21",
     "Buoys of the observation network recorded the highest surface temperatures since measurements began.", ""),
    ("new-member-states-join", "Three new Member States join the observation network", "2013-03-04",
     "The Council welcomed three new Member States, bringing the network to forty-one countries.", ""),
    ("fellowships-applications", "Record number of applications for the 2013 ocean science fellowships programme",
     "2013-02-14", "More than 1,200 young scientists applied for the twelve fellowships offered this year.",
     "Record number of applications for the 2013 ocean science…"),
    ("arctic-sea-ice-report", "Arctic sea ice report presented to the Council", "2013-02-01",
     "The annual report documents the extent and thickness of sea ice over the past winter.", ""),
    ("tsunami-warning-exercise", "Tsunami warning exercise tests regional response times", "2013-01-22",
     "Coastal authorities of nine countries took part in a full-scale warning exercise.", ""),
    ("budget-2013-adopted", "Budget for 2013 adopted by the Council", "2013-01-10",
     "The Council adopted a budget that strengthens data services and regional training centres.", ""),
    ("coral-reef-survey", "Coral reef survey finds recovery in protected areas", "2012-12-12",
     "Divers surveyed sixty reefs and found more living coral where fishing is restricted.", ""),
    ("data-portal-launched", "Open data portal launched for researchers and the public", "2012-11-28",
     "All observations of the network since 1990 can now be downloaded free of charge.", ""),
    ("director-general-visit", "Director-General visits the Pacific regional centre", "2012-11-05",
     "The visit focused on the centre's training programme for island states.", ""),
    ("marine-litter-guidelines", "Guidelines on monitoring marine litter published", "2012-10-17",
     "The guidelines set common methods for counting and classifying litter on beaches.", ""),
    ("ship-time-agreement", "Agreement signed on shared ship time for research cruises", "2012-09-27",
     "Member States will pool research vessel time to cover remote ocean regions.", ""),
    ("annual-report-2011", "Annual report 2011 highlights growth of the network", "2012-06-14",
     "The report describes a year of new stations, new partners and open data.", ""),
]
_NEWS = [
    ("argo-float-milestone", "Float programme passes its 10,000th profile", "2013-03-15",
     "A single float in the Southern Ocean delivered the programme's ten-thousandth profile."),
    ("training-course-accra", "Training course on sea level data held in Accra", "2013-02-26",
     "Twenty technicians from West African countries learnt to process tide gauge data."),
    ("staff-award", "Data centre staff receive an international award", "2013-02-08",
     "The award recognises ten years of uninterrupted data delivery."),
    ("new-website", "A new website for the organization", "2013-01-15",
     "The site brings press releases, news and data services together in one place."),
    ("ocean-acidification-workshop", "Workshop on ocean acidification methods", "2012-12-03",
     "Chemists agreed on a common protocol for measuring ocean pH at sea."),
    ("volunteer-observing-ships", "Volunteer observing ships report more data than ever", "2012-11-20",
     "Merchant ships carried automatic weather stations on more routes in 2012."),
    ("school-programme", "School programme brings ocean data to classrooms", "2012-10-09",
     "Teachers in twelve countries used live buoy data in science lessons."),
]
_EVENTS = [
    ("panama-technical-workshop", "Technical workshop on coastal monitoring", "2011-11-28", "2011-12-06",
     "Panama City, Panama", "Experts reviewed coastal monitoring systems and agreed on priorities for the region."),
    ("council-session-2012", "Twenty-fifth session of the Council", "2012-05-28", "2012-06-01", "Paris, France",
     "The Council reviewed the work programme and elected its officers for the next two years."),
    ("summer-school-2012", "Summer school on ocean modelling", "2012-07-02", "2012-08-10", "Bergen, Norway",
     "Forty students learnt to run and evaluate regional ocean models."),
    # Listed only on the calendar, a listing page that the homepage links like an item.
    ("data-standards-workshop", "Workshop on data exchange standards", "2013-04-08", "2013-04-10",
     "Ostend, Belgium", "Data managers will agree on the formats that the network's centres exchange."),
]



def _items() -> list[SiteItem]:
    out = []
    for n, (slug, title, day, summary, cut) in enumerate(_PRESS):
        out.append(SiteItem(f"/press/{day[:4]}/{slug}/", "press", title, day, None, summary, listed_title=cut,
                            updated=f"{_long(day)} 18:{n:02d}"))
    for slug, title, day, summary in _NEWS:
        out.append(SiteItem(f"/news/{slug}", "news", title, day, None, summary))
    for slug, title, start, end, venue, summary in _EVENTS:
        out.append(SiteItem(f"/events/{slug}", "event", title, start, end, summary, venue=venue))
    # A listing linked like an item (title, date, teaser): an item, whose page is also read as a listing.
    out.append(SiteItem(CALENDAR, "calendar", "Calendar of events", "2013-03-01", None,
                        "All the meetings, workshops and schools of the organization in one list, with their venues "
                        "and dates."))
    # Listed, never published: its page answers 404.
    out.append(SiteItem("/news/withdrawn-statement", "news", "Statement on the 2013 work programme", "2013-03-18",
                        None, "This statement was withdrawn.", missing=True))
    return out


SITE_ITEMS = _items()
PRESS_PER_PAGE = 8
NEWS_PER_PAGE = 4
e = html.escape


def _page(title: str, main: str) -> str:
    menu = ('<header><a class="brand" href="/">Ocean Observation Organization</a><nav><ul class="menu">'
            '<li><a href="/">Home</a></li><li><a href="/about/">About us</a></li><li><a href="/press/">Press '
            'releases</a></li><li><a href="/news/">News</a></li><li><a href="/events/">Events</a></li>'
            '<li><a href="/media-centre/">Media centre</a></li></ul><ul class="languages"><li><a href="/fr/">'
            'Français</a></li><li><a href="/es/">Español</a></li></ul></nav></header>')
    footer = ('<footer><p><a href="/contacts/">All media contacts</a> · <a href="/privacy/">Privacy</a></p>'
              "<p>© Ocean Observation Organization</p></footer>")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{e(title)} | Ocean Observation '
            f"Organization</title></head><body>{menu}<main>{main}</main>{footer}</body></html>")


def _wordpress_listing(items: list[SiteItem], heading: str, page: int, pages: int, base: str) -> str:
    posts = "".join(
        f'<article class="post type-post"><h2 class="entry-title"><a href="{i.path}" rel="bookmark">'
        f'{e(i.listing_title)}</a></h2><div class="entry-meta"><span class="posted-on">Posted: <time '
        f'datetime="{i.date_start}">{_long(i.date_start)}</time></span></div><div class="entry-summary"><p>'
        f"{e(i.summary)}</p></div></article>" for i in items)
    newer = f'<a class="prev" href="{base}page/{page - 1}/">« Newer</a> ' if page > 2 else (
        f'<a class="prev" href="{base}">« Newer</a> ' if page == 2 else "")
    older = f' <a class="next" href="{base}page/{page + 1}/">Older »</a>' if page < pages else ""
    years = "".join(f'<li><a href="/press/{y}/">{y}</a> ({sum(i.date_start.startswith(y) for i in _press())})</li>'
                    for y in ("2013", "2012"))
    return (f'<div id="primary"><h1 class="page-title">{e(heading)}</h1>{posts}<nav class="navigation">'
            f'<div class="nav-links">{newer}<span class="pages">Page {page} of {pages}</span>{older}</div></nav>'
            f'</div><aside id="secondary" class="widget-area"><section class="widget widget_archive"><h2 '
            f'class="widget-title">Archives</h2><ul>{years}</ul></section></aside>')


def _press() -> list[SiteItem]:
    return [i for i in SITE_ITEMS if i.kind == "press"]


def _drupal_listing(items: list[SiteItem], page: int, pages: int) -> str:
    rows = "".join(
        f'<div class="views-row"><div class="views-field views-field-title"><span class="field-content"><a '
        f'href="{i.path}">{e(i.listing_title)}</a></span></div><div class="views-field views-field-created">'
        f'<span class="views-label">Published: </span><span class="field-content">'
        f'{i.date_start[8:]}/{i.date_start[5:7]}/{i.date_start[:4]}</span></div><div class="views-field '
        f'views-field-body"><div class="field-content"><p>{e(i.summary)}</p></div></div></div>' for i in items)
    links = []
    if page > 0:
        links += ['<li class="pager-first"><a href="?page=0">« first</a></li>',
                  f'<li class="pager-previous"><a href="?page={page - 1}">‹ previous</a></li>']
    links += [f'<li class="pager-item{" pager-current" if n == page else ""}"><a href="?page={n}">{n + 1}</a></li>'
              for n in range(pages)]
    if page < pages - 1:
        links += [f'<li class="pager-next"><a href="?page={page + 1}">next ›</a></li>',
                  f'<li class="pager-last"><a href="?page={pages - 1}">last »</a></li>']
    return (f'<div class="region region-content"><h1 class="title">News</h1><div class="view view-news">'
            f'<div class="view-content">{rows}</div><h2 class="element-invisible">Pages</h2><ul class="pager">'
            f'{"".join(links)}</ul></div></div>')


def _events_listing(items: list[SiteItem]) -> str:
    rows = "".join(
        f'<li class="event"><h3><a href="{i.path}">{e(i.title)}</a></h3><p class="when">{_range(i)}</p>'
        f'<p class="where">{e(i.venue)}</p><p class="teaser">{e(i.summary)}</p></li>' for i in items)
    return f'<h1>Events</h1><ul class="events">{rows}</ul>'


def _home() -> str:
    featured = [SITE_ITEMS[0], SITE_ITEMS[2], SITE_ITEMS[len(_press())]]
    calendar = next(i for i in SITE_ITEMS if i.path == CALENDAR)
    slides = "".join(f'<div class="slide"><a href="{i.path}?utm_source=home&amp;utm_medium=carousel"><img src="/img/'
                     f'{n}.jpg" alt=""><span class="slide-title">{e(i.title)}</span></a><p>{e(i.summary)}</p></div>'
                     for n, i in enumerate(featured))
    latest = [i for i in SITE_ITEMS if i.kind in ("press", "news")]
    latest = sorted(latest, key=lambda i: i.date_start, reverse=True)[:5]
    rows = "".join(f'<li><a href="{i.path}">{e(i.listing_title)}</a> <span class="date">{_long(i.date_start)}</span>'
                   f"</li>" for i in latest)
    return (f'<h2 class="visually-hidden">Main menu</h2><div class="carousel">{slides}</div>'
            f'<section class="latest"><h2>Latest</h2><ul>{rows}</ul><p><a href="/press/">All press releases</a>'
            f' · <a href="/news/">All news</a></p></section>'
            f'<section class="calendar"><h2>Calendar</h2><div class="teaser"><h3><a href="{CALENDAR}">'
            f'{e(calendar.title)}</a></h3><p class="date">{_long(calendar.date_start)}</p><p>{e(calendar.summary)}</p>'
            "</div></section>")


def _item_page(item: SiteItem) -> str:
    if item.kind == "press":
        updated = f" | Last updated: {item.updated}"
        body = (f'<p class="meta">Published: {_long(item.date_start)}{updated}</p><div class="entry-content"><p>'
                f"<strong>GENEVA, {_long(item.date_start)}</strong> – {e(item.summary)} The organization said the "
                "results would be discussed at the next session.</p><p>Member States will receive the full data "
                "set and a summary for decision makers in the coming weeks.</p></div>")
    elif item.kind == "news":
        body = (f'<div class="field-created">Published: {item.date_start[8:]}/{item.date_start[5:7]}/'
                f'{item.date_start[:4]}</div><div class="field-body"><p>{e(item.summary)} More details will be '
                "published in the organization's newsletter.</p><p>The data centre thanked all partners for their "
                "contributions.</p></div>")
    else:
        body = (f'<p class="event-date">{_range(item)}</p><p class="event-venue">{e(item.venue)}</p>'
                f'<div class="event-body"><p>{e(item.summary)} Participants are invited to register before the '
                "deadline.</p><p>Working languages: English, French and Spanish.</p></div>")
    return _page(item.title, f'<article class="{item.kind}"><h1>{e(item.title)}</h1>{body}</article>')


def render(url: str) -> tuple[int, str]:
    """(status, HTML) of a URL path with its query."""
    parts = urlsplit(url)
    path, query = parts.path, parse_qs(parts.query)
    if path == "/robots.txt":
        return 200, "User-agent: *\nDisallow: /search\n"
    if path == "/":
        return 200, _page("Home", _home())
    press = _press()
    pages = -(-len(press) // PRESS_PER_PAGE)
    if path == "/press/" or (path.startswith("/press/page/") and path.rstrip("/").rsplit("/", 1)[1].isdigit()):
        page = int(path.rstrip("/").rsplit("/", 1)[1]) if path != "/press/" else 1
        if not 1 <= page <= pages:
            return 404, _page("Not found", "<h1>Page not found</h1>")
        chunk = press[(page - 1) * PRESS_PER_PAGE:page * PRESS_PER_PAGE]
        return 200, _page("Press releases", _wordpress_listing(chunk, "Press releases", page, pages, "/press/"))
    if path in ("/press/2013/", "/press/2012/"):
        year = path.split("/")[2]
        chunk = [i for i in press if i.date_start.startswith(year)]
        return 200, _page(f"Press releases {year}", _wordpress_listing(chunk, f"Press releases: {year}", 1, 1,
                                                                       path))
    news = [i for i in SITE_ITEMS if i.kind == "news"]
    if path == "/news/":
        page = int(query.get("page", ["0"])[0])
        news_pages = -(-len(news) // NEWS_PER_PAGE)
        if not 0 <= page < news_pages:
            return 404, _page("Not found", "<h1>Page not found</h1>")
        return 200, _page("News", _drupal_listing(news[page * NEWS_PER_PAGE:(page + 1) * NEWS_PER_PAGE], page,
                                                  news_pages))
    events = [i for i in SITE_ITEMS if i.kind == "event"]  # the calendar lists them all
    if path == "/events/":
        return 200, _page("Events", _events_listing([i for i in events if i.date_start < "2013"]))
    if path == CALENDAR:
        return 200, _page("Calendar", _events_listing(events))
    if path in ("/about/", "/media-centre/", "/contacts/", "/privacy/", "/fr/", "/es/"):
        name = path.strip("/").replace("-", " ").capitalize()
        return 200, _page(name, f"<h1>{e(name)}</h1><p>The organization's {e(name.lower())} page.</p>")
    for item in SITE_ITEMS:
        if path == item.path and not item.missing:
            return 200, _item_page(item)
    return 404, _page("Not found", "<h1>Page not found</h1>")


class SiteServer(LoopbackServer):
    """The site on 127.0.0.1, in a thread; `hits` are the paths asked for."""

    def __init__(self, port: int = 0) -> None:
        super().__init__(self.answer, port)

    @staticmethod
    def answer(path: str, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        status, text = render(path)
        kind = "text/plain" if path == "/robots.txt" else "text/html; charset=utf-8"
        return status, [("Content-Type", kind)], text.encode("utf-8")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8100)
    site = SiteServer(parser.parse_args().port)
    print(f"listening on {site.base_url}", flush=True)
    threading.Event().wait()
