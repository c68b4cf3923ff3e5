"""A hostile portal on 127.0.0.1: the 2012 portal's URL layout, serving what the hostile web serves.

One server per case (`HostileServer(case)`): the homepage lists three good items and whatever the
case adds (links to other hosts and ports, IP literals, `data:` and `file:` URLs), item pages and
the news archive misbehave as the case says (redirects and meta refreshes elsewhere, binary junk,
XML, nesting 100,000 deep, a megabyte title, terminal escapes, endless pagination, a 50 MB
robots.txt, cookies, Retry-After). Every request it receives is recorded in `hits`.
"""

from __future__ import annotations

import html
import os
import sys
import threading
from urllib.parse import parse_qs, urlsplit

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from evaluation.serving import LoopbackServer

HOME = "/cps/en/natolive/index.htm"
ARCHIVE = "/cps/en/natolive/news.htm"
GOOD = [(1, "Allies meet in Brussels"), (2, "Partners train in Norway"), (3, "Ministers agree on budget")]
BODY = ("The ministers met for two days and agreed on the next steps of the programme, which will be reviewed "
        "again at the end of the year.")


def item_page(title: str, extra_head: str = "", body: str = BODY) -> str:
    return (f"<html><head><title>{html.escape(title)}</title>{extra_head}</head><body><div id='content'>"
            f"<h1>{html.escape(title)}</h1><div class='dateline'><span class='date'>13 Sep. 2012 -</span> | "
            f"<span class='updated'>Last updated: 14 Sep. 2012 10:00</span></div><div class='text'><p>{body}</p>"
            "</div></div></body></html>")


def listing(entries: list[tuple[str, str]], next_href: str | None = None) -> str:
    rows = "".join(f'<div class="item"><a href="{html.escape(href, quote=True)}">{html.escape(title)}</a> '
                   f'<span class="date">13 Sep. 2012</span><p>Summary of {html.escape(title)}.</p></div>'
                   for href, title in entries)
    more = f'<p><a href="{html.escape(next_href, quote=True)}">Next</a></p>' if next_href else ""
    return f"<html><head><title>NATO</title></head><body><h2>News</h2>{rows}{more}</body></html>"


# Cases whose homepage lists a special item (news_500), and the title it lists it under.
SPECIAL_CASES = ("hang", "redirect-other-port", "meta-refresh-offsite", "binary", "xml", "deep", "huge-title",
                 "control-chars", "formula-title", "retry-after")
SPECIAL_TITLES = {
    "huge-title": "A" * 1_000_000,
    "control-chars": "\x1b[31mThe special\x1b[0m item\x07",
    "formula-title": '=HYPERLINK("http://evil.example/","click")',
}


