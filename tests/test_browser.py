"""The served archive in a real headless browser (Debian's chromium, driven by Playwright), as an analyst
uses it: the records page, a search, a record, its appearances, a feed's links, the charts. Every
request the browser makes goes
through a recording proxy on 127.0.0.1, which forwards only Datasette's; screenshots of each step
are saved in test-artifacts/browser/ (PORTALSCRAPER_ARTIFACTS to put them elsewhere).

The pages must ask for nothing but Datasette's own URLs (no fonts, scripts or images from elsewhere).
Chromium's own housekeeping (update checks, sign-in) still tries a few hosts whatever its flags: the
proxy refuses those, so nothing leaves the machine, and lists them in refused-by-the-proxy.txt.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import feedparser
import pytest
from playwright.sync_api import Locator, Page, sync_playwright

from portalscraper.serve import atom
from portalscraper.serve.charts import months_between
from tests.conftest import ROOT, run_cli, serve
from tests.proxy import RecordingProxy

ARTIFACTS = Path(os.environ.get("PORTALSCRAPER_ARTIFACTS", ROOT / "test-artifacts")) / "browser"
# Headless, and quiet: no background connections of the browser's own (updates, sync, safe browsing).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-extensions", "--disable-default-apps", "--disable-domain-reliability", "--no-pings",
                  "--disable-client-side-phishing-detection", "--disable-breakpad",
                  "--disable-features=AutofillServerCommunication,OptimizationHints,Translate,MediaRouter",
                  "--proxy-bypass-list=<-loopback>"]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "the browser test needs Debian's chromium (apt-get install chromium; .ci/run installs it)"
    return found


@pytest.fixture(scope="module")
def archive(wayback: tuple[str, dict[str, list[str]]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The web archive's three weekly homepage captures, crawled into a fresh archive."""
    endpoint, _ = wayback
    folder = tmp_path_factory.mktemp("browser")
    db = folder / "archive.sqlite"
    run_cli("crawl", "nato", "--wayback", endpoint, "--from", "20120101", "--to", "20121231", "--db", str(db),
            "--jsonl", "", "--warc", "", "-q", "-s", "PORTAL_WAYBACK_FULL_SPEED=true", cwd=folder)
    return db


@dataclass
class Browser:
    page: Page
    base: str  # the archive's database page
    asked: list[str]  # every URL the pages requested


@pytest.fixture(scope="module")
def browser(archive: Path) -> Iterator[Browser]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve(archive) as base:
        proxy = RecordingProxy([base])
        try:
            with sync_playwright() as driver:
                chrome = driver.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS,
                                                 proxy={"server": proxy.url})
                page = chrome.new_page(viewport={"width": 1280, "height": 900})
                asked: list[str] = []
                page.on("request", lambda request: asked.append(request.url))
                yield Browser(page, f"{base}/archive", asked)
                chrome.close()
            assert proxy.forwarded and {RecordingProxy.origin(url) for url in asked} == {RecordingProxy.origin(base)}
        finally:
            proxy.stop()
            (ARTIFACTS / "refused-by-the-proxy.txt").write_text("".join(f"{r}\n" for r in proxy.refused))


def rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def test_search_a_record_and_its_appearances(browser: Browser, archive: Path) -> None:
    page, base = browser.page, browser.base
    page.goto(f"{base}/records")
    page.fill("input[name=_search]", "summit")
    page.press("input[name=_search]", "Enter")
    page.wait_for_url("**_search=summit**")
    page.screenshot(path=ARTIFACTS / "1-search.png", full_page=True)
    expected = rows(archive, "SELECT r.id FROM records_fts JOIN records r ON r.rowid = records_fts.rowid "
                             "WHERE records_fts MATCH 'summit'")
    assert expected and page.locator("table.rows-and-columns tbody tr").count() == len(expected)

    first = page.locator("table.rows-and-columns tbody tr td.col-id a").first
    record_id = first.inner_text()
    first.click()
    page.wait_for_url(f"**/records/{record_id}")
    page.screenshot(path=ARTIFACTS / "2-record.png", full_page=True)
    (title,) = rows(archive, "SELECT title FROM records WHERE id = ?", record_id)[0]
    assert title in page.locator("table").first.inner_text()

    sightings = rows(archive, "SELECT count(*) FROM appearances WHERE record_id = ?", record_id)[0][0]
    assert sightings >= 1
    page.locator(f"a[href*='appearances?record_id={record_id}']").click()
    page.wait_for_url(f"**/appearances?record_id={record_id}")
    page.screenshot(path=ARTIFACTS / "3-appearances.png", full_page=True)
    assert page.locator("table.rows-and-columns tbody tr").count() == sightings
    assert all(url.startswith(base.removesuffix("/archive") + "/") for url in browser.asked)


def boxes(found: Locator) -> list[dict[str, float]]:
    return [box for i in range(found.count()) if (box := found.nth(i).bounding_box()) is not None]


