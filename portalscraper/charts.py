"""Charts of an archive, drawn as SVG: items per month, and the homepage's items over time.

Pure functions over rows read from the archive (no Datasette, no Scrapy): `portalscraper serve`
shows them on its charts page, and they are tested as text. The SVG is plain (no script), so a
chart can also be saved and opened anywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

WIDTH = 900
_FONT = 'font-family="sans-serif" font-size="11"'


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` ("YYYY-MM"), both included."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def items_per_month(counts: Iterable[tuple[str, int]], height: int = 240) -> str:
    """A bar per month, months without items included (a gap in publishing shows as a gap)."""
    by_month = {month: n for month, n in counts if month}
    if not by_month:
        return _empty("No dated items in this archive yet.")
    months = months_between(min(by_month), max(by_month))
    top = max(by_month.values())
    left, bottom, plot_h = 40, 30, height - 50
    step = (WIDTH - left - 10) / len(months)
    parts = [f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH - 10}" y2="{height - bottom}" stroke="#888"/>',
             f'<text x="{left - 6}" y="{height - bottom - plot_h + 4}" text-anchor="end" {_FONT}>{top}</text>',
             f'<text x="{left - 6}" y="{height - bottom + 4}" text-anchor="end" {_FONT}>0</text>']
    for i, month in enumerate(months):
        n = by_month.get(month, 0)
        x = left + i * step
        bar = plot_h * n / top
        if n:
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{height - bottom - bar:.1f}" '
                         f'width="{max(step - 1, 1):.1f}" height="{bar:.1f}" fill="#3a6ea5">'
                         f'<title>{month}: {n} item{"s" * (n != 1)}</title></rect>')
        if len(months) <= 24 or month.endswith("-01") or i == 0:
            label = month if len(months) <= 24 or i == 0 else month[:4]
            parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" {_FONT}>{label}</text>')
    return _svg(height, "Items per month", parts)


@dataclass
class Stay:
    """An item's sightings on a page: when it was seen there (capture or crawl times)."""

    record_id: str
    title: str
    times: list[str] = field(default_factory=list)


def stays(sightings: Iterable[tuple[str, str | None, str]]) -> list[Stay]:
    """Group (record id, title, time) sightings by item, ordered by first sighting, then title."""
    found: dict[str, Stay] = {}
    for record_id, title, time in sightings:
        stay = found.setdefault(record_id, Stay(record_id, title or record_id))
        stay.times.append(time)
    for stay in found.values():
        stay.times = sorted(set(stay.times))
    return sorted(found.values(), key=lambda s: (s.times[0], s.title))


def timeline(items: Sequence[Stay], row: int = 16) -> str:
    """One row per item: a bar from its first to its last sighting, a dot at each sighting; a
    gridline at each time the page was seen."""
    if not items:
        return _empty("No homepage sightings in this archive yet.")
    times = sorted({t for stay in items for t in stay.times})
    start, end = _seconds(times[0]), _seconds(times[-1])
    left, right, top = 320, WIDTH - 20, 30
    height = top + row * len(items) + 10

    def x(time: str) -> float:
        return left + (right - left) * ((_seconds(time) - start) / (end - start) if end > start else 0.5)

    parts = []
    labelled = times if len(times) <= 8 else [times[0], times[len(times) // 2], times[-1]]
    for time in times:
        parts.append(f'<line x1="{x(time):.1f}" y1="{top - 6}" x2="{x(time):.1f}" y2="{height - 10}" stroke="#ddd"/>')
    for time in labelled:
        anchor = "start" if time == times[0] else "end" if time == times[-1] else "middle"
        parts.append(f'<text x="{x(time):.1f}" y="{top - 12}" text-anchor="{anchor}" {_FONT}>'
                     f"{escape(time[:10])}</text>")
    for i, stay in enumerate(items):
        y = top + row * i + row / 2
        label = stay.title if len(stay.title) <= 50 else stay.title[:49] + "…"
        seen = len(stay.times)
        span = f"{stay.times[0][:16]} to {stay.times[-1][:16]}, seen {seen} time{'s' * (seen != 1)}"
        parts.append(f'<g class="stay"><title>{escape(stay.title)}: {escape(span)}</title>'
                     f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" {_FONT}>{escape(label)}</text>'
                     f'<line x1="{x(stay.times[0]):.1f}" y1="{y:.1f}" x2="{x(stay.times[-1]):.1f}" y2="{y:.1f}" '
                     f'stroke="#3a6ea5" stroke-width="6" stroke-linecap="round"/>'
                     + "".join(f'<circle cx="{x(t):.1f}" cy="{y:.1f}" r="2.5" fill="#123"/>' for t in stay.times)
                     + "</g>")
    return _svg(height, "The homepage's items over time", parts)


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
