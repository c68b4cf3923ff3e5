"""Date parsing: real portal strings, precision kept, impossible dates refused with a reason."""

from __future__ import annotations

import pytest

from portalscraper.extract.dates import (
    find_date_text,
    find_updated_text,
    parse_date,
    parse_date_range,
    parse_datetime,
    parse_updated,
)


@pytest.mark.parametrize(
    ("text", "value", "precision"),
    [
        ("13 Sep. 2012", "2012-09-13", "day"),
        ("06 Sep. 2012", "2012-09-06", "day"),
        ("5 Feb. 2012", "2012-02-05", "day"),
        ("30 May. 2012", "2012-05-30", "day"),
        ("30 May 2012", "2012-05-30", "day"),
        ("13 Sept. 2012", "2012-09-13", "day"),
        ("13 Sep 2012", "2012-09-13", "day"),
        ("13 September 2012", "2012-09-13", "day"),
        ("September 13, 2012", "2012-09-13", "day"),
        ("Sept. 13, 2012", "2012-09-13", "day"),
        ("09-May-2006", "2006-05-09", "day"),
        ("13 sept. 2012", "2012-09-13", "day"),
        ("30 mai 2012", "2012-05-30", "day"),
        ("1er août 2012", "2012-08-01", "day"),
        ("19 févr. 2012", "2012-02-19", "day"),
        ("3 décembre 2011", "2011-12-03", "day"),
        ("2012-09-13", "2012-09-13", "day"),
        ("Thu, 13 Sep 2012 14:26:00 +0200", "2012-09-13", "day"),
        ("September 2012", "2012-09", "month"),
        ("Sep. 2012", "2012-09", "month"),
        ("septembre 2012", "2012-09", "month"),
        ("2012-09", "2012-09", "month"),
        ("2012", "2012", "year"),
    ],
)
def test_parse_date(text: str, value: str, precision: str) -> None:
    parsed = parse_date(text)
    assert (parsed.value, parsed.precision, parsed.reason) == (value, precision, None)
    assert parsed.text == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("31 Feb. 2012", "impossible date '31 Feb. 2012': day is out of range for month"),
        ("30 février 2012", "impossible date '30 février 2012': day is out of range for month"),
        ("2012-02-30", "impossible date '2012-02-30': day is out of range for month"),
        ("13 Sep.", "no year in '13 Sep.'"),
        ("last week", "not a date: 'last week'"),
        ("", "no date text"),
    ],
)
def test_impossible_or_missing_dates_give_none_and_a_reason(text: str, reason: str) -> None:
    parsed = parse_date(text)
    assert parsed.value is None
    assert parsed.reason == reason


def test_partial_dates_never_take_todays_day_or_month() -> None:
    # python-dateutil alone fills the missing day and month from today.
    assert parse_date("September 2012").value == "2012-09"
    assert parse_date("2012").value == "2012"
    assert parse_date("February 2012").value == "2012-02"


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("13 Sep. 2012 - 14 Sep. 2012", "2012-09-13", "2012-09-14"),
        ("28 Aug. 2012 -", "2012-08-28", None),
        ("21 May. 2012", "2012-05-21", None),
        ("13-14 Sep. 2012", "2012-09-13", "2012-09-14"),
        ("13 Sep. - 14 Sep. 2012", "2012-09-13", "2012-09-14"),
        ("30 Nov. 2012 – 2 Dec. 2012", "2012-11-30", "2012-12-02"),
        ("13 Sep. 2012 - 13 Sep. 2012", "2012-09-13", None),
        ("September 2012 - October 2012", "2012-09", "2012-10"),
    ],
)
def test_parse_date_range(text: str, start: str, end: str | None) -> None:
    parsed = parse_date_range(text)
    assert (parsed.start, parsed.end, parsed.reason) == (start, end, None)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("14 Sep. 2012 - 13 Sep. 2012", "the range ends before it starts: '14 Sep. 2012 - 13 Sep. 2012'"),
        ("31 Feb. 2012 -", "impossible date '31 Feb. 2012': day is out of range for month"),
    ],
)
def test_bad_ranges(text: str, reason: str) -> None:
    parsed = parse_date_range(text)
    assert (parsed.start, parsed.end, parsed.reason) == (None, None, reason)


@pytest.mark.parametrize(
    ("text", "tz", "value"),
    [
        ("Last updated: 20 Sep. 2012 14:26", None, "2012-09-20T14:26"),
        ("Last updated: 20 Sep. 2012 14:26", "Europe/Brussels", "2012-09-20T14:26+02:00"),
        ("Mis à jour le: 19 Oct. 2012 12:39", "Europe/Brussels", "2012-10-19T12:39+02:00"),
        ("Last updated 29-Feb-2012 14:51", "Europe/Brussels", "2012-02-29T14:51+01:00"),
        ("Updated: 09-May-2006", None, "2006-05-09"),
        ("Page Updated: 06-Feb-2009", None, "2009-02-06"),
        ("Published 13 September 2012", None, "2012-09-13"),
        ("2012-09-13T10:00:00Z", "Europe/Brussels", "2012-09-13T10:00:00+00:00"),
    ],
)
def test_parse_updated(text: str, tz: str | None, value: str) -> None:
    parsed = parse_updated(text, tz)
    assert (parsed.value, parsed.reason) == (value, None)
    assert parsed.text == text


