"""The charts' SVG, drawn from rows as the archive gives them (no Datasette)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import pairwise

import pytest

from portalscraper.serve.charts import (
    WIDTH,
    Stay,
    items_per_month,
    label_width,
    month_labels,
    months_between,
    nice_ticks,
    stays,
    time_labels,
    timeline,
)

SVG = "{http://www.w3.org/2000/svg}"


def labels(svg: ET.Element, css: str) -> list[tuple[float, str]]:
    """(centre, text) of the chart's labels of one class, left to right."""
    return [(float(t.get("x") or 0), t.text or "") for t in svg.iter(f"{SVG}text") if t.get("class") == css]


def assert_apart_and_inside(shown: list[tuple[float, str]]) -> None:
    for (x, text), (next_x, next_text) in pairwise(shown):
        assert next_x - x >= (label_width(text) + label_width(next_text)) / 2, (text, next_text)
    assert all(label_width(text) / 2 <= x <= WIDTH - label_width(text) / 2 for x, text in shown)


def test_months_between_crosses_years() -> None:
    assert months_between("2011-11", "2012-02") == ["2011-11", "2011-12", "2012-01", "2012-02"]
    assert months_between("2012-05", "2012-05") == ["2012-05"]


def test_a_bar_per_month_with_items_and_gaps_kept() -> None:
    svg = ET.fromstring(items_per_month([("2012-01", 4), ("2012-04", 2)]))
    bars = svg.findall(f"{SVG}rect[@class='bar']")
    assert [bar.find(f"{SVG}title").text for bar in bars] == ["2012-01: 4 items", "2012-04: 2 items"]
    heights = [float(bar.get("height") or 0) for bar in bars]
    assert heights[0] == 2 * heights[1]
    xs = [float(bar.get("x") or 0) for bar in bars]
    step = float(bars[0].get("width") or 0) + 1
    assert round((xs[1] - xs[0]) / step) == 3  # February and March are there, empty


def test_no_dated_items_is_said_not_drawn() -> None:
    assert "No dated items" in items_per_month([]) and "<svg" not in items_per_month([(None, 3)])


def test_a_single_month_is_labelled_under_its_bar() -> None:
    svg = ET.fromstring(items_per_month([("2012-09", 35)]))
    (bar,) = svg.findall(f"{SVG}rect[@class='bar']")
    ((x, text),) = labels(svg, "label")
    assert text == "2012-09"
    assert x == pytest.approx(float(bar.get("x") or 0) + (float(bar.get("width") or 0) + 1) / 2)


@pytest.mark.parametrize(("first", "last", "expected"), [
    ("2012-05", "2012-09", ["2012-05", "2012-06", "2012-07", "2012-08", "2012-09"]),  # every month
    ("2011-01", "2012-12", ["2011-01", "2011-03", "2011-05", "2011-07", "2011-09", "2011-11", "2012-01", "2012-03",
                            "2012-05", "2012-07", "2012-09", "2012-11"]),  # every other month
    ("2008-11", "2012-09", ["2009-01", "2009-07", "2010-01", "2010-07", "2011-01", "2011-07", "2012-01",
                            "2012-07"]),  # half-years
    ("1998-11", "2012-09", [str(year) for year in range(1999, 2013)]),  # years, under a hundred and more bars
    ("1950-01", "2012-09", ["1950", "1955", "1960", "1965", "1970", "1975", "1980", "1985", "1990", "1995", "2000",
                            "2005", "2010"]),  # every five years
])
def test_month_labels_fit_the_span(first: str, last: str, expected: list[str]) -> None:
    svg = ET.fromstring(items_per_month([(first, 1), (last, 2)]))
    shown = labels(svg, "label")
    assert [text for _, text in shown] == expected
    assert_apart_and_inside(shown)


def test_month_labels_never_meet_whatever_the_width_of_a_bar() -> None:
    months = months_between("1900-01", "2012-12")
    for count in range(1, len(months), 7):
        step = 846 / count
        chosen = month_labels(months[:count], step)
        assert chosen
        for (i, text), (j, next_text) in pairwise(chosen):
            assert (j - i) * step >= (label_width(text) + label_width(next_text)) / 2


def test_count_axis_has_round_ticks_up_to_the_top() -> None:
    assert nice_ticks(1) == [0, 1]
    assert nice_ticks(16) == [0, 5, 10, 15, 20]
    assert nice_ticks(37) == [0, 10, 20, 30, 40]
    assert nice_ticks(1000) == [0, 200, 400, 600, 800, 1000]
    svg = ET.fromstring(items_per_month([("2012-01", 16)]))
    assert [t.text for t in svg.iter(f"{SVG}text") if t.get("text-anchor") == "end"] == ["0", "5", "10", "15", "20"]


