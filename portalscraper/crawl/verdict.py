"""A crawl's verdict for schedulers: exit codes, error rate and drift alarms. Pure functions.

Exit codes (the `portalscraper` command returns them; each crawl row keeps its own):

    0  finished, items archived, nothing alarming
    1  the crawl did not finish (killed by a signal, shut down, or failed to start)
    2  bad input (a one-line message says what is wrong)
    3  finished with no items, where items were expected
    4  too many requests finally failed (VERDICT_MAX_ERROR_RATE)
    5  layout drift: a section went empty, or a field's fill rate dropped (VERDICT_*)
    6  another crawl is writing to the same archive
    7  finished, but listing pages could not be read: items only they list may be missing (the
       next run reads every listing again, a complete pass, and fetches them)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_ITEMS = 3
EXIT_ERROR_RATE = 4
EXIT_DRIFT = 5
EXIT_LOCKED = 6
EXIT_INCOMPLETE = 7


class CrawlRefusedError(Exception):
    """A crawl that cannot start (a bad argument or setting, a locked archive): the message is one
    line, `code` the exit status."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


class Failures(NamedTuple):
    """What finally failed in a crawl."""

    errors: int  # requests that finally failed, and callbacks that raised
    requests: int
    listings: int = 0  # listing pages that could not be read (among the errors)
    start: str | None = None  # the start page's URL and why, when it could not be fetched


@dataclass
class Verdict:
    exit_code: int
    alarms: list[str] = field(default_factory=list)


def drift_alarms(previous: Mapping[str, Any] | None, current: Mapping[str, Any], max_fill_drop: float,
                 min_records: int) -> list[str]:
    """Alarms from comparing a crawl's profile (sections, fill rates) with a previous healthy one's.

    A section that yielded items before and none now; a field whose fill rate dropped by more
    than `max_fill_drop` (a share: 0.2 is twenty points), judged only on `min_records` or more.
    """
    if not previous:
        return []
    alarms = []
    now_sections = current.get("sections") or {}
    for section, count in sorted((previous.get("sections") or {}).items()):
        if count and not now_sections.get(section):
            alarms.append(f"section {section!r} yielded no items (previous crawl: {count})")
    if (current.get("records_seen") or 0) >= min_records and (previous.get("records_seen") or 0) >= min_records:
        now_rates = current.get("fill_rates") or {}
        for name, before in sorted((previous.get("fill_rates") or {}).items()):
            after = now_rates.get(name, 0.0)
            if before - after > max_fill_drop:
                alarms.append(f"field {name!r} filled in {after:.0%} of records (previous crawl: {before:.0%})")
    return alarms


NO_FAILURES = Failures(0, 0)


def verdict(finish_reason: str | None, items: int, failures: Failures = NO_FAILURES, max_error_rate: float = 1.0,
            drift: list[str] | None = None) -> Verdict:
    """The crawl's exit code; the first that applies of: failed (`finish_reason` None: it never
    started), no items, error rate, listing pages unread, drift. A crawl no archive judged (no
    SQLite archive, or a spider of one's own) is judged by its finish reason and items alone."""
    errors, requests, listings, start_failure = failures
    drift = drift or []
    if finish_reason is None:
        return Verdict(EXIT_FAILED, ["the crawl could not start; see the log above"])
    if finish_reason == "shutdown":
        return Verdict(EXIT_FAILED, ["the crawl was interrupted (Ctrl-C or SIGTERM); continue it with the same "
                                     "command and --resume"])
    if finish_reason != "finished":
        return Verdict(EXIT_FAILED, [f"the crawl did not finish ({finish_reason})"])
    if items == 0 and start_failure:
        return Verdict(EXIT_NO_ITEMS, [f"cannot fetch the start page {start_failure}; check the base URL "
                                       "(--base-url) and that the portal is reachable"])
    if items == 0:
        return Verdict(EXIT_NO_ITEMS, ["the crawl finished with no items; check the base URL and the portal's layout"])
    rate = errors / requests if requests else 0.0
    if rate > max_error_rate:
        return Verdict(EXIT_ERROR_RATE, [f"{errors} of {requests} requests failed ({rate:.1%}, more than "
                                         f"{max_error_rate:.1%}); they are listed in the log and retried next run",
                                         *drift])
    if listings:
        return Verdict(EXIT_INCOMPLETE, [f"{listings} listing page(s) could not be read, so items only they list may "
                                         "be missing; the next run reads every listing again and fetches them", *drift])
    if drift:
        return Verdict(EXIT_DRIFT, drift)
    return Verdict(EXIT_OK)

