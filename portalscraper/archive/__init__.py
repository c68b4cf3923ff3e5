"""Archive writers (SQLite, JSON Lines) and exports, usable without Scrapy."""

from portalscraper.archive.jsonl import EXPORT_FORMATS, JsonLinesWriter, export
from portalscraper.archive.lock import ArchiveLock, ArchiveLockedError
from portalscraper.archive.sqlite import ArchiveError, SQLiteArchive, ensure_schema, open_database

__all__ = ["EXPORT_FORMATS", "ArchiveError", "ArchiveLock", "ArchiveLockedError", "JsonLinesWriter", "SQLiteArchive",
           "ensure_schema", "export", "open_database"]
