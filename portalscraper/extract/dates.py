"""Date texts as portals publish them, parsed into ISO 8601 with their precision kept.

Built on python-dateutil, which fills fields missing from the text (day, month, year) from a
default date; the parser here detects which fields the text really has, so `September 2012`
becomes `2012-09` and never takes today's day. Impossible dates give `None` and a reason.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

from portalscraper.extract.lexicon import (
    MONTH_WORDS,
    PUBLISHED_LABELS,
    UPDATED_LABELS,
    WEEKDAY_WORDS,
    alternation,
)

Precision = Literal["year", "month", "day", "minute", "second"]

_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Month words of every language in the lexicon, mapped to English abbreviations for the parsers.
_MONTH_WORDS = {word: _MONTH_ABBR[number - 1] for word, number in MONTH_WORDS.items()}
_MONTH = alternation(MONTH_WORDS) + r"\.?"
_DAY = r"(?:[0-3]?\d)(?:er|st|nd|rd|th|º|°)?"
_YEAR = r"(?:1[89]|20)\d\d"
# Time-zone abbreviations as news sites print them after a time ("5:00 PM EST"), with their offsets
# in hours. One meaning each: IST is India's (the most published), BST British summer time.
_ZONE_HOURS = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "IST": 5.5, "CET": 1, "CEST": 2, "MEZ": 1,
    "MESZ": 2, "EET": 2, "EEST": 3, "MSK": 3, "EST": -5, "EDT": -4, "ET": -5, "CST": -6, "CDT": -5, "CT": -6,
    "MST": -7, "MDT": -6, "MT": -7, "PST": -8, "PDT": -7, "PT": -8, "AKST": -9, "AKDT": -8, "HST": -10,
    "JST": 9, "KST": 9, "HKT": 8, "SGT": 8, "PHT": 8, "AWST": 8, "ACST": 9.5, "AEST": 10, "AEDT": 11,
    "NZST": 12, "NZDT": 13, "WIB": 7, "ICT": 7, "PKT": 5, "GST": 4, "SAST": 2, "CAT": 2, "EAT": 3, "WAT": 1,
    "BRT": -3, "ART": -3,
}
TZINFOS = {name: dt.timezone(dt.timedelta(hours=hours), name) for name, hours in _ZONE_HOURS.items()}
_ZONE_RE = re.compile(r"(?<![A-Za-z])(" + "|".join(sorted(_ZONE_HOURS, key=len, reverse=True)) + r")(?![A-Za-z])")
# A time after a date: `, 14:26`, `à 14h26`, `| 14:07 Uhr`, `at 9:14 am`, `um 10:31`.
_TIME = (r"(?:\s*[,|·]?\s*(?:(?:à|at|um|alle|às|a\s+las|kl\.?|klo|saat)\s+)?[0-2]?\d[:h][0-5]\d(?::[0-5]\d)?"
         r"(?:\s*(?:uhr|h|[ap]\.?m\.?)(?![^\W\d_]))?"
         r"(?:\s*(?-i:" + "|".join(sorted(_ZONE_HOURS, key=len, reverse=True)) + r")(?![A-Za-z]))?)?")
# Letters and digits of the alphabets whose words are separated by spaces: a date is not part of
# a longer word there (`25.04.24` in `v25.04.24b`). CJK text has no spaces: a date may touch it.
_WORDISH = r"0-9A-Za-z\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF"
_DATE_FORMS = (
    # 13 Sep. 2012, 09-May-2006, 1er mai 2012, 14. Februar 2012, 14 de febrero de 2012
    rf"{_DAY}\.?[\s-]*(?:de\s+|of\s+)?{_MONTH}[\s-]*(?:de\s+|del\s+)?,?\s*{_YEAR}",
    rf"{_MONTH}\s+{_DAY},?\s+{_YEAR}",  # September 13, 2012
    r"\d{4}-\d\d-\d\d(?:T\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?",  # ISO 8601
    # 13.09.2012, 13/09/2012, 13-09-2012: day first, as European portals write
    rf"[0-3]?\d(?:\.\s?[01]?\d\.\s?|/[01]?\d/|-[01]?\d-){_YEAR}",
    r"[0-3]?\d\.[01]?\d\.\d\d(?![\d.])",  # 25.04.24: a two-digit year
    rf"{_YEAR}[/.][01]?\d[/.][0-3]?\d",  # 2012/09/13, 2012.09.13
    rf"{_YEAR}\.?\s+{_MONTH}\s+{_DAY}\.?",  # 2012. szeptember 13. (year first, Hungarian)
    rf"{_YEAR}\s*年\s*[01]?\d\s*月\s*[0-3]?\d\s*日",  # 2012年9月13日
    rf"{_YEAR}\s*년\s*[01]?\d\s*월\s*[0-3]?\d\s*일",  # 2012년 9월 13일
    rf"{_MONTH}\s+{_YEAR}",  # September 2012
)
_DATE = "(?:" + "|".join(_DATE_FORMS) + ")"
_DASH = r"\s*[-–—]\s*"
# An optional weekday before a date: "Thursday, 20 September 2012", "jeudi 20 septembre 2012", "Do 25.04.24".
WEEKDAY = rf"(?:{alternation(WEEKDAY_WORDS)}\.?,?\s+)?"
# A date, a range of dates, an open range with a trailing dash, or a range of days in one month.
_RANGE_TO = rf"(?:{_DASH}|\s+(?:to|au|until|jusqu'au|bis|al)\s+)"
# The first part of a range may lack the year, and the month: "28 November - 6 December 2011",
# "May 28 - June 1, 2012", "13-14 Sep. 2012"; it takes them from the second.
_PARTIAL_START = rf"(?:{_DAY}\.?\s*(?:de\s+)?{_MONTH}|{_MONTH}\s+{_DAY}|[0-3]?\d\.?)"
# Every date has a digit, at most a month's word, a dot and spaces after its start: looked ahead for
# first, so that the many forms below are tried only where a date may start (a search over a page's
# running text takes a quarter of the time; what matches is the same). A month's word is spelled
# with the letters of the lexicon's months, not with any letter: in Chinese or Japanese text, where
# every character is a letter, a position is not read a dozen characters ahead for a digit.
_MONTH_LETTERS = re.escape("".join(sorted({char for word in MONTH_WORDS for char in word})))
_DIGIT_AHEAD = rf"(?=[{_MONTH_LETTERS}]{{0,{max(map(len, MONTH_WORDS))}}}\.?\s*\d)"
DATE_TEXT_RE = re.compile(
    rf"(?<![{_WORDISH}-]){_DIGIT_AHEAD}(?:{_PARTIAL_START}{_RANGE_TO}{_DATE}|{_DATE}{_TIME}(?:{_RANGE_TO}{_DATE}"
    rf"|\s+[-–—](?!\s*\w))?)(?![{_WORDISH}])",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"[^\W\d_]+\.?", re.UNICODE)
_LABEL_TAIL = r"(?:\s+(?:on|am|le|el|il|em|op|at|the))?\s*:?\s*"
_ANY_LABEL_RE = re.compile(
    r"^\s*" + alternation({*PUBLISHED_LABELS, *UPDATED_LABELS}) + _LABEL_TAIL, re.IGNORECASE)


def _initials(words: tuple[str, ...]) -> str:
    """A look-ahead for the first letters of `words`: one test where a word may start, before the
    branches of their alternation."""
    return "(?=[" + "".join(sorted({re.escape(word[0]) for word in words})) + "])"


UPDATED_LINE_RE = re.compile(
    rf"(?<![{_WORDISH}])" + _initials(UPDATED_LABELS) + alternation(UPDATED_LABELS) + _LABEL_TAIL + WEEKDAY
    + _DATE + _TIME, re.IGNORECASE)
PUBLISHED_LINE_RE = re.compile(
    rf"(?<![{_WORDISH}])" + _initials(PUBLISHED_LABELS) + alternation(PUBLISHED_LABELS) + _LABEL_TAIL + WEEKDAY
    + f"({DATE_TEXT_RE.pattern})", re.IGNORECASE)
_TIME_ONLY = re.compile(r"[0-2]?\d[:h.][0-5]\d(?::[0-5]\d)?\s*(?:uhr|h|[ap]\.?m\.?)?(?:\s+[A-Z]{2,4})?", re.IGNORECASE)
_DEFAULTS = (dt.datetime(1904, 1, 1), dt.datetime(1908, 2, 2))


@dataclass(frozen=True)
class ParsedDate:
    """One parsed date: `value` is ISO 8601 at the text's own precision, or None with a `reason`."""

    text: str
    value: str | None
    precision: Precision | None = None
    reason: str | None = None


