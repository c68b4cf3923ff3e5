"""The archive: one crawl's session, the SQLite writer, JSON Lines and exports. No Scrapy in here."""

from portalscraper.archive.export import EXPORT_FORMATS, export, overview
from portalscraper.archive.jsonl import JsonLinesWriter
from portalscraper.archive.lock import ArchiveLock, ArchiveLockedError
from portalscraper.archive.schema import ArchiveError, ensure_schema, open_database
from portalscraper.archive.session import CrawlSession, CrawlTotals, SessionOptions, storage_failure
from portalscraper.archive.sqlite import SQLiteArchive

__all__ = ["EXPORT_FORMATS", "ArchiveError", "ArchiveLock", "ArchiveLockedError", "CrawlSession", "CrawlTotals",
           "JsonLinesWriter", "SQLiteArchive", "SessionOptions", "ensure_schema", "export", "open_database", "overview",
           "storage_failure"]