class HostileServer:
    def __init__(self, case: str, other_port: int) -> None:
        self.case = case
        self.other_port = other_port  # a port of 127.0.0.1 that is not the portal's
        self.hits: list[str] = []
        self.release = threading.Event()  # the "hang" case's page answers once this is set
        self.site = LoopbackServer(lambda path, _headers: self.answer(path))
        self.hits = self.site.hits
        self.base_url = self.site.base_url
        self.port = int(self.base_url.rsplit(":", 1)[1])

    def stop(self) -> None:
        self.site.stop()

    # -- what each case serves ----------------------------------------------------------------------

    def home_entries(self) -> list[tuple[str, str]]:
        entries = [(f"/cps/en/natolive/news_{n}.htm", title) for n, title in GOOD]
        other = self.other_port
        if self.case == "offsite-items":
            entries += [
                ("http://169.254.169.254/cps/en/natolive/news_901.htm", "Cloud metadata"),
                ("http://www.example.com/cps/en/natolive/news_902.htm", "Another host"),
                (f"http://localhost:{self.port}/cps/en/natolive/news_903.htm", "Localhost by name"),
                (f"http://127.0.0.1:{other}/cps/en/natolive/news_904.htm", "Another port"),
                ("http://2130706433/cps/en/natolive/news_905.htm", "A decimal address"),
                (f"http://[::1]:{self.port}/cps/en/natolive/news_906.htm", "IPv6 loopback"),
                ("data:text/html,<h1>news_907</h1>/cps/en/natolive/news_907.htm", "A data URL"),
                ("file:///etc/passwd#/cps/en/natolive/news_908.htm", "A local file"),
                (f"https://127.0.0.1:{self.port}/cps/en/natolive/news_909.htm", "Another scheme"),
            ]
        if self.case in SPECIAL_CASES:
            entries.append(("/cps/en/natolive/news_500.htm", SPECIAL_TITLES.get(self.case, "The special item")))
        return entries

    def answer(self, url: str) -> tuple[int, list[tuple[str, str]], bytes]:
        parts = urlsplit(url)
        path, query = parts.path, parse_qs(parts.query)
        text = [("Content-Type", "text/html; charset=utf-8")]
        if path == "/robots.txt":
            if self.case == "robots-huge":
                return 200, [("Content-Type", "text/plain")], b"# comment line of a huge robots.txt\n" * 1_500_000
            return 200, [("Content-Type", "text/plain")], b"User-agent: *\nDisallow:\n"
        if path == HOME:
            cookie = [("Set-Cookie", "session=abc123; Path=/; Domain=127.0.0.1")] if self.case == "cookie" else []
            return 200, text + cookie, listing(self.home_entries()).encode()
        if path == ARCHIVE:
            return self.archive(int(query.get("page", ["1"])[0]))
        if path.startswith("/cps/en/natolive/news_") and path.removesuffix(".htm").rsplit("_", 1)[1].isdigit():
            number = int(path.rsplit("_", 1)[1].removesuffix(".htm") or 0)
            if number == 500:
                return self.special()
            title = dict(GOOD).get(number, f"Archive item {number}")
            cookie = [("Set-Cookie", f"seen={number}; Path=/")] if self.case == "cookie" else []
            return 200, text + cookie, item_page(title).encode()
        return 404, text, b"<h1>Not found</h1>"

    def archive(self, page: int) -> tuple[int, list[tuple[str, str]], bytes]:
        text = [("Content-Type", "text/html; charset=utf-8")]
        other = self.other_port
        next_href = {
            "next-file": "file://127.0.0.1/etc/passwd",
            "next-other-port": f"http://127.0.0.1:{other}{ARCHIVE}?page=2",
            "next-ftp": f"ftp://127.0.0.1:{other}/news.htm",
            "endless-same": f"{ARCHIVE}?page={page + 1}",
            "endless-new": f"{ARCHIVE}?page={page + 1}",
        }.get(self.case)
        if self.case == "binary-listing" and page == 1:
            return 200, text, os.urandom(100_000)
        if self.case == "endless-new":
            entries = [(f"/cps/en/natolive/news_{1000 + page * 2 + k}.htm", f"Archive item {1000 + page * 2 + k}")
                       for k in range(2)]
        else:
            entries = [(f"/cps/en/natolive/news_{n}.htm", title) for n, title in GOOD]
        return 200, text, listing(entries, next_href).encode()

    def special(self) -> tuple[int, list[tuple[str, str]], bytes]:
        text = [("Content-Type", "text/html; charset=utf-8")]
        other = self.other_port
        if self.case == "hang":  # answers only when the test lets it (or after a minute)
            self.release.wait(60)
        if self.case == "redirect-other-port":
            return 302, [("Location", f"http://127.0.0.1:{other}/cps/en/natolive/news_500.htm")], b""
        if self.case == "meta-refresh-offsite":
            refresh = '<meta http-equiv="refresh" content="0; url=http://169.254.169.254/latest/meta-data/">'
            return 200, text, f"<html><head>{refresh}</head><body>Moved</body></html>".encode()
        if self.case == "binary":
            return 200, text, os.urandom(200_000)
        if self.case == "xml":
            return 200, [("Content-Type", "application/xml")], item_page("The special item").encode()
        if self.case == "deep":
            deep = "<div>" * 100_000 + f"<p>{BODY}</p>" + "</div>" * 100_000
            return 200, text, (f"<html><body><h1>The special item</h1><p class='date'>13 Sep. 2012</p>{deep}"
                               "</body></html>").encode()
        if self.case == "huge-title":
            return 200, text, item_page("A" * 1_000_000).encode()
        if self.case == "control-chars":
            return 200, text, item_page("\x1b[31mThe special\x1b[0m item\x07\x00", body=f"{BODY}\x1b[2J").encode()
        if self.case == "formula-title":
            return 200, text, item_page('=HYPERLINK("http://evil.example/","click")').encode()
        if self.case == "retry-after":
            hits = sum(1 for h in self.hits if h.endswith("news_500.htm"))
            if hits <= 1:
                return 429, [("Retry-After", "2"), *text], b"<h1>Too many requests</h1>"
        return 200, text, item_page("The special item").encode()