def test_the_records_page_shows_rows_first(browser: Browser, archive: Path) -> None:
    page, base = browser.page, browser.base
    page.goto(f"{base}/records")
    page.screenshot(path=ARTIFACTS / "0-records.png")  # what a laptop's screen shows, not the whole page
    first_row = page.locator("table.rows-and-columns tbody tr").first.bounding_box()
    assert first_row is not None and first_row["y"] + 40 < page.viewport_size["height"]  # type: ignore[index]
    assert not page.locator("dl.column-descriptions").is_visible()
    schema = json.loads((ROOT / "portalscraper/schema/record.schema.json").read_text("utf-8"))
    described = schema["properties"]["date_start"]["description"]
    assert page.locator("th.col-date_start").get_attribute("title") == described  # the header says it
    page.click("text=What each column holds")  # and so does the list, one click away
    assert page.locator("details.columns dd", has_text=described).is_visible()


def test_a_feeds_entries_link_to_their_records(browser: Browser, archive: Path) -> None:
    page, base = browser.page, browser.base
    page.goto(base)
    feeds = page.locator("a.feed")
    assert [feeds.nth(i).inner_text() for i in range(feeds.count())] == [
        "new records", "changed records", "records gone from the portal"]
    page.goto(f"{base}/new_records?q=summit")  # the feed's own page: its rows, and the feed among its formats
    page.screenshot(path=ARTIFACTS / "5-feed-page.png", full_page=True)
    feed_url = page.locator("a", has_text="atom").get_attribute("href")
    assert feed_url == "/archive/new_records.atom?q=summit"
    with urllib.request.urlopen(base.removesuffix("/archive") + feed_url, timeout=30) as response:
        feed = feedparser.parse(response.read())
    expected = rows(archive, "SELECT r.id, r.title, r.url FROM records_fts JOIN records r "
                             "ON r.rowid = records_fts.rowid WHERE records_fts MATCH 'summit'")
    assert expected and sorted(e.id for e in feed.entries) == sorted(atom.entry_id(rid, 1) for rid, _, _ in expected)
    assert page.locator("table.rows-and-columns tbody tr").count() == len(feed.entries)
    titles = {rid: (title, url) for rid, title, url in expected}
    entry = feed.entries[0]
    record_id = entry.id.split(":")[3]
    assert [link.href for link in entry.links if link.rel == "related"] == [titles[record_id][1]]  # the item's URL
    page.goto(entry.link)  # the record's page in the archive
    assert page.url == f"{base}/records/{record_id}"
    assert titles[record_id][0] in page.locator("table").first.inner_text()
    page.screenshot(path=ARTIFACTS / "6-feed-entry-record.png", full_page=True)
    assert all(url.startswith(base.removesuffix("/archive") + "/") for url in browser.asked)


def test_the_charts_page(browser: Browser, archive: Path) -> None:
    page, base = browser.page, browser.base
    page.goto(base)
    page.click("text=Charts")
    page.wait_for_url("**/-/charts")
    page.screenshot(path=ARTIFACTS / "4-charts.png", full_page=True)
    months = [m for (m,) in rows(archive, "SELECT DISTINCT substr(date_start, 1, 7) FROM records "
                                          "WHERE length(date_start) >= 7 ORDER BY 1")]
    assert page.locator("#items-per-month svg rect.bar").count() == len(months) > 0
    # A few months: each is labelled in full (an empty one too); labels never meet nor leave the chart.
    month_labels = page.locator("#items-per-month svg text.label")
    assert month_labels.all_text_contents() == months_between(months[0], months[-1])
    chart = page.locator("#items-per-month svg").bounding_box()
    shown = boxes(month_labels)
    assert chart and all(chart["x"] <= b["x"] and b["x"] + b["width"] <= chart["x"] + chart["width"] for b in shown)
    assert all(a["x"] + a["width"] < b["x"] for a, b in pairwise(shown))
    assert page.locator("#items-per-month .legend text").all_text_contents() == [
        "items published in the month (their date_start)"]

    homepage = rows(archive, "SELECT a.record_id, r.title FROM appearances a JOIN records r ON r.id = a.record_id "
                             "WHERE a.page_url = (SELECT page_url FROM appearances ORDER BY id LIMIT 1) "
                             "GROUP BY a.record_id ORDER BY min(a.capture_time), r.date_start IS NULL, r.date_start, "
                             "r.title")
    stays = page.locator("#homepage-timeline svg g.stay")
    assert stays.count() == len(homepage) > 0
    # In order of first sighting (then of publication), not of title.
    assert [t.split(": 20")[0] for t in stays.locator("title").all_text_contents()] == [t for _, t in homepage]
    # An item that left the homepage between captures ends before the last capture's gridline.
    widths = [float(stays.nth(i).locator("line").get_attribute("x2") or 0)
              - float(stays.nth(i).locator("line").get_attribute("x1") or 0) for i in range(stays.count())]
    assert min(widths) < max(widths)
    # Each capture's whole date, inside the chart (the last one was cut before).
    captures = [t[:10] for (t,) in rows(archive, "SELECT DISTINCT capture_time FROM appearances ORDER BY 1")]
    time_labels = page.locator("#homepage-timeline svg text.time")
    assert time_labels.all_text_contents() == captures
    timeline = page.locator("#homepage-timeline svg").bounding_box()
    assert timeline and all(b["x"] + b["width"] <= timeline["x"] + timeline["width"] for b in boxes(time_labels))
    assert page.locator("#homepage-timeline .legend text").all_text_contents() == [
        "seen on the page", "from first to last sighting", "a time the page was seen"]
    assert all(url.startswith(base.removesuffix("/archive") + "/") for url in browser.asked)