def test_parse_datetime_keeps_seconds_and_refuses_incomplete() -> None:
    assert parse_datetime("Thu, 13 Sep 2012 14:26:05 +0200").value == "2012-09-13T14:26:05+02:00"
    assert parse_datetime("Sep. 2012 14:26").reason == "an incomplete date in 'Sep. 2012 14:26'"
    assert parse_updated("Last updated: 31 Feb. 2012 14:26").value is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Supporting defence 13 Sep. 2012 - 14 Sep. 2012 The first ever", "13 Sep. 2012 - 14 Sep. 2012"),
        ("Afghan National Army 23 Aug. 2012 Soldiers with", "23 Aug. 2012"),
        ("On Monday July 2, 2012 German security", "July 2, 2012"),
        ("signed in Washington, DC in 1949. As NATO", None),
        ("Chicago: right city, right time", None),
    ],
)
def test_find_date_text(text: str, found: str | None) -> None:
    assert find_date_text(text) == found


def test_find_updated_text() -> None:
    assert find_updated_text("13 Sep. 2012 - | Last updated: 20 Sep. 2012 14:26 next") == (
        "Last updated: 20 Sep. 2012 14:26"
    )
    assert find_updated_text("Mis à jour le: 19 Oct. 2012 12:39") == "Mis à jour le: 19 Oct. 2012 12:39"
    assert find_updated_text("nothing updated here") is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2012-09-12T10:00:00+02:00", "2012-09-12"),  # year first: never read as year-day-month
        ("2012-09-06 10:00", "2012-09-06"),
        ("2012/09/06", "2012-09-06"),
        ("06/09/2012", "2012-09-06"),  # day first otherwise
        ("06.09.2012", "2012-09-06"),
    ],
)
def test_year_first_and_day_first(text: str, value: str) -> None:
    assert parse_date(text).value == value
    assert parse_date_range(text).start == value


def test_iso_datetimes_keep_month_and_day() -> None:
    assert parse_updated("2012-09-07T16:05:00+02:00").value == "2012-09-07T16:05:00+02:00"
    assert parse_updated("Modified: 2012-09-07 16:05", "Europe/Brussels").value == "2012-09-07T16:05+02:00"


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("28 November - 6 December 2011", "2011-11-28", "2011-12-06"),
        ("28 May - 1 June 2012", "2012-05-28", "2012-06-01"),
        ("2 July - 10 August 2012", "2012-07-02", "2012-08-10"),
        ("May 28 - June 1, 2012", "2012-05-28", "2012-06-01"),
        ("28 December - 3 January 2012", "2011-12-28", "2012-01-03"),
        ("14. - 16. Mai 2012", "2012-05-14", "2012-05-16"),
    ],
)
def test_ranges_whose_start_takes_month_and_year_from_the_end(text: str, start: str, end: str) -> None:
    found = find_date_text(f"Workshop, {text}, Panama City")
    assert found == text
    assert (parse_date_range(found).start, parse_date_range(found).end) == (start, end)


# Texts that ask for dateutil's second parse (a field alike the first default's: January, the first
# of a month, the year 1904) and texts that need only one, each with its precision.
@pytest.mark.parametrize(
    ("text", "value", "precision"),
    [
        ("Tuesday, the 14th of January 2020", "2020-01-14", "day"),
        ("Jan. 2020", "2020-01", "month"),
        ("1 January 1904", "1904-01-01", "day"),
        ("January 1904", "1904-01", "month"),
        ("March the 1st, 2019", "2019-03-01", "day"),
        ("March 13, 1904", "1904-03-13", "day"),
        ("Sat, the 13th of Sep, 2014", "2014-09-13", "day"),
        ("Sep, 2014", "2014-09", "month"),
    ],
)
def test_dates_dateutil_reads(text: str, value: str, precision: str) -> None:
    parsed = parse_date(text)
    assert (parsed.value, parsed.precision) == (value, precision)


# Dates whose first digit stands a month's word, a dot and several spaces after their start: the
# pattern's look-ahead must let them through.
@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Opublikowano: 3 października 2019 r.", "3 października 2019"),
        ("październik   2019 w Polsce", "październik   2019"),
        ("Dated Sept.\n\n  13, 2012, in Brussels", "Sept.\n\n  13, 2012"),
        ("Vom 14.-16. März 2012", "14.-16. März 2012"),
        ("no digit here, only September", None),
    ],
)
def test_find_date_text_after_long_month_words(text: str, found: str | None) -> None:
    assert find_date_text(text) == found


def test_the_plain_forms_read_as_written_give_what_the_rewriting_gives() -> None:
    """`13 Sep. 2012` and its kin are read before the month words are rewritten (the crawl's usual
    dates, read fast): the same moment and fields, or the same refusal, as the rewriting and the
    common forms give; and texts that are not plainly so are left to them."""
    from itertools import product

    from portalscraper.extract.dates import _normalize_words, _parse_common, _parse_plain

    days, words = ("1", "13", "31", "00", "7"), ("Sep.", "September", "sept.", "Sept", "mai", "août", "Februar",
                                                  "Feb", "FEB", "février", "May.", "de", "Mon", "June")
    ends = ("2012", "2012 14:26", "2012, 14:26", "2012 9:05:07", "2012 25:00")
    plain = 0
    for day, word, sep, end in product(days, words, (" ", "-", "\u00a0", "  ", " - "), ends):
        text = f"{day}{sep}{word}{sep}{end}"
        found = _parse_plain(text)
        if found is not None:
            plain += 1
            assert found == _parse_common(_normalize_words(text)), text
    assert plain > 1000  # most of them are plain
    assert _parse_plain("31 Feb 2012") == _parse_common("31 Feb 2012") == "day is out of range for month"
    for text in ("Mon 13 Sep 2012", "13 de mayo de 2012", "13. Sep 2012", "13th Sep 2012", "13 Sep 2012 CET",
                 "Sep 13, 2012", "13 Mon 2012", "13 Sep 12"):
        assert _parse_plain(text) is None, text
