"""The served archive in a real headless browser (Debian's chromium, driven by Playwright), as an analyst
uses it: a search, a record, its appearances, the charts. Every request the browser makes goes
through a recording proxy on 127.0.0.1, which forwards only Datasette's; screenshots of each step
are saved in test-artifacts/browser/ (PORTALSCRAPER_ARTIFACTS to put them elsewhere).

The pages must ask for nothing but Datasette's own URLs (no fonts, scripts or images from elsewhere).
Chromium's own housekeeping (update checks, sign-in) still tries a few hosts whatever its flags: the
proxy refuses those, so nothing leaves the machine, and lists them in refused-by-the-proxy.txt.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

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


def test_the_charts_page(browser: Browser, archive: Path) -> None:
    page, base = browser.page, browser.base
    page.goto(base)
    page.click("text=Charts")
    page.wait_for_url("**/-/charts")
    page.screenshot(path=ARTIFACTS / "4-charts.png", full_page=True)
    months = rows(archive, "SELECT count(DISTINCT substr(date_start, 1, 7)) FROM records WHERE length(date_start) >= 7")
    assert page.locator("#items-per-month svg rect.bar").count() == months[0][0] > 0
    homepage = rows(archive, "SELECT count(DISTINCT record_id) FROM appearances WHERE page_url = "
                             "(SELECT page_url FROM appearances ORDER BY id LIMIT 1)")[0][0]
    stays = page.locator("#homepage-timeline svg g.stay")
    assert stays.count() == homepage > 0
    # An item that left the homepage between captures ends before the last capture's gridline.
    widths = [float(stays.nth(i).locator("line").get_attribute("x2") or 0)
              - float(stays.nth(i).locator("line").get_attribute("x1") or 0) for i in range(stays.count())]
    assert min(widths) < max(widths)
    assert all(url.startswith(base.removesuffix("/archive") + "/") for url in browser.asked)