@dataclass(frozen=True)
class DateRange:
    """A date text that may be a range: `end` is None unless the text names an end."""

    text: str
    start: str | None
    end: str | None
    precision: Precision | None = None
    reason: str | None = None


_FILLERS = frozenset({"le", "the", "on", "à", "at", "er", "de", "del", "of", "um", "uhr", "alle", "às", "las", "el",
                      "il", "em", "op", "den", "kl", "klo", "saat", "a"})
_CJK_DATE_RE = re.compile(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]")


def _normalize_words(text: str) -> str:
    """Month words of any language as English abbreviations; weekdays, fillers ("de", "Uhr") and
    label words gone; ordinal marks and day dots dropped: `Do 14. Februar 2012, 14:07 Uhr` reads
    `14 Feb 2012, 14:07`."""
    def word(m: re.Match[str]) -> str:
        found = m.group(0)
        key = found.rstrip(".").lower()
        if key in _MONTH_WORDS:
            return _MONTH_WORDS[key]
        if key in WEEKDAY_WORDS or key in _FILLERS:
            return ""
        return found

    text = _CJK_DATE_RE.sub(r"\1-\2-\3", text)
    text = re.sub(r"\b(\d{1,2})(?:er|st|nd|rd|th|º|°)(?![^\W\d_])", r"\1", text, flags=re.IGNORECASE)
    text = re.sub(r"(\d)h(\d\d)\b", r"\1:\2", text)
    text = re.sub(r"(\d{4},?\s+(?:at\s+)?[0-2]?\d)\.([0-5]\d)\b", r"\1:\2", text)  # "2019 17.00 GMT"
    text = re.sub(r"\bam\s+(?=\d)", "", text, flags=re.IGNORECASE)  # German "am 14. Februar"
    text = re.sub(r"\b(\d{1,2})\.\s*(?=[^\W\d_])", r"\1 ", text)  # "14. Februar"
    text = re.sub(r"(?<![\d.])(\d{1,2})\.\s+(\d{1,2})\.\s+(\d{2,4})\b", r"\1.\2.\3", text)  # "13. 09. 2012"
    text = _WORD_RE.sub(word, text)
    return " ".join(text.replace(" |", " ").replace("| ", " ").split()).strip(" ,.")


