"""Charts of an archive, drawn as SVG: items per month, and the homepage's items over time.

Pure functions over rows read from the archive (no Datasette, no Scrapy): `portalscraper serve`
shows them on its charts page, and they are tested as text. The SVG is plain (no script), so a
chart can also be saved and opened anywhere. Labels are chosen to fit: never two on top of each
other, never one cut at the edge, and each chart carries a one-line legend.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

WIDTH = 900
_FONT = 'font-family="sans-serif" font-size="11"'
# Width of a character of that font, generously (digits and capitals of a sans-serif at 11 px).
CHAR_WIDTH = 6.5
# Width of a character of a legend's words (mostly lower case).
_LEGEND_CHAR = 5.2
# Room between two labels.
_GAP = 10
# Months between two labels of the month axis, finest first: every month, quarters, half-years,
# years, then every 2, 5, 10, 20 and 50 years. Labels fall on calendar boundaries (January, April...).
_MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60, 120, 240, 600)
_BAR = "#3a6ea5"
_DOT = "#123"
_GRID = "#ddd"


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` ("YYYY-MM"), both included."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def month_labels(months: Sequence[str], step: float) -> list[tuple[int, str]]:
    """Which months of an axis to label, as (index, text), for bars `step` pixels apart: every month
    ("2012-09") when the labels fit, else the first month of each quarter, half-year, year ("2012")
    or run of years that leaves room between labels."""
    every = _MONTH_STEPS[-1]
    for every in _MONTH_STEPS:
        if every * step >= label_width("2012-09" if every < 12 else "2012") + _GAP:
            break
    chosen = [(i, month if every < 12 else month[:4]) for i, month in enumerate(months)
              if (int(month[:4]) * 12 + int(month[5:7]) - 1) % every == 0]
    return chosen or [(0, months[0] if every < 12 else months[0][:4])]


def label_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


def nice_ticks(top: int) -> list[int]:
    """Values for a count axis from 0 up to at least `top`: 0 and up to five round steps (1, 2 or 5 times
    a power of ten)."""
    unit = 1
    while True:
        for factor in (1, 2, 5):
            step = unit * factor
            if top <= step * 5:
                return list(range(0, step * -(-top // step) + 1, step))
        unit *= 10


def items_per_month(counts: Iterable[tuple[str, int]], height: int = 260) -> str:
    """A bar per month, months without items included (a gap in publishing shows as a gap)."""
    by_month = {month: n for month, n in counts if month}
    if not by_month:
        return _empty("No dated items in this archive yet.")
    months = months_between(min(by_month), max(by_month))
    ticks = nice_ticks(max(by_month.values()))
    left, right, top, bottom = 44, WIDTH - 10, 34, 28
    plot_h, base = height - top - bottom, height - bottom
    step = (right - left) / len(months)
    parts = [_legend(left, 14, [("bar", "items published in the month (their date_start)")])]
    for tick in ticks:
        y = base - plot_h * tick / ticks[-1]
        parts.append(f'<line class="tick" x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" '
                     f'stroke="{"#888" if tick == 0 else _GRID}"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {_FONT}>{tick}</text>')
    for i, month in enumerate(months):
        n = by_month.get(month, 0)
        if n:
            bar = plot_h * n / ticks[-1]
            parts.append(f'<rect class="bar" x="{left + i * step:.1f}" y="{base - bar:.1f}" '
                         f'width="{max(step - 1, 1):.1f}" height="{bar:.1f}" fill="{_BAR}">'
                         f'<title>{month}: {n} item{"s" * (n != 1)}</title></rect>')
    for i, text in month_labels(months, step):
        centre = left + (i + 0.5) * step
        parts.append(f'<line x1="{centre:.1f}" y1="{base}" x2="{centre:.1f}" y2="{base + 4}" stroke="#888"/>'
                     + _label(centre, base + 16, text))
    return _svg(height, "Items per month", parts)


@dataclass
class Stay:
    """An item's sightings on a page: when it was seen there (capture or crawl times), and the date the
    item was published (`date_start`), which orders items first seen together."""

    record_id: str
    title: str
    times: list[str] = field(default_factory=list)
    published: str | None = None


def stays(sightings: Iterable[tuple[str, str | None, str, str | None]]) -> list[Stay]:
    """Group (record id, title, time, published date) sightings by item, ordered by first sighting, then
    by published date (items without one last), then title."""
    found: dict[str, Stay] = {}
    for record_id, title, time, published in sightings:
        stay = found.setdefault(record_id, Stay(record_id, title or record_id, published=published))
        stay.times.append(time)
    for stay in found.values():
        stay.times = sorted(set(stay.times))
    return sorted(found.values(), key=lambda s: (s.times[0], s.published is None, s.published or "", s.title))


def time_labels(times: Sequence[str], x: dict[str, float]) -> list[tuple[str, str]]:
    """Which sighting times to label, as (time, text), so that no two labels meet: the first and the
    last always, others where there is room. A label is the full date, with the time of day (to the
    minute, else to the second) when that is what tells two sightings apart."""
    for cut in (10, 16, 19):
        if len({t[:cut] for t in times}) == len(times):
            break
    text = {t: t[:cut].replace("T", " ") for t in times}
    chosen = [times[0]] if len(times) == 1 else [times[0], times[-1]]

    def room(a: str, b: str) -> bool:
        return abs(x[a] - x[b]) >= (label_width(text[a]) + label_width(text[b])) / 2 + _GAP

    if len(times) > 1 and not room(times[0], times[-1]):
        return [(times[-1], text[times[-1]])]
    for time in times[1:-1]:
        if all(room(time, other) for other in chosen):
            chosen.append(time)
    return [(t, text[t]) for t in sorted(chosen)]


def timeline(items: Sequence[Stay], row: int = 16) -> str:
    """One row per item: a bar from its first to its last sighting, a dot at each sighting; a gridline
    at each time the page was seen."""
    if not items:
        return _empty("No homepage sightings in this archive yet.")
    times = sorted({t for stay in items for t in stay.times})
    start, end = _seconds(times[0]), _seconds(times[-1])
    left, right, top = 320, WIDTH - 60, 52
    height = top + row * len(items) + 10
    x = {t: left + (right - left) * ((_seconds(t) - start) / (end - start) if end > start else 0.5) for t in times}

    parts = [_legend(10, 14, [("dot", "seen on the page"), ("span", "from first to last sighting"),
                              ("grid", "a time the page was seen")])]
    for time in times:
        parts.append(f'<line class="grid" x1="{x[time]:.1f}" y1="{top - 6}" x2="{x[time]:.1f}" y2="{height - 10}" '
                     f'stroke="{_GRID}"/>')
    for time, text in time_labels(times, x):
        parts.append(_label(x[time], top - 12, text, css="time"))
    for i, stay in enumerate(items):
        y = top + row * i + row / 2
        label = stay.title if len(stay.title) <= 50 else stay.title[:49] + "…"
        seen = len(stay.times)
        span = f"{stay.times[0][:16]} to {stay.times[-1][:16]}, seen {seen} time{'s' * (seen != 1)}"
        parts.append(f'<g class="stay"><title>{escape(stay.title)}: {escape(span)}</title>'
                     f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" {_FONT}>{escape(label)}</text>'
                     f'<line x1="{x[stay.times[0]]:.1f}" y1="{y:.1f}" x2="{x[stay.times[-1]]:.1f}" y2="{y:.1f}" '
                     f'stroke="{_BAR}" stroke-width="6" stroke-linecap="round"/>'
                     + "".join(f'<circle cx="{x[t]:.1f}" cy="{y:.1f}" r="2.5" fill="{_DOT}"/>' for t in stay.times)
                     + "</g>")
    return _svg(height, "The homepage's items over time", parts)


def _label(centre: float, y: float, text: str, css: str = "label") -> str:
    """A label centred on `centre`, moved inside the chart where it would cross an edge."""
    half = label_width(text) / 2
    x = min(max(centre, half + 2), WIDTH - half - 2)
    return f'<text class="{css}" x="{x:.1f}" y="{y:.1f}" text-anchor="middle" {_FONT}>{escape(text)}</text>'


def _legend(x: float, y: float, keys: list[tuple[str, str]]) -> str:
    """One line saying what each mark means: a bar, a dot, a span or a gridline, and its words."""
    marks = {
        "bar": f'<rect x="0" y="-9" width="10" height="10" fill="{_BAR}"/>',
        "dot": f'<circle cx="5" cy="-4" r="2.5" fill="{_DOT}"/>',
        "span": f'<line x1="1" y1="-4" x2="17" y2="-4" stroke="{_BAR}" stroke-width="6" stroke-linecap="round"/>',
        "grid": '<line x1="5" y1="-11" x2="5" y2="3" stroke="#bbb"/>',
    }
    out, offset = [], 0.0
    for kind, words in keys:
        swatch = 22 if kind == "span" else 14
        out.append(f'<g transform="translate({x + offset:.1f},{y})">{marks[kind]}'
                   f'<text x="{swatch}" y="0" {_FONT}>{escape(words)}</text></g>')
        offset += swatch + len(words) * _LEGEND_CHAR + 16
    return '<g class="legend">' + "".join(out) + "</g>"


def _seconds(time: str) -> float:
    moment = dt.datetime.fromisoformat(time)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def _empty(message: str) -> str:
    return f'<p class="chart-empty">{escape(message)}</p>'


def _svg(height: int, label: str, parts: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" width="{WIDTH}" '
            f'height="{height}" viewBox="0 0 {WIDTH} {height}">' + "".join(parts) + "</svg>")
