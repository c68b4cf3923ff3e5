"""A crawl's verdict, one row a case: which exit code and which alarms, in which order."""

from __future__ import annotations

import pytest

from portalscraper.crawl.verdict import (
    EXIT_DRIFT,
    EXIT_ERROR_RATE,
    EXIT_FAILED,
    EXIT_INCOMPLETE,
    EXIT_NO_ITEMS,
    EXIT_OK,
    Failures,
    drift_alarms,
    verdict,
)

DRIFT = ["section 'News' yielded no items (previous crawl: 12)"]
RATE = "6 of 100 requests failed (6.0%, more than 5.0%); they are listed in the log and retried next run"
LISTINGS = ("2 listing page(s) could not be read, so items only they list may be missing; the next run reads every "
            "listing again and fetches them")


@pytest.mark.parametrize(
    ("reason", "items", "failures", "drift", "code", "alarms"),
    [
        ("finished", 10, Failures(0, 100), [], EXIT_OK, []),
        ("finished", 10, Failures(5, 100), [], EXIT_OK, []),  # 5.0% is not more than 5%
        ("finished", 10, Failures(0, 0), [], EXIT_OK, []),  # no request counted: no rate
        ("finished", 10, Failures(6, 100), [], EXIT_ERROR_RATE, [RATE]),
        ("finished", 10, Failures(6, 100), DRIFT, EXIT_ERROR_RATE, [RATE, *DRIFT]),  # the rate first, drift kept
        ("finished", 10, Failures(6, 100, listings=2), DRIFT, EXIT_ERROR_RATE, [RATE, *DRIFT]),
        ("finished", 10, Failures(2, 100, listings=2), [], EXIT_INCOMPLETE, [LISTINGS]),
        ("finished", 10, Failures(2, 100, listings=2), DRIFT, EXIT_INCOMPLETE, [LISTINGS, *DRIFT]),
        ("finished", 10, Failures(0, 100), DRIFT, EXIT_DRIFT, DRIFT),
        ("finished", 0, Failures(0, 100), [], EXIT_NO_ITEMS,
         ["the crawl finished with no items; check the base URL and the portal's layout"]),
        ("finished", 0, Failures(1, 1, start="http://127.0.0.1:9/ (HTTP 404 Not Found)"), DRIFT, EXIT_NO_ITEMS,
         ["cannot fetch the start page http://127.0.0.1:9/ (HTTP 404 Not Found); check the base URL (--base-url) and "
          "that the portal is reachable"]),
        ("finished", 3, Failures(0, 1, start="http://127.0.0.1:9/ (refused)"), [], EXIT_OK, []),  # items after all
        ("shutdown", 0, Failures(90, 100), DRIFT, EXIT_FAILED,
         ["the crawl was interrupted (Ctrl-C or SIGTERM); continue it with the same command and --resume"]),
        ("closespider_timeout", 10, Failures(0, 100), [], EXIT_FAILED,
         ["the crawl did not finish (closespider_timeout)"]),
        (None, 0, Failures(0, 0), [], EXIT_FAILED, ["the crawl could not start; see the log above"]),
    ],
)
def test_verdict(reason: str | None, items: int, failures: Failures, drift: list[str], code: int,
                 alarms: list[str]) -> None:
    judged = verdict(reason, items, failures, 0.05, drift)
    assert (judged.exit_code, judged.alarms) == (code, alarms)


@pytest.mark.parametrize(("reason", "items", "code"), [
    (None, 0, EXIT_FAILED), ("finished", 0, EXIT_NO_ITEMS), ("finished", 4, EXIT_OK), ("shutdown", 4, EXIT_FAILED),
])
def test_a_crawl_no_archive_judged_by_its_finish_and_items_alone(reason: str | None, items: int, code: int) -> None:
    assert verdict(reason, items).exit_code == code


PREVIOUS = {"records_seen": 100, "sections": {"News": 12, "Events": 3, "Gone before": 0},
            "fill_rates": {"title": 1.0, "summary": 0.9, "body": 0.8}}


@pytest.mark.parametrize(
    ("previous", "current", "alarms"),
    [
        (None, {"records_seen": 100}, []),
        ({}, {"records_seen": 100}, []),
        (PREVIOUS, PREVIOUS, []),
        (PREVIOUS, {**PREVIOUS, "sections": {"News": 12, "Events": 0}},
         ["section 'Events' yielded no items (previous crawl: 3)"]),
        (PREVIOUS, {**PREVIOUS, "sections": {"Events": 3, "New": 4}},
         ["section 'News' yielded no items (previous crawl: 12)"]),  # a new section is no alarm
        (PREVIOUS, {**PREVIOUS, "fill_rates": {"title": 1.0, "summary": 0.75, "body": 0.59}},
         ["field 'body' filled in 59% of records (previous crawl: 80%)"]),  # 15 points down: no alarm
        (PREVIOUS, {**PREVIOUS, "fill_rates": {"title": 1.0, "summary": 0.9}},
         ["field 'body' filled in 0% of records (previous crawl: 80%)"]),  # a field gone is filled nowhere
        (PREVIOUS, {**PREVIOUS, "records_seen": 19, "fill_rates": {}}, []),  # too few records to judge rates
        ({**PREVIOUS, "records_seen": 19}, {**PREVIOUS, "fill_rates": {}}, []),
    ],
)
def test_drift_alarms(previous: dict[str, object] | None, current: dict[str, object], alarms: list[str]) -> None:
    assert drift_alarms(previous, current, max_fill_drop=0.2, min_records=20) == alarms
