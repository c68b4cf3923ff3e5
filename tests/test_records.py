"""One record from a listing entry and its item page (`records.merge`), one row a case: which text
wins, and where each field came from."""

from __future__ import annotations

from typing import Any

import pytest

from portalscraper.extract.records import Identity, listing_hash, merge

IDENTITY = Identity(id="12be8b96a125acf6", portal="nato", kind="news",
                    url="https://www.nato.int/cps/en/natohq/news_91112.htm", language=None, section="News",
                    source_url="http://127.0.0.1:8080/cps/en/natolive/index.htm", crawl_language="en")
LISTED = {"title": "Defence education for Armenia", "date_text": "13 Sep. 2012", "summary": "NATO's aid."}
PAGE = {"title": "Supporting defence education in Armenia", "date_text": "13 Sep. 2012 - 14 Sep. 2012",
        "updated_text": "Last updated: 20 Sep. 2012 14:26", "body": "First.\n\nSecond.", "summary": "Meta summary.",
        "language": "fr", "provenance": {"title": "selector", "date_text": "selector", "updated_text": "selector",
                                         "body": "selector", "summary": "meta"}}


@pytest.mark.parametrize(
    ("listing", "detail", "site_title", "fields", "provenance"),
    [
        # The listing's texts win; the page adds what the listing lacks, with its own provenance.
        (LISTED, PAGE, "", {"title": LISTED["title"], "date_text": "13 Sep. 2012", "summary": "NATO's aid.",
                            "updated_text": PAGE["updated_text"], "body": PAGE["body"]},
         {"title": "listing", "date_text": "listing", "summary": "listing", "updated_text": "selector",
          "body": "selector"}),
        # No page (not fetched, or unchanged): the listing's texts alone.
        (LISTED, None, "", {**LISTED, "updated_text": None, "body": None},
         {"title": "listing", "date_text": "listing", "summary": "listing", "updated_text": None, "body": None}),
        # No listing entry (a sitemap's item): the page's texts alone.
        ({}, PAGE, "", {name: PAGE[name] for name in ("title", "date_text", "summary", "updated_text", "body")},
         PAGE["provenance"]),
        # A page's field without provenance is the page's.
        ({}, {"title": "A headline"}, "", {"title": "A headline"}, {"title": "page"}),
        # An empty listing text is no text: the page's is taken.
        ({**LISTED, "summary": ""}, PAGE, "", {"summary": "Meta summary."},
         {"summary": "meta"}),
        # A listing's title cut short ("...") yields to the page's full headline.
        ({**LISTED, "title": "Supporting defence education in Arm..."}, PAGE, "", {"title": PAGE["title"]},
         {"title": "selector"}),
        # A listing's title with no ellipsis but long enough, a prefix of the headline: cut too.
        ({**LISTED, "title": "Supporting defence education"}, PAGE, "", {"title": PAGE["title"]},
         {"title": "selector"}),
        # ... and a short one is the listing's own wording, kept.
        ({**LISTED, "title": "Supporting"}, PAGE, "", {"title": "Supporting"}, {"title": "listing"}),
        # The same text in both: the listing's.
        (LISTED, {**PAGE, "title": LISTED["title"]}, "", {"title": LISTED["title"]}, {"title": "listing"}),
        # A heuristic title that is only the site's name is no title.
        ({}, {"title": "NATO", "provenance": {"title": "heuristic"}}, "NATO - Homepage", {"title": None},
         {"title": None}),
        # ... but a title from the page's markup stays, whatever it says.
        ({}, {"title": "NATO", "provenance": {"title": "selector"}}, "NATO - Homepage", {"title": "NATO"},
         {"title": "selector"}),
    ],
)
def test_merge(listing: dict[str, Any], detail: dict[str, Any] | None, site_title: str, fields: dict[str, Any],
               provenance: dict[str, str]) -> None:
    record = merge(IDENTITY, listing, detail, site_title)
    assert {name: getattr(record, name) for name in fields} == fields
    assert {name: record.provenance.get(name) for name in fields} == provenance
    assert (record.id, record.url, record.kind, record.section) == (IDENTITY.id, IDENTITY.url, "news", "News")
    assert (record.fetched_at is None) is (detail is None)  # stamped when a page was read


@pytest.mark.parametrize(
    ("identity_language", "detail", "language"),
    [
        ("en", {"language": "fr"}, "en"),  # the URL's language first
        (None, {"language": "fr"}, "fr"),  # then the page's
        (None, {}, "en"),  # then the crawl's
        (None, None, "en"),
    ],
)
def test_the_records_language(identity_language: str | None, detail: dict[str, Any] | None, language: str) -> None:
    identity = Identity(**{**IDENTITY.__dict__, "language": identity_language})
    assert merge(identity, LISTED, detail).language == language


def test_listing_hash_folds_whitespace_and_tells_fields_apart() -> None:
    assert listing_hash(["A  title", "13 Sep.\n2012", None]) == listing_hash(["A title", "13 Sep. 2012", ""])
    assert listing_hash(["A", "B"]) != listing_hash(["AB", ""])  # a separator between fields
    assert len(listing_hash(["A"])) == 20
