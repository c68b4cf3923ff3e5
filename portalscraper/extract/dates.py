"""Date texts as portals publish them, parsed into ISO 8601 with their precision kept.

Built on python-dateutil, which fills fields missing from the text (day, month, year) from a
default date; the parser here detects which fields the text really has, so `September 2012`
becomes `2012-09` and never takes today's day. Impossible dates give `None` and a reason.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

Precision = Literal["year", "month", "day", "minute", "second"]

# Month words, English and French, with and without a period, mapped to English abbreviations.
_MONTH_WORDS = {
    "jan": "Jan", "january": "Jan", "janv": "Jan", "janvier": "Jan",
    "feb": "Feb", "february": "Feb", "fév": "Feb", "fev": "Feb", "févr": "Feb", "fevr": "Feb",
    "février": "Feb", "fevrier": "Feb",
    "mar": "Mar", "march": "Mar", "mars": "Mar",
    "apr": "Apr", "april": "Apr", "avr": "Apr", "avril": "Apr",
    "may": "May", "mai": "May",
    "jun": "Jun", "june": "Jun", "juin": "Jun",
    "jul": "Jul", "july": "Jul", "juil": "Jul", "juillet": "Jul",
    "aug": "Aug", "august": "Aug", "août": "Aug", "aout": "Aug",
    "sep": "Sep", "sept": "Sep", "september": "Sep", "septembre": "Sep",
    "oct": "Oct", "october": "Oct", "octobre": "Oct",
    "nov": "Nov", "november": "Nov", "novembre": "Nov",
    "dec": "Dec", "december": "Dec", "déc": "Dec", "décembre": "Dec", "decembre": "Dec",
}
_MONTH = "(?:" + "|".join(sorted(map(re.escape, _MONTH_WORDS), key=len, reverse=True)) + r")\.?"
_DAY = r"(?:[0-3]?\d)(?:er|st|nd|rd|th)?"
_YEAR = r"(?:1[89]|20)\d\d"
_TIME = r"(?:,?\s+(?:à\s+|at\s+)?[0-2]?\d[:h][0-5]\d(?::[0-5]\d)?)?"
_DATE_FORMS = (
    rf"{_DAY}[\s-]+{_MONTH}[\s-]*{_YEAR}",  # 13 Sep. 2012, 09-May-2006, 1er mai 2012
    rf"{_MONTH}\s+{_DAY},?\s+{_YEAR}",  # September 13, 2012
    r"\d{4}-\d\d-\d\d(?:T\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?",  # ISO 8601
    rf"[0-3]?\d(?:\.[01]?\d\.|/[01]?\d/){_YEAR}",  # 13.09.2012, 13/09/2012: day first, as European portals write
    rf"{_MONTH}\s+{_YEAR}",  # September 2012
)
_DATE = "(?:" + "|".join(_DATE_FORMS) + ")"
_DASH = r"\s*[-–—]\s*"
# An optional weekday before a date: "Thursday, 20 September 2012", "jeudi 20 septembre 2012".
WEEKDAY = (r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+"
           r"|(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche),?\s+)?")
# A date, a range of dates, an open range with a trailing dash, or a range of days in one month.
_RANGE_TO = rf"(?:{_DASH}|\s+(?:to|au|until|jusqu'au)\s+)"
DATE_TEXT_RE = re.compile(
    rf"(?<![\w-])(?:[0-3]?\d{_DASH}{_DATE}|{_DATE}{_TIME}(?:{_RANGE_TO}{_DATE}|\s+[-–—](?!\s*\w))?)(?![\w])",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"[^\W\d_]+\.?", re.UNICODE)
_UPDATED_LABEL_RE = re.compile(
    r"^\s*(?:page\s+)?(?:last\s+)?(?:update[ds]?|modified|revised|mis\s+à\s+jour(?:\s+le)?|dernière\s+mise\s+à\s+jour"
    r"|published|publié(?:\s+le)?|posted(?:\s+on)?)\s*(?:on\s+)?:?\s*",
    re.IGNORECASE,
)
UPDATED_LINE_RE = re.compile(
    r"(?:page\s+)?(?:last\s+)?(?:update[ds]?|modified|revised|mis\s+à\s+jour\s+le|dernière\s+mise\s+à\s+jour)"
    r"\s*(?:on\s+)?:?\s*"
    + WEEKDAY + _DATE + _TIME,
    re.IGNORECASE,
)
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


def _normalize_words(text: str) -> str:
    def month(m: re.Match[str]) -> str:
        word = m.group(0)
        key = word.rstrip(".").lower()
        if key in _MONTH_WORDS:
            return _MONTH_WORDS[key]
        return "" if key in ("le", "the", "on", "à", "at", "er") else word

    text = re.sub(r"\b(\d{1,2})(?:er|st|nd|rd|th)\b", r"\1", text, flags=re.IGNORECASE)
    text = re.sub(r"(\d)h(\d\d)\b", r"\1:\2", text)
    return " ".join(_WORD_RE.sub(month, text).split())


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


_MONTH_NUMBERS = {name: n for n, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
# The portal's own forms, after _normalize_words: `13 Sep 2012`, `20-Sep-2012 14:26`. Parsed here;
# anything else goes to dateutil.
_COMMON_RE = re.compile(
    r"(\d{1,2})[\s-]+(" + "|".join(_MONTH_NUMBERS) + r")[\s-]+(\d{4})(?:,?\s+(\d{1,2}):(\d\d)(?::(\d\d))?)?")


def _parse_common(text: str) -> tuple[dt.datetime, set[str]] | str | None:
    m = _COMMON_RE.fullmatch(text)
    if m is None:
        return None
    day, month, year, hour, minute, second = m.groups()
    try:
        moment = dt.datetime(int(year), _MONTH_NUMBERS[month], int(day), int(hour or 0), int(minute or 0),
                             int(second or 0))
    except ValueError as exc:
        return str(exc)
    return moment, {"year", "month", "day", *(("time",) if hour else ())}


def _parse(raw: str) -> tuple[dt.datetime, set[str]] | str:
    """The datetime and the set of fields the text really has, or the reason it failed."""
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
        one, two = (dateutil_parser.parse(text, default=d, dayfirst=dayfirst) for d in _DEFAULTS)
    except (ValueError, OverflowError) as exc:
        message = str(exc).split(":")[0]
        if "out of range" in message or "must be in" in message:
            return f"impossible date {raw!r}: {message}"
        return f"not a date: {raw!r}"
    fields = {name for name in ("year", "month", "day") if getattr(one, name) == getattr(two, name)}
    if re.search(r"\d[:h]\d\d", text):
        fields.add("time")
    return one, fields


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
    return _with_text(parse_datetime(_UPDATED_LABEL_RE.sub("", raw), tz), raw)


def _with_text(parsed: ParsedDate, text: str) -> ParsedDate:
    return ParsedDate(text, parsed.value, parsed.precision, parsed.reason)


def parse_date_range(text: str | None) -> DateRange:
    """Parse a date text that may be a range: `13 Sep. 2012 - 14 Sep. 2012`, an open `28 Aug.
    2012 -`, `13-14 Sep. 2012`, or a single date. The end is None unless the text names one."""
    raw = (text or "").strip()
    if not raw:
        return DateRange(raw, None, None, reason="no date text")
    body = re.sub(r"\s*[-–—]$", "", raw)  # an open range: the portal's usual single-date form
    days = re.fullmatch(r"([0-3]?\d)\s*[-–—]\s*([0-3]?\d)\s+(.+)", body)
    if days:
        parts = [f"{days[1]} {days[3]}", f"{days[2]} {days[3]}"]
    else:
        parts = [p for p in re.split(r"\s+[-–—]\s+|\s*[–—]\s*|\s+(?:to|au)\s+", body) if p]
    if len(parts) == 1:
        one = parse_date(parts[0])
        return DateRange(raw, one.value, None, one.precision, one.reason)
    if len(parts) != 2:
        return DateRange(raw, None, None, reason=f"not a date or a range of two dates: {raw!r}")
    start, end = parse_date(parts[0]), parse_date(parts[1])
    if start.value is None and end.value and start.reason and start.reason.startswith("no year"):
        start = parse_date(f"{parts[0]} {end.value[:4]}")  # `13 Sep. - 14 Sep. 2012`
    if start.value is None or end.value is None:
        return DateRange(raw, None, None, reason=start.reason or end.reason)
    if end.value < start.value:
        return DateRange(raw, None, None, reason=f"the range ends before it starts: {raw!r}")
    if end.value == start.value:
        return DateRange(raw, start.value, None, start.precision)
    return DateRange(raw, start.value, end.value, start.precision)


def find_date_text(text: str) -> str | None:
    """The first date or date range in a longer text, as written there, or None."""
    m = DATE_TEXT_RE.search(text)
    return m.group(0).strip() if m else None


def find_updated_text(text: str) -> str | None:
    """The first "Last updated ..." / "Mis à jour le ..." / "Updated: ..." phrase in a text."""
    m = UPDATED_LINE_RE.search(text)
    return m.group(0).strip() if m else None
