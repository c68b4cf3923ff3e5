"""Text decoded as the page really is, whatever its headers claim (EncodingRepairMiddleware)."""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.http import Response, TextResponse

from portalscraper.middlewares import CrawlerBound

logger = logging.getLogger(__name__)


class EncodingRepairMiddleware(CrawlerBound):
    """Text decoded as the page really is, whatever its headers claim.

    A body that is valid UTF-8 with non-ASCII text is UTF-8, even when the header or a meta tag
    names a single-byte charset; a body declared UTF-8 that is not valid UTF-8 is windows-1252
    (the usual culprit). Correct declarations pass untouched; `portal/encoding_repaired` counts
    the repairs.
    """

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse) or not response.body or response.body.isascii():
            return response
        declared = (response.encoding or "").lower().replace("_", "-")
        try:
            response.body.decode("utf-8")
            actual = "utf-8"
        except UnicodeDecodeError:
            actual = "cp1252" if declared in ("utf-8", "utf8") else ""
        if not actual or declared in (actual, "utf8" if actual == "utf-8" else actual):
            return response
        logger.debug("Decoding %s as %s, not %s as declared", response.url, actual, declared)
        self.crawler.stats.inc_value("portal/encoding_repaired")
        return response.replace(encoding=actual)
