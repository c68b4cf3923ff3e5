"""A record as the archive keeps it: texts cleaned and cut to size, dates parsed, the content
hashed (pure functions: the crawl's NormalizePipeline and the `extract` command both use them)."""

from __future__ import annotations

import hashlib

from portalscraper.extract.dates import parse_date_range, parse_updated
from portalscraper.extract.text import clean_paragraphs, clean_text, drop_boilerplate
from portalscraper.items import CONTENT_FIELDS, Record


def content_hash(record: Record) -> str:
    """SHA-256 over the published content fields: a changed hash is a changed item."""
    digest = hashlib.sha256()
    for name in CONTENT_FIELDS:
        digest.update((getattr(record, name) or "").encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


# Longest texts kept, in characters: a hostile or broken page's megabyte "title" is cut here, and
# the record says so in `problems`.
MAX_CHARS = {"title": 1_000, "summary": 10_000, "section": 200, "date_text": 200, "updated_text": 200,
             "body": 2_000_000}


def normalize(record: Record, tz: str | None = None) -> Record:
    """Clean a record's texts and parse its dates in place; problems go to `record.problems`."""
    lengths = {}
    for name, limit in MAX_CHARS.items():  # cut before cleaning too: bounded work on any input
        value = getattr(record, name)
        if value and len(value) > limit:
            lengths[name] = len(value)
            setattr(record, name, value[:limit * 4])
    record.title = drop_boilerplate(clean_text(record.title))
    record.summary = drop_boilerplate(clean_text(record.summary))
    record.section = clean_text(record.section)
    record.body = clean_paragraphs((record.body or "").split("\n\n"))
    record.date_text = clean_text(record.date_text) or None
    record.updated_text = clean_text(record.updated_text) or None
    for name, limit in MAX_CHARS.items():
        value = getattr(record, name)
        if value and len(value) > limit:
            setattr(record, name, value[:limit].rstrip() + "…")
            record.problems.append(f"{name}: {lengths.get(name, len(value)):,} characters, more than the "
                                   f"{limit:,} kept")
    if record.date_text:
        dates = parse_date_range(record.date_text)
        record.date_start, record.date_end = dates.start, dates.end
        if dates.reason:
            record.problems.append(f"date_text: {dates.reason}")
    if record.updated_text:
        updated = parse_updated(record.updated_text, tz)
        record.updated_at = updated.value
        if updated.reason:
            record.problems.append(f"updated_text: {updated.reason}")
    record.content_hash = content_hash(record)
    return record
