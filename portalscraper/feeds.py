"""Scrapy feed exports (`-O out.jsonl`) that export records only, not listing appearances."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.extensions.feedexport import FeedExporter, ItemFilter

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