def _iso_precision(text: str) -> ParsedDate | None:
    m = re.fullmatch(r"(\d{4})(?:-(\d\d)(?:-(\d\d))?)?", text)
    if not m:
        return None
    year, month, day = m.groups()
    try:
        dt.date(int(year), int(month or 1), int(day or 1))
    except ValueError as exc:
        return ParsedDate(text, None, reason=f"impossible date {text!r}: {exc}")
    precision: Precision = "day" if day else "month" if month else "year"
    return ParsedDate(text, text, precision)


_MONTH_NUMBERS = {name: n for n, name in enumerate(_MONTH_ABBR, 1)}
# The commonest forms, after _normalize_words, parsed here; anything else goes to dateutil.
_TIME_GROUPS = r"(?:,?\s+(\d{1,2}):(\d\d)(?::(\d\d))?)?"
# 13 Sep 2012, 20-Sep-2012 14:26; as pages write it too (`13 Sep. 2012`, `30 mai 2012`), read without
# _normalize_words' rewriting when its word is a month's, to the same result.
_PLAIN_RE = re.compile(r"(\d{1,2})[\s-]+([^\W\d_]+)\.?[\s-]+,?\s*(\d{4})" + _TIME_GROUPS)
_NUMERIC_RE = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d\d)" + _TIME_GROUPS)  # 13.09.2012, 25.04.24


def _century(two_digits: str) -> int:
    """A two-digit year in the century that puts it nearest to today (`24` is 2024, `98` 1998)."""
    year = 2000 + int(two_digits)
    return year if year <= dt.date.today().year + 20 else year - 100


def _parse_plain(raw: str) -> tuple[dt.datetime, frozenset[str]] | str | None:
    if (m := _PLAIN_RE.fullmatch(raw)) is None or (month := _MONTH_WORDS.get(m[2].lower())) is None:
        return None
    day, _, year, hour, minute, second = m.groups()
    return _moment(day, _MONTH_NUMBERS[month], year, hour, minute, second)


def _parse_common(text: str) -> tuple[dt.datetime, frozenset[str]] | str | None:
    if (plain := _parse_plain(text)) is not None:
        return plain
    if (m := _NUMERIC_RE.fullmatch(text)) is None:
        return None
    day, month, year, hour, minute, second = m.groups()
    return _moment(day, int(month), str(_century(year)) if len(year) == 2 else year, hour, minute, second)


