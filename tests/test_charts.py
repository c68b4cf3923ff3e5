"""The charts' SVG, drawn from rows as the archive gives them (no Datasette)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from portalscraper.charts import Stay, items_per_month, months_between, stays, timeline

SVG = "{http://www.w3.org/2000/svg}"


def test_months_between_crosses_years() -> None:
    assert months_between("2011-11", "2012-02") == ["2011-11", "2011-12", "2012-01", "2012-02"]
    assert months_between("2012-05", "2012-05") == ["2012-05"]


def test_a_bar_per_month_with_items_and_gaps_kept() -> None:
    svg = ET.fromstring(items_per_month([("2012-01", 4), ("2012-04", 2)]))
    bars = svg.findall(f"{SVG}rect")
    assert [bar.find(f"{SVG}title").text for bar in bars] == ["2012-01: 4 items", "2012-04: 2 items"]
    heights = [float(bar.get("height") or 0) for bar in bars]
    assert heights[0] == 2 * heights[1]
    xs = [float(bar.get("x") or 0) for bar in bars]
    step = float(bars[0].get("width") or 0) + 1
    assert round((xs[1] - xs[0]) / step) == 3  # February and March are there, empty


def test_no_dated_items_is_said_not_drawn() -> None:
    assert "No dated items" in items_per_month([]) and "<svg" not in items_per_month([(None, 3)])


def test_stays_group_sightings_by_item_in_order_of_first_sighting() -> None:
    found = stays([("b", "Later", "2012-10-05T12:00:00+00:00"), ("a", "Earlier", "2012-09-28T12:00:00+00:00"),
                   ("a", "Earlier", "2012-10-05T12:00:00+00:00"), ("a", "Earlier", "2012-09-28T12:00:00+00:00")])
    assert found == [Stay("a", "Earlier", ["2012-09-28T12:00:00+00:00", "2012-10-05T12:00:00+00:00"]),
                     Stay("b", "Later", ["2012-10-05T12:00:00+00:00"])]


def test_timeline_bars_span_first_to_last_sighting_and_titles_are_escaped() -> None:
    times = ["2012-09-28T12:00:00+00:00", "2012-10-05T12:00:00+00:00", "2012-10-12T12:00:00+00:00"]
    items = [Stay("a", "Stayed <all> along", times), Stay("b", "Left", times[:2]), Stay("c", "Once", times[2:])]
    text = timeline(items)
    svg = ET.fromstring(text)  # well-formed: the title's markup is escaped
    groups = svg.findall(f"{SVG}g")
    assert [g.find(f"{SVG}text").text for g in groups] == ["Stayed <all> along", "Left", "Once"]
    spans = [(float(line.get("x1") or 0), float(line.get("x2") or 0))
             for g in groups for line in g.findall(f"{SVG}line")]
    (a1, a2), (b1, b2), (c1, c2) = spans
    assert a1 == b1 < c1 == c2 == a2 and b2 == (a1 + a2) / 2  # a week of two, drawn as half the width
    assert [len(g.findall(f"{SVG}circle")) for g in groups] == [3, 2, 1]
    assert len(re.findall(r'stroke="#ddd"', text)) == 3  # a gridline per capture


def test_one_sighting_time_draws_in_the_middle() -> None:
    svg = ET.fromstring(timeline([Stay("a", "Alone", ["2026-01-01T00:00:00"])]))
    line = svg.find(f"{SVG}g/{SVG}line")
    assert line is not None and line.get("x1") == line.get("x2")
