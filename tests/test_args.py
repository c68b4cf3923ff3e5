"""A crawl's arguments (`CrawlArgs.parse`) and its reach (`Scope`), one row a case: pure, no Scrapy run."""

from __future__ import annotations

from typing import Any

import pytest

from portalscraper.crawl.args import ArgumentError, CrawlArgs
from portalscraper.crawl.scope import Scope
from portalscraper.profiles import ProfileError

REPLICA = "http://127.0.0.1:8080"
ARCHIVE = "http://127.0.0.1:8081/web"
ITEM = "/cps/en/natolive/news_90839.htm"


@pytest.mark.parametrize(
    ("spider", "raw", "own", "row"),
    [
        ("nato", {}, "nato", {"base_url": "https://www.nato.int", "lang": "en"}),
        ("nato", {"base_url": REPLICA + "/", "lang": "fr"}, "nato", {"base_url": REPLICA, "lang": "fr"}),
        ("nato", {"since": "2012-09-01", "until": "2012-09-30"}, "nato",
         {"since": "2012-09-01", "until": "2012-09-30"}),
        ("nato", {"max_items": "40", "max_pages": 2, "full": "yes"}, "nato", {"max_items": 40, "max_pages": 2,
                                                                              "full": True}),
        ("nato", {"max_items": "0", "max_pages": "", "full": "off"}, "nato", {"max_items": None, "max_pages": None,
                                                                              "full": False}),
        ("nato", {"wayback": ARCHIVE + "/", "from": "2012", "to": "201209"}, "nato",
         {"wayback": ARCHIVE, "from": "2012", "to": "201209"}),
        ("portal", {"start_url": REPLICA + "/news/", "allow": "/news/"}, None,
         {"base_url": REPLICA, "lang": "", "start_url": REPLICA + "/news/", "allow": "/news/"}),
    ],
)
def test_arguments_parsed(spider: str, raw: dict[str, Any], own: str | None, row: dict[str, Any]) -> None:
    args = CrawlArgs.parse(spider, raw, own)
    defaults = {"base_url": "https://www.nato.int", "lang": "en", "since": None, "until": None, "max_items": None,
                "max_pages": None, "full": False}
    assert args.row() == {**defaults, **row}
    assert args.scoped == any(row.get(name) for name in ("since", "until", "max_items", "max_pages"))


def test_resume_and_a_site_without_a_profile() -> None:
    args = CrawlArgs.parse("portal", {"start_url": "https://www.Example.org:8443/news/", "resume": "true"}, None)
    assert (args.resume, args.portal, args.base_url) == (True, "example.org", "https://www.Example.org:8443")
    assert args.profile.allowed_domains == ("www.example.org",)


@pytest.mark.parametrize(
    ("spider", "raw", "own", "message"),
    [
        ("nato", {"since": "yesterday"}, "nato", "since must be an ISO date such as 2012-09-01, not 'yesterday'"),
        ("nato", {"since": "2012-02-31"}, "nato", "since must be an ISO date such as 2012-09-01, not '2012-02-31'"),
        ("nato", {"until": "Sep. 2012"}, "nato", "until must be an ISO date such as 2012-09-01, not 'Sep. 2012'"),
        ("nato", {"since": "2012-02-01", "until": "2012-01-01"}, "nato",
         "since (2012-02-01) is after until (2012-01-01)"),
        ("nato", {"base_url": "ftp://x"}, "nato", "base_url must be an http(s) URL such as https://www.nato.int, "
                                                  "not 'ftp://x'"),
        ("nato", {"base_url": "http://127.0.0.1:99999"}, "nato",
         "base_url 'http://127.0.0.1:99999' is not a usable URL: Port out of range 0-65535"),
        ("nato", {"base_url": "http://127.0.0.1:0"}, "nato",
         "base_url 'http://127.0.0.1:0' names port 0; give a port from 1 to 65535"),
        ("nato", {"lang": "xx"}, "nato", "lang must be one of en, fr, not 'xx'"),
        ("nato", {"max_items": "-3"}, "nato", "max_items must be a positive whole number, not '-3'"),
        ("nato", {"max_pages": "abc"}, "nato", "max_pages must be a positive whole number, not 'abc'"),
        ("nato", {"full": "maybe"}, "nato", "full must be true or false, not 'maybe'"),
        ("nato", {"resume": "2"}, "nato", "resume must be true or false, not '2'"),
        ("nato", {"wayback": "http://[::1/web"}, "nato", "wayback 'http://[::1/web' is not a usable URL"),
        ("nato", {"wayback": ARCHIVE, "from": "2012x"}, "nato",
         "from must be a Wayback timestamp such as 20120101, not '2012x'"),
        ("nato", {"wayback": ARCHIVE, "from": "2013", "to": "2012"}, "nato", "from (2013) is later than to (2012)"),
        ("portal", {}, None, "start_url is required: scrapy crawl portal -a start_url=https://example.org/"),
        ("portal", {"start_url": "file:///etc/passwd"}, None, "start_url must be an http(s) URL"),
        ("portal", {"start_url": REPLICA, "allow": "("}, None, "allow must be a regular expression, not '('"),
    ],
)
def test_bad_arguments_are_refused_with_one_line(spider: str, raw: dict[str, Any], own: str | None,
                                                 message: str) -> None:
    with pytest.raises(ArgumentError) as refused:
        CrawlArgs.parse(spider, raw, own)
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value), str(refused.value)


