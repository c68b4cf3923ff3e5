"""Canonical URLs and ids: one form per item, whatever host, scheme, session id or mirror."""

from __future__ import annotations

import random
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from portalscraper.extract.urls import absolute_url, canonical_url, language, page_kind, record_id, split_url
from portalscraper.profiles import ProfileError, load_profile

RULES = load_profile("nato").urls.with_local_origin("http://127.0.0.1:8123")
NEWS_EN = "https://www.nato.int/cps/en/natohq/news_91112.htm"


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("http://www.nato.int/cps/en/natolive/news_91112.htm", NEWS_EN),
        ("https://nato.int/cps/en/natolive/news_91112.htm", NEWS_EN),
        ("http://WWW.NATO.INT/cps/en/natohq/news_91112.htm", NEWS_EN),
        ("http://www.nato.int/cps/en/SID-D9080E0A-D29D5220/natolive/news_91112.htm", NEWS_EN),
        ("http://www.nato.int/cps/en/natolive/news_91112.htm?selectedLocale=en", NEWS_EN),
        ("http://127.0.0.1:8123/cps/en/natolive/news_91112.htm#top", NEWS_EN),
        ("http://www.nato.int/cps/en/natolive/news_91112.htm?selectedLocale=fr",
         "https://www.nato.int/cps/fr/natohq/news_91112.htm"),
        ("http://www.nato.int/docu/review/2012/Chicago/Mr-TransAtlantic/EN/index.htm",
         "https://www.nato.int/docu/review/2012/Chicago/Mr-TransAtlantic/EN/index.htm"),
        ("http://example.org/cps/en/natolive/news_91112.htm", "http://example.org/cps/en/natohq/news_91112.htm"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url, RULES) == canonical


def test_record_id_is_stable_and_language_specific() -> None:
    assert record_id(NEWS_EN) == "12be8b96a125acf6"
    assert record_id(canonical_url("http://127.0.0.1:9/cps/en/natolive/news_91112.htm",
                                   load_profile("nato").urls.with_local_origin("http://127.0.0.1:9"))) == (
        "12be8b96a125acf6"
    )
    assert record_id("https://www.nato.int/cps/fr/natohq/news_91112.htm") != record_id(NEWS_EN)


@pytest.mark.parametrize(
    ("url", "kind", "lang"),
    [
        (NEWS_EN, "news", "en"),
        ("https://www.nato.int/cps/fr/natohq/opinions_85000.htm", "opinion", "fr"),
        ("https://www.nato.int/cps/en/natohq/topics_50321.htm", "feature", "en"),
        ("https://www.nato.int/docu/review/2012/Threats-Within/Not-gone-but-not-as/EN/index.htm", "review", None),
        ("https://www.nato.int/docu/review/en/articles/2019/04/04/nato-at-70/index.html", "review", "en"),
        ("https://www.nato.int/cps/en/natohq/news.htm", None, "en"),
        ("https://www.nato.int/docu/review/2012/Chicago/EN/index.htm", "edition", None),  # a hub, listed as an item
    ],
)
def test_page_kind_and_language(url: str, kind: str | None, lang: str | None) -> None:
    assert page_kind(url, RULES) == kind
    if "articles" not in url:
        assert language(url, RULES) == lang


def test_unknown_profile_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ProfileError, match="unknown profile 'nope'; known: nato"):
        load_profile("nope")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n', encoding="utf-8")
    with pytest.raises(ProfileError, match="missing the key 'base_url'"):
        load_profile(str(bad))


def test_record_id_set() -> None:
    from portalscraper.crawl.recordids import RecordIdSet

    ids = RecordIdSet()
    many = [record_id(f"https://www.nato.int/cps/en/natohq/news_{n}.htm") for n in range(5000)]
    for rid in many:
        ids.add(rid)
    ids.add(many[0])
    ids.add("not-hex")
    assert len(ids) == 5001
    assert all(rid in ids for rid in many) and "not-hex" in ids
    assert record_id("https://www.nato.int/other") not in ids and "0" * 16 not in ids and "x" not in ids