def test_each_chart_says_what_its_marks_mean() -> None:
    months = ET.fromstring(items_per_month([("2012-01", 4)]))
    assert [t.text for t in months.findall(f"{SVG}g[@class='legend']//{SVG}text")] == [
        "items published in the month (their date_start)"]
    times = ET.fromstring(timeline([Stay("a", "Alone", ["2012-09-28T12:00:00+00:00", "2012-10-05T12:00:00+00:00"])]))
    assert [t.text for t in times.findall(f"{SVG}g[@class='legend']//{SVG}text")] == [
        "seen on the page", "from first to last sighting", "a time the page was seen"]


def test_stays_group_sightings_by_item_in_order_of_first_sighting() -> None:
    found = stays([("b", "Later", "2012-10-05T12:00:00+00:00", "2012-10-01"),
                   ("a", "Earlier", "2012-09-28T12:00:00+00:00", "2012-09-20"),
                   ("a", "Earlier", "2012-10-05T12:00:00+00:00", "2012-09-20"),
                   ("a", "Earlier", "2012-09-28T12:00:00+00:00", "2012-09-20")])
    assert found == [Stay("a", "Earlier", ["2012-09-28T12:00:00+00:00", "2012-10-05T12:00:00+00:00"], "2012-09-20"),
                     Stay("b", "Later", ["2012-10-05T12:00:00+00:00"], "2012-10-01")]


def test_items_first_seen_together_are_in_order_of_publication_not_of_title() -> None:
    seen = "2012-09-28T12:00:00+00:00"
    found = stays([("z", "Afghanistan snapshot", seen, "2012-09-27"), ("x", "Undated", seen, None),
                   ("y", "Zagreb meeting", seen, "2012-05-14"), ("w", "Later", "2012-10-05T12:00:00+00:00", "2011")])
    assert [s.title for s in found] == ["Zagreb meeting", "Afghanistan snapshot", "Undated", "Later"]


def test_timeline_bars_span_first_to_last_sighting_and_titles_are_escaped() -> None:
    times = ["2012-09-28T12:00:00+00:00", "2012-10-05T12:00:00+00:00", "2012-10-12T12:00:00+00:00"]
    items = [Stay("a", "Stayed <all> along", times), Stay("b", "Left", times[:2]), Stay("c", "Once", times[2:])]
    text = timeline(items)
    svg = ET.fromstring(text)  # well-formed: the title's markup is escaped
    groups = svg.findall(f"{SVG}g[@class='stay']")
    assert [g.find(f"{SVG}text").text for g in groups] == ["Stayed <all> along", "Left", "Once"]
    spans = [(float(line.get("x1") or 0), float(line.get("x2") or 0))
             for g in groups for line in g.findall(f"{SVG}line")]
    (a1, a2), (b1, b2), (c1, c2) = spans
    assert a1 == b1 < c1 == c2 == a2 and b2 == (a1 + a2) / 2  # a week of two, drawn as half the width
    assert [len(g.findall(f"{SVG}circle")) for g in groups] == [3, 2, 1]
    assert len(re.findall(r'class="grid"', text)) == 3  # a gridline per capture
    shown = labels(svg, "time")
    assert [t for _, t in shown] == ["2012-09-28", "2012-10-05", "2012-10-12"]  # whole dates, the last one too
    assert_apart_and_inside(shown)


def test_time_labels_leave_out_what_would_overlap_and_tell_same_day_times_apart() -> None:
    days = [f"2012-10-{day:02d}T12:00:00+00:00" for day in range(1, 31)]
    x = {t: 320 + 520 * i / 29 for i, t in enumerate(days)}
    shown = time_labels(days, x)
    assert shown[0] == (days[0], "2012-10-01") and shown[-1] == (days[-1], "2012-10-30")
    assert 2 < len(shown) < 30
    for (a, text), (b, next_text) in pairwise(shown):
        assert x[b] - x[a] >= (label_width(text) + label_width(next_text)) / 2
    crawls = ["2026-01-05T06:00:00+00:00", "2026-01-05T18:30:00+00:00"]
    assert [text for _, text in time_labels(crawls, {crawls[0]: 320, crawls[1]: 840})] == [
        "2026-01-05 06:00", "2026-01-05 18:30"]


def test_one_sighting_time_draws_in_the_middle() -> None:
    svg = ET.fromstring(timeline([Stay("a", "Alone", ["2026-01-01T00:00:00"])]))
    line = svg.find(f"{SVG}g[@class='stay']/{SVG}line")
    assert line is not None and line.get("x1") == line.get("x2")