def test_an_unknown_profile_is_the_profiles_error() -> None:
    with pytest.raises(ProfileError, match=r"^unknown profile 'nope'; known: nato"):
        CrawlArgs.parse("nato", {"profile": "nope"}, "nato")


LIVE = Scope(CrawlArgs.parse("nato", {}, "nato"))
MIRROR = Scope(CrawlArgs.parse("nato", {"base_url": REPLICA, "since": "2012-09-01", "until": "2012-09-30"}, "nato"))
REPLAY = Scope(CrawlArgs.parse("nato", {"wayback": ARCHIVE}, "nato"))
SCOPES = {"live": LIVE, "mirror": MIRROR, "replay": REPLAY}


@pytest.mark.parametrize(
    ("scope", "url", "allows", "on_portal", "is_item"),
    [
        ("live", "https://www.nato.int" + ITEM, True, True, True),
        ("live", "http://nato.int" + ITEM, True, True, True),  # the portal's other host and scheme
        ("live", REPLICA + ITEM, False, False, False),
        ("live", "http://evil.example" + ITEM, False, False, False),
        ("live", "ftp://www.nato.int/x", False, False, False),
        ("live", "file:///etc/passwd", False, False, False),
        ("mirror", REPLICA + ITEM, True, True, True),
        ("mirror", "https://www.nato.int" + ITEM, False, True, True),  # read from the mirror (local)
        ("mirror", "http://127.0.0.1:8081" + ITEM, False, False, False),  # another port of the same host
        ("mirror", "https://127.0.0.1:8080" + ITEM, False, False, False),  # another scheme
        ("mirror", REPLICA + "/cps/en/natolive/news.htm", True, True, False),
        ("replay", f"{ARCHIVE}/20120901000000id_/http://www.nato.int{ITEM}", True, False, False),
        ("replay", "http://127.0.0.1:8081" + ITEM, False, False, False),  # the archive's host, not its replays
        ("replay", "https://www.nato.int" + ITEM, False, True, True),
    ],
)
def test_what_a_crawl_may_ask_for(scope: str, url: str, allows: bool, on_portal: bool, is_item: bool) -> None:
    reach = SCOPES[scope]
    assert (reach.allows(url), reach.on_portal(url), reach.is_item(url)) == (allows, on_portal, is_item)


@pytest.mark.parametrize(
    ("scope", "url", "local"),
    [
        ("mirror", "https://www.nato.int" + ITEM, REPLICA + ITEM),
        ("mirror", "http://nato.int/cps/en/natolive/news.htm?start=20", REPLICA + "/cps/en/natolive/news.htm?start=20"),
        ("mirror", REPLICA + ITEM, REPLICA + ITEM),
        ("mirror", "http://evil.example" + ITEM, "http://evil.example" + ITEM),
        ("live", "http://nato.int" + ITEM, "http://nato.int" + ITEM),  # the portal itself: asked where it is
        ("replay", "https://www.nato.int" + ITEM, "https://www.nato.int" + ITEM),  # the replay layer maps it
    ],
)
def test_where_a_portal_url_is_asked(scope: str, url: str, local: str) -> None:
    assert SCOPES[scope].local(url) == local


def test_the_hosts_given_to_scrapys_offsite_filter() -> None:
    assert (LIVE.allowed_domains(), MIRROR.allowed_domains(), REPLAY.allowed_domains()) == (
        ["nato.int", "www.nato.int"], ["127.0.0.1"], ["127.0.0.1"])


@pytest.mark.parametrize(
    ("date_text", "inside"),
    [
        ("13 Sep. 2012", True),
        ("01 Sep. 2012", True),
        ("31 Aug. 2012", False),
        ("01 Oct. 2012", False),
        ("30 Aug. 2012 - 02 Sep. 2012", True),  # a range that ends in the window
        ("28 Sep. 2012 - 02 Oct. 2012", True),  # one that starts in it
        ("Sep. 2012", True),  # to the month: compared at the month
        ("Aug. 2012", False),
        ("2012", True),
        ("no date at all", True),  # the validator's business, not the filter's
        (None, True),
    ],
)
def test_the_date_window(date_text: str | None, inside: bool) -> None:
    assert MIRROR.in_window(date_text) is inside
    assert LIVE.in_window(date_text) is True  # no window: everything is in it


def test_canonical_urls_and_kinds() -> None:
    canonical = MIRROR.canonical(REPLICA + "/cps/en/SID-D9080E0A-D29D5220/natolive/news_90839.htm?selectedLocale=en")
    assert canonical == "https://www.nato.int/cps/en/natohq/news_90839.htm"
    assert (MIRROR.kind_of(canonical), MIRROR.kind_of(REPLICA + "/cps/en/natolive/news.htm"),
            MIRROR.kind_of(REPLICA + "/about")) == ("news", "hub", "page")


def test_canonical_urls_are_remembered_within_bounds() -> None:
    from portalscraper.crawl import scope as scope_module
    from portalscraper.extract.urls import canonical_url

    reach = Scope(CrawlArgs.parse("nato", {"base_url": REPLICA}, "nato"))
    urls = [f"{REPLICA}/cps/en/SID-{n:08X}-D29D5220/natolive/news_{n}.htm?selectedLocale=en" for n in range(5000)]
    assert [reach.canonical(url) for url in urls] == [canonical_url(url, reach.rules) for url in urls]
    assert reach.canonical(urls[-1]) == "https://www.nato.int/cps/en/natohq/news_4999.htm"  # asked again
    assert len(reach._canonical) <= scope_module._CANONICAL_CACHE  # memory stays flat however many URLs
