"""Scrapy feed exports (`-O out.jsonl`) that export records only, not listing appearances, and
write CSV as `portalscraper export --format csv` does."""

from __future__ import annotations

import json
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exporters import CsvItemExporter
from scrapy.extensions.feedexport import FeedExporter, ItemFilter

from portalscraper.archive.export import csv_cell
from portalscraper.items import Record


class RecordsOnly(ItemFilter):
    """Accepts Record items, unless a feed names its own `item_classes`."""

    def accepts(self, item: Any) -> bool:
        return super().accepts(item) if self.item_classes else isinstance(item, Record)


class RecordFeedExporter(FeedExporter):
    """Scrapy's FeedExporter with `RecordsOnly` as the default filter of every feed."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        for uri, options in self.feeds.items():
            if "item_filter" not in options:
                self.filters[uri] = RecordsOnly(options)


class RecordCsvExporter(CsvItemExporter):
    """CSV with `provenance` (and any other mapping or list) as JSON, and cells a spreadsheet would
    run as formulas quoted (`csv_cell`), as `portalscraper export --format csv` writes them."""

    def serialize_field(self, field: Any, name: str, value: Any) -> Any:
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False)
        return csv_cell(super().serialize_field(field, name, value))