def _moment(day: str, month_number: int, year: str, hour: str | None, minute: str | None,
            second: str | None) -> tuple[dt.datetime, frozenset[str]] | str:
    try:
        moment = dt.datetime(int(year), month_number, int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError as exc:
        return str(exc)
    return moment, frozenset({"year", "month", "day", *(("time",) if hour else ())})


_ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d(?::?\d\d)?)?")
_ISO_FIELDS = frozenset({"year", "month", "day", "time"})


@lru_cache(maxsize=1024)
def _parse(raw: str) -> tuple[dt.datetime, frozenset[str]] | str:
    """The datetime and the set of fields the text really has, or the reason it failed. (Pages
    repeat their dates, and the extraction asks about the same texts more than once: cached.)"""
    if _ISO_MOMENT.fullmatch(raw):  # metadata's usual form: the standard library reads it exactly
        try:
            return dt.datetime.fromisoformat(raw), _ISO_FIELDS
        except ValueError:
            pass
    if (common := _parse_plain(raw)) is None:
        text = _normalize_words(raw)
        common = _parse_common(text)
    if isinstance(common, str):
        return f"impossible date {raw!r}: {common}"
    if common is not None:
        return common
    # Day first, as European portals write 13/09/2012; but never for year-first (ISO 8601) forms,
    # which dateutil would read as year-day-month.
    dayfirst = not re.match(r"\d{4}[-/.]\d", text)
    try:
        with warnings.catch_warnings():  # a word dateutil takes for an unknown zone: not the user's business
            warnings.simplefilter("ignore", dateutil_parser.UnknownTimezoneWarning)
            one = dateutil_parser.parse(text, default=_DEFAULTS[0], dayfirst=dayfirst, tzinfos=TZINFOS)
            # A field unlike the first default's is the text's own; only when one is alike is the
            # text parsed again with the second default, to tell (most dates: one parse, not two).
            alike = one.year == _DEFAULTS[0].year or one.month == _DEFAULTS[0].month or one.day == _DEFAULTS[0].day
            two = dateutil_parser.parse(text, default=_DEFAULTS[1], dayfirst=dayfirst, tzinfos=TZINFOS) if alike \
                else one
    except (ValueError, OverflowError) as exc:
        message = str(exc).split(":")[0]
        if "out of range" in message or "must be in" in message:
            return f"impossible date {raw!r}: {message}"
        return f"not a date: {raw!r}"
    fields = {name for name in ("year", "month", "day") if getattr(one, name) == getattr(two, name)}
    if re.search(r"\d[:h]\d\d", text):
        fields.add("time")
    return one, frozenset(fields)


def parse_date(text: str | None) -> ParsedDate:
    """Parse one date: `13 Sep. 2012`, `Sept. 13, 2012`, `30 mai 2012`, `September 2012`, `2012`,
    ISO 8601, RFC 2822. The value keeps the text's precision (`2012-09`, `2012`)."""
    raw = (text or "").strip()
    if not raw:
        return ParsedDate(raw, None, reason="no date text")
    iso = _iso_precision(raw)
    if iso:
        return iso
    parsed = _parse(raw)
    if isinstance(parsed, str):
        return ParsedDate(raw, None, reason=parsed)
    moment, fields = parsed
    if "year" not in fields:
        return ParsedDate(raw, None, reason=f"no year in {raw!r}")
    if "day" in fields and "month" in fields:
        return ParsedDate(raw, moment.date().isoformat(), "day")
    if "month" in fields:
        return ParsedDate(raw, f"{moment.year:04d}-{moment.month:02d}", "month")
    if "day" in fields:
        return ParsedDate(raw, None, reason=f"a day without a month in {raw!r}")
    return ParsedDate(raw, f"{moment.year:04d}", "year")


def parse_datetime(text: str | None, tz: str | None = None) -> ParsedDate:
    """Parse a date with a time (`20 Sep. 2012 14:26`) into ISO 8601, to the minute or second.

    A text without a zone is taken in `tz` (an IANA name such as `Europe/Brussels`) when given,
    else kept naive. A text without a time gives its date at the date's precision.
    """
    raw = (text or "").strip()
    if not raw:
        return ParsedDate(raw, None, reason="no date text")
    parsed = _parse(raw)
    if isinstance(parsed, str):
        return ParsedDate(raw, None, reason=parsed)
    moment, fields = parsed
    if "time" not in fields and "T" not in raw:
        return parse_date(raw)
    if not {"year", "month", "day"} <= fields:
        return ParsedDate(raw, None, reason=f"an incomplete date in {raw!r}")
    if moment.tzinfo is None and tz:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    precision: Precision = "second" if moment.second or re.search(r"\d:\d\d:\d\d", raw) else "minute"
    return ParsedDate(raw, moment.isoformat(timespec="seconds" if precision == "second" else "minutes"), precision)


