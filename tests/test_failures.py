"""What a failure means, one row a case: a request that finally failed (`crawl.responses.describe_failure`:
its reason, its status, whether it counts as an error) and an error that means the archive cannot
be written (`archive.session.storage_failure`)."""

from __future__ import annotations

import errno
import sqlite3

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError
from twisted.python.failure import Failure

from portalscraper.archive.session import storage_failure
from portalscraper.crawl.responses import OffsiteRedirect, OtherSiteRefused, RobotsForbidden, describe_failure


def coded(message: str, code: int) -> sqlite3.OperationalError:
    """An error as SQLite raises it: with its result code, which says what kind of error it is."""
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code
    return error


def failure(exc: BaseException) -> Failure:
    try:
        raise exc
    except BaseException:
        return Failure()


@pytest.mark.parametrize(
    ("exc", "described"),
    [
        (HttpError(Response("http://127.0.0.1:8080/x", status=503), "Ignoring non-200 response"),
         ("HTTP 503 Service Unavailable", 503, True)),
        (HttpError(Response("http://127.0.0.1:8080/x", status=404), "Ignoring non-200 response"),
         ("HTTP 404 Not Found", 404, True)),
        (HttpError(Response("http://127.0.0.1:8080/x", status=599), "Ignoring non-200 response"),
         ("HTTP 599", 599, True)),  # a status HTTP does not name
        # A policy, not a failure of the crawl: not counted.
        (OtherSiteRefused("another site, not requested: http://evil.example/"),
         ("another site, not requested: http://evil.example/", None, False)),
        (RobotsForbidden("Forbidden by robots.txt"), ("forbidden by robots.txt", None, False)),
        # A robots.txt that cannot be read is an error of the crawl (RFC 9309: nothing is allowed).
        (IgnoreRequest("robots.txt could not be read (it answered HTTP 500): nothing may be crawled there"),
         ("robots.txt could not be read (it answered HTTP 500): nothing may be crawled there", None, True)),
        (OffsiteRedirect("offsite redirect to 'http://evil.example/' not followed"),
         ("redirected to another site, not followed (redirect to 'http://evil.example/' not followed)", None, True)),
        (IgnoreRequest(), ("ignored", None, True)),
        (IgnoreRequest("download_maxsize exceeded"), ("download_maxsize exceeded", None, True)),
        (ConnectionRefusedError("111: Connection refused."),
         ("ConnectionRefusedError: Connection was refused by other side: 111: Connection refused..", None, True)),
        (DNSLookupError("no such host"), ("DNSLookupError: DNS lookup failed: no such host.", None, True)),
    ],
)
def test_why_a_request_failed(exc: BaseException, described: tuple[str, int | None, bool]) -> None:
    assert describe_failure(failure(exc)) == described


def test_a_long_error_is_cut_to_500_characters() -> None:
    reason, status, counted = describe_failure(failure(ValueError("x" * 600)))
    assert (len(reason), reason[:12], status, counted) == (500, "ValueError: ", None, True)


@pytest.mark.parametrize(
    ("exc", "described"),
    [
        (coded("database or disk is full", sqlite3.SQLITE_FULL), "cannot write the archive: database or disk is full"),
        (coded("disk I/O error", sqlite3.SQLITE_IOERR), "cannot write the archive: disk I/O error"),
        (coded("attempt to write a readonly database", sqlite3.SQLITE_READONLY),
         "cannot write the archive: attempt to write a readonly database"),
        (OSError(errno.ENOSPC, "No space left on device"), "cannot write the archive: No space left on device"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "cannot write the archive: Disk quota exceeded"),
        (OSError(errno.EROFS, "Read-only file system"), "cannot write the archive: Read-only file system"),
        (OSError(errno.EIO, "Input/output error"), "cannot write the archive: Input/output error"),
        (OSError(errno.EFBIG, "File too large"), "cannot write the archive: File too large"),
        # Any other error is the crawl's own, not the archive's medium.
        (sqlite3.OperationalError("no such table: records"), None),
        (OSError(errno.ENOENT, "No such file or directory"), None),
        (sqlite3.IntegrityError("disk is full"), None),  # only SQLite's operational errors say so
        (ValueError("disk is full"), None),
    ],
)
def test_what_means_the_archive_cannot_be_written(exc: BaseException, described: str | None) -> None:
    assert storage_failure(exc) == described
