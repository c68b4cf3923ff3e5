"""The project's own signals (connect with `crawler.signals.connect(handler, signal=...)`).

archive_opened(session)
    Sent by the store pipeline once the crawl's archive is open, before the first start request
    is read: the spider takes the archive's memory from it, the JSON Lines archive learns that it
    is to be written from the archive. A crawl with no SQLite archive sends none.

archive_finished(session, verdict)
    Sent by the store pipeline when the crawl is over and judged (crawl row written, lock still
    held): the JSON Lines archive is written from the archive then. A failure there amends the
    verdict (`session.alarm`).
"""

archive_opened = object()
archive_finished = object()
