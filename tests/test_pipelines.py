"""Pipelines built from settings through Scrapy's own crawler factory: normalize, validate, dedupe."""

from __future__ import annotations

import pytest
from scrapy.utils.test import get_crawler

from portalscraper.items import Appearance, Record
from portalscraper.pipelines.dedupe import DedupePipeline, DuplicateRecord
from portalscraper.pipelines.normalize import NormalizePipeline, content_hash
from portalscraper.pipelines.validate import RecordRejected, ValidatePipeline


def record(**fields: object) -> Record:
    base = {"id": "12be8b96a125acf6", "portal": "nato", "url": "https://www.nato.int/cps/en/natohq/news_91112.htm",
            "title": " Supporting  defence <b>education</b> ", "date_text": "13 Sep. 2012 - 14 Sep. 2012",
            "updated_text": "Last updated: 20 Sep. 2012 14:26", "summary": "NATO’s &amp; aid &#163;1.8m. Read more",
            "body": "<p>First.</p>\n\nGo to\n\nSecond  one."}
    return Record(**{**base, **fields})  # type: ignore[arg-type]


def test_normalize() -> None:
    pipeline = NormalizePipeline.from_crawler(get_crawler(settings_dict={"NORMALIZE_TIMEZONE": "Europe/Brussels"}))
    item = pipeline.process_item(record())
    assert (item.title, item.summary, item.body) == (
        "Supporting defence education", "NATO’s &amp; aid &#163;1.8m.", "First.\n\nSecond one.")
    assert (item.date_start, item.date_end, item.updated_at) == ("2012-09-13", "2012-09-14", "2012-09-20T14:26+02:00")
    assert item.content_hash == content_hash(item) and len(item.content_hash) == 64
    assert item.problems == []
    assert pipeline.process_item(record(summary="Changed.")).content_hash != item.content_hash


def test_dates_are_read_in_the_time_zone_of_the_crawls_profile() -> None:
    from portalscraper.spiders.portal import PortalSpiderGeneric

    def updated_at(profile: str | None, default: str | None) -> str | None:
        crawler = get_crawler(PortalSpiderGeneric, settings_dict={"NORMALIZE_TIMEZONE": default})
        crawler.spider = crawler._create_spider(start_url="http://127.0.0.1:9/", **({"profile": profile} if profile
                                                                                    else {}))
        pipeline = NormalizePipeline.from_crawler(crawler)
        pipeline.open_spider()
        return pipeline.process_item(record()).updated_at

    # The profile's zone, whatever the record's portal says; a site with no profile: the setting's.
    assert updated_at("nato", None) == updated_at("nato", "Asia/Tokyo") == "2012-09-20T14:26+02:00"
    assert updated_at(None, "Asia/Tokyo") == "2012-09-20T14:26+09:00"
    assert updated_at(None, None) == "2012-09-20T14:26"


def test_validate_rejects_with_reasons_and_counts_them() -> None:
    crawler = get_crawler(settings_dict={"VALIDATE_REQUIRED_FIELDS": ["id", "url", "title"]})
    crawler.stats.open_spider()
    normalize, validate = NormalizePipeline.from_crawler(crawler), ValidatePipeline.from_crawler(crawler)
    with pytest.raises(RecordRejected) as err:
        validate.process_item(normalize.process_item(record(title="  ", date_text="31 Feb. 2012")))
    assert err.value.reasons == ["title: missing",
                                 "date_text: impossible date '31 Feb. 2012': day is out of range for month"]
    assert crawler.stats.get_value("validate/rejected/title") == 1
    assert crawler.stats.get_value("validate/rejected/date_text") == 1
    good = normalize.process_item(record())
    assert validate.process_item(good) is good


def test_dedupe_within_a_run_keeps_the_first() -> None:
    crawler = get_crawler()
    crawler.stats.open_spider()
    dedupe = DedupePipeline.from_crawler(crawler)
    first = record()
    assert dedupe.process_item(first) is first
    with pytest.raises(DuplicateRecord):
        dedupe.process_item(record(summary="another copy"))
    appearance = Appearance("12be8b96a125acf6", "u", "s", "People & Activities", 1)
    assert dedupe.process_item(appearance) is appearance  # appearances are not records
    assert crawler.stats.get_value("dedupe/duplicates") == 1