def parse_updated(text: str | None, tz: str | None = None) -> ParsedDate:
    """Parse an "updated" line: `Last updated: 20 Sep. 2012 14:26`, `Mis à jour le: 19 Oct. 2012
    12:39`, `Updated: 09-May-2006`, `Page Updated: 06-Feb-2009`, `Last updated 29-Feb-2012 14:51`."""
    raw = (text or "").strip()
    return _with_text(parse_datetime(_ANY_LABEL_RE.sub("", raw), tz), raw)


def _with_text(parsed: ParsedDate, text: str) -> ParsedDate:
    return ParsedDate(text, parsed.value, parsed.precision, parsed.reason)


@lru_cache(maxsize=1024)
def parse_date_range(text: str | None) -> DateRange:
    """Parse a date text that may be a range: `13 Sep. 2012 - 14 Sep. 2012`, an open `28 Aug.
    2012 -`, `13-14 Sep. 2012`, or a single date. The end is None unless the text names one."""
    raw = (text or "").strip()
    if not raw:
        return DateRange(raw, None, None, reason="no date text")
    body = re.sub(r"\s*[-–—]$", "", raw)  # an open range: the portal's usual single-date form
    days = re.fullmatch(r"([0-3]?\d)\.?\s*(?:[-–—]|\s(?:to|au|bis|al)\s)\s*([0-3]?\d)\.?\s+(.+)", body)
    if days:
        parts = [f"{days[1]} {days[3]}", f"{days[2]} {days[3]}"]
    else:
        parts = [p for p in re.split(r"\s+[-–—]\s+|\s*[–—]\s*|\s+(?:to|au)\s+", body) if p]
        if len(parts) == 2 and _TIME_ONLY.fullmatch(parts[1]):
            parts = [parts[0]]  # "19/11/2019 - 17:00": a date and its time
    if len(parts) == 1:
        one = parse_date(parts[0])
        return DateRange(raw, one.value, None, one.precision, one.reason)
    if len(parts) != 2:
        return DateRange(raw, None, None, reason=f"not a date or a range of two dates: {raw!r}")
    start, end = parse_date(parts[0]), parse_date(parts[1])
    if start.value is None and end.value and start.reason and start.reason.startswith("no year"):
        start = parse_date(f"{parts[0]} {end.value[:4]}")  # `13 Sep. - 14 Sep. 2012`, `28 November - 6 December 2011`
        if start.value and end.value and start.value > end.value:  # `28 December - 3 January 2012`
            start = parse_date(f"{parts[0]} {int(end.value[:4]) - 1}")
    if start.value is None or end.value is None:
        return DateRange(raw, None, None, reason=start.reason or end.reason)
    if end.value < start.value:
        return DateRange(raw, None, None, reason=f"the range ends before it starts: {raw!r}")
    if end.value == start.value:
        return DateRange(raw, start.value, None, start.precision)
    return DateRange(raw, start.value, end.value, start.precision)


_DIGIT = re.compile(r"\d")  # every date has one: a text without is not searched


def find_date_text(text: str) -> str | None:
    """The first date or date range in a longer text, as written there, or None."""
    m = DATE_TEXT_RE.search(text) if _DIGIT.search(text) else None
    return m.group(0).strip() if m else None


def find_updated_text(text: str) -> str | None:
    """The first "Last updated ..." / "Mis à jour le ..." / "Updated: ..." phrase in a text."""
    m = UPDATED_LINE_RE.search(text) if _DIGIT.search(text) else None
    return m.group(0).strip() if m else None


@lru_cache(maxsize=1024)
def instant(text: str | None) -> dt.datetime | None:
    """The moment a date text names, when it has a time and a zone (an offset, `Z`, or an
    abbreviation such as `EST`); None otherwise."""
    raw = (text or "").strip()
    if not raw or not re.search(r"\d[:h.]\d\d", raw):
        return None
    if not re.search(r"(?:Z|[+-]\d\d:?\d\d)$", raw) and not _ZONE_RE.search(raw):
        return None
    parsed = _parse(raw)
    if isinstance(parsed, str):
        return None
    moment, fields = parsed
    return moment if moment.tzinfo is not None and {"year", "month", "day", "time"} <= fields else None
