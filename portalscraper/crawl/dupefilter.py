"""Scrapy's duplicate-request filter, with its fingerprints kept as compactly as record ids."""

from __future__ import annotations

from scrapy import Request
from scrapy.dupefilters import RFPDupeFilter

from portalscraper.crawl.recordids import RecordIdSet


class CompactDupeFilter(RFPDupeFilter):
    """`RFPDupeFilter` (the same fingerprints, log lines, stats and JOBDIR file) that keeps each
    fingerprint seen as 64 bits in a `RecordIdSet` instead of a set of 20-byte strings: about 90
    bytes each there, a few MB for the listing pages of a million-item portal, which the crawl
    would hold to its end. Two requests whose fingerprints share their first 64 bits would count
    as one: about one chance in 10^10 for the 50,000 pages such a portal lists its items on."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.seen = RecordIdSet()
        for fingerprint in self._fingerprints:  # a JOBDIR's, read by Scrapy
            self.seen.add(fingerprint[:8].hex())
        self._fingerprints.clear()

    def request_seen(self, request: Request) -> bool:
        fingerprint = self.fingerprinter.fingerprint(request)
        if not self.seen.add(fingerprint[:8].hex()):
            return True
        if self.file:
            self.file.write(len(fingerprint).to_bytes(2, "big") + fingerprint)
        return False

    def close(self, reason: str) -> None:
        super().close(reason)
        self.seen.close()
