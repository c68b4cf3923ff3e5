"""Validate: a record without its required fields, or with problems, is rejected with its reasons."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from portalscraper.items import Record


class RecordRejected(DropItem):
    """A record that failed validation. The store pipeline keeps it in the rejects table."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons), log_level="WARNING")
        self.reasons = reasons


def problems(record: Record, required: Iterable[str]) -> list[str]:
    found = [f"{name}: missing" for name in required if not getattr(record, name, None)]
    return found + list(record.problems)


class ValidatePipeline:
    def __init__(self, required: Iterable[str], stats: StatsCollector | None = None) -> None:
        self.required = tuple(required)
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings.getlist("VALIDATE_REQUIRED_FIELDS"), crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Record):
            return item
        reasons = problems(item, self.required)
        if reasons:
            if self.stats is not None:
                for reason in reasons:
                    self.stats.inc_value(f"validate/rejected/{reason.split(':')[0]}")
            raise RecordRejected(reasons)
        return item