def test_a_record_id_set_past_its_memory_moves_to_a_file_and_answers_the_same() -> None:
    from portalscraper.crawl.recordids import RecordIdSet

    ids, same = RecordIdSet(spill_at=700), set()
    many = [record_id(f"https://www.nato.int/cps/en/natohq/news_{n}.htm") for n in range(2000)]
    for n, rid in enumerate(many):
        assert ids.add(rid) is (rid not in same)
        same.add(rid)
        if n % 3 == 0:  # an id seen again, before and after the move
            assert ids.add(many[n // 2]) is False
    assert ids._table is None and ids._db is not None  # moved: nothing of the table left in memory
    assert ids.add("not-hex") and not ids.add("not-hex") and "not-hex" in ids
    assert len(ids) == 2001
    assert all(rid in ids for rid in many)
    assert ids.add("f" * 16) and "f" * 16 in ids and "e" + "f" * 15 not in ids  # the highest key fits
    assert ids.add("0" * 15 + "2") and "0" * 15 + "2" in ids  # and the lowest
    assert record_id("https://www.nato.int/other") not in ids
    ids.close()
    assert len(ids) == 0 and many[0] not in ids and ids.add(many[0])


def test_tracking_parameters_are_never_part_of_an_identity() -> None:
    from portalscraper.profiles import UrlRules

    rules = UrlRules(keep_query=("*",))
    assert canonical_url("https://ex.org/a?utm_source=home&id=3&fbclid=x&gclid=y&mc_cid=z", rules) == (
        "https://ex.org/a?id=3")
    assert canonical_url("https://ex.org/a?utm_campaign=x", rules) == canonical_url("https://ex.org/a", rules)


@pytest.mark.parametrize(
    ("url", "same_as"),
    [
        ("http://ex.org:80/a/b.htm", "http://ex.org/a/b.htm"),
        ("https://ex.org:443/a/b.htm", "https://ex.org/a/b.htm"),
        ("https://ex.org/a/./c/../b.htm", "https://ex.org/a/b.htm"),
        ("https://ex.org/%7Euser/caf%c3%a9", "https://ex.org/~user/caf%C3%A9"),
    ],
)
def test_one_identity_whatever_the_spelling(url: str, same_as: str) -> None:
    from portalscraper.profiles import UrlRules

    rules = UrlRules(keep_query=("*",))
    assert canonical_url(url, rules) == canonical_url(same_as, rules) == same_as
    assert canonical_url("http://ex.org:8080/a", rules) == "http://ex.org:8080/a"  # another port is another site


def test_the_duplicate_filter_keeps_64_bits_a_request_and_its_job_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from scrapy import Request

    from portalscraper.crawl.dupefilter import CompactDupeFilter

    seen = CompactDupeFilter(str(tmp_path))
    pages = [Request(f"https://www.nato.int/cps/en/natolive/news.htm?page={n}") for n in range(3_000)]
    assert not any(seen.request_seen(r) for r in pages)
    assert all(seen.request_seen(r) for r in pages[::97])
    assert seen.request_seen(Request("https://www.nato.int/cps/en/natolive/news.htm?page=7#top"))  # same page
    assert not seen.request_seen(Request("https://www.nato.int/cps/en/natolive/news.htm?page=7", method="POST"))
    assert not seen._fingerprints and len(seen.seen) == 3_001  # none kept as Scrapy's 20-byte strings
    seen.close("finished")
    again = CompactDupeFilter(str(tmp_path))  # a job directory's file read back, as Scrapy writes it
    assert again.request_seen(pages[2_345]) and not again.request_seen(Request("https://www.nato.int/new"))
    again.close("finished")


def test_plain_urls_are_split_and_joined_as_urllib_does_it() -> None:
    """split_url and absolute_url take a plain absolute URL (most of a sitemap's) by one match, and
    give what urllib gives for it; anything else goes to urllib. Random links built from the pieces
    that make urllib differ (case, ports, dot segments, empty queries, fragments, parameters,
    brackets, spaces, controls, non-ASCII), each checked against urllib itself."""
    pieces = [":80", ":", "/", "//", "/x", "/../", "./", "?", "?a=1", "#", "#f", ";p", "[", "]", "%20", " ", "é",
              "\\", "&", "=", "..", "@", "~", "'", '"', "<>", "{|}", "^`", "\x7f", "!$", "*+,", "\t", "\n"]
    starts = ["http://", "https://", "HTTP://", "ftp://", "//", ""]
    hosts = ["a.com", "B.org", "127.0.0.1", "x-y.z", ""]
    rng, plain = random.Random(7), 0
    for _ in range(20_000):
        link = rng.choice(starts) + rng.choice(hosts) + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        try:
            expected = urlsplit(link)
        except ValueError:  # urllib refuses it (a bracket that is no IPv6 host): so must split_url
            with pytest.raises(ValueError):
                split_url(link)
            continue
        assert split_url(link) == expected, link
        for base in ("http://b.org/d/e.htm", "https://127.0.0.1:9/sitemap.xml"):
            assert absolute_url(link, base) == (urldefrag(urljoin(base, link.strip()))[0] if link.strip() else "")
        plain += link.startswith(("http://a", "https://a")) and not set(link) & set("?#;[]\\ \t\né\x7f")
    assert plain > 100  # the one-match way was taken often enough to be tested
