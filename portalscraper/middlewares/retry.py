"""Retries that back off per host and honour Retry-After (BackoffRetryMiddleware)."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.http import Response
from scrapy.utils.defer import deferred_to_future
from twisted.internet.task import deferLater

from portalscraper.crawl.contract import portal_spider

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: dt.datetime | None = None) -> float | None:
    """A Retry-After header (delay-seconds or an HTTP date) in seconds; None when absent or bad."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


@dataclass
class HostBackoff:
    """The back-off shared by every request to a host that refused one (429 Too Many Requests,
    503 Service Unavailable): nothing is sent to it before `resume_at` (what it asked, or the
    retry's back-off), and then one request every `gap` seconds, with jitter, so that refused
    requests do not come back together and collide again. The gap starts at `start` and doubles
    when a request sent since it last grew is refused too (at most `cap`); each answer shrinks it
    by a fifth (not below a quarter of `start` while refused requests are still to come back), and
    the back-off is over once it is under that quarter, with no refused request still to come."""

    start: float
    cap: float
    gap: float = 0.0
    resume_at: float = 0.0
    next_free: float = 0.0
    raised_at: float = 0.0
    owed: int = 0  # refused requests still to come back

    def refused(self, now: float, wait: float, sent: float, again: bool = False) -> None:
        """A request sent at `sent` was refused at `now` (`again`: it comes back); the host is not
        asked for `wait` seconds."""
        if not self.gap:
            self.gap, self.raised_at = self.start, now
        elif sent >= self.raised_at:
            self.gap, self.raised_at = min(self.cap, self.gap * 2), now
        self.resume_at = max(self.resume_at, now + wait)
        self.owed += int(again)

    def answered(self, now: float) -> bool:
        """An answer that was no refusal: True once the back-off is over."""
        floor = self.start / 4
        self.gap = max(self.gap * 0.8, floor) if self.owed else self.gap * 0.8
        return self.gap < floor and now >= self.resume_at

    def turn(self, now: float, jitter: float, coming_back: bool = False) -> float:
        """Seconds until a request may be sent (`coming_back`: one refused before); 0: now, and
        the next one's turn is set."""
        at = max(self.resume_at, self.next_free)
        if now < at:
            return at - now
        self.next_free = now + self.gap * jitter
        if coming_back:
            self.owed = max(0, self.owed - 1)
        return 0.0


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, spaced out: each retry waits BACKOFF_BASE * 2**(n-1) seconds (at
    most BACKOFF_MAX, with some jitter), or what the server's Retry-After asks on 429 and
    503. A Retry-After longer than BACKOFF_RETRY_AFTER_MAX gives up at once: the URL is recorded as
    failed and the next run tries again.

    In a web-archive crawl, a 429 or 503 from the archive (its own refusal, not a capture of one:
    no Memento-Datetime) concerns every request to it: they all wait, and then go one at a time,
    spread out (`HostBackoff`), retries and first requests alike, so that refused requests do not
    all come back in the same instant (public archives rate-limit the crawler, not a page). A
    portal's refusals are a page's: that page waits."""

    def __init__(self, settings: Any, base: float, cap: float, retry_after_max: float) -> None:
        super().__init__(settings)  # Scrapy's own RETRY_* settings
        self.base = base
        self.cap = cap
        self.retry_after_max = retry_after_max
        self.hosts: dict[str, HostBackoff] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        middleware = cls(settings, settings.getfloat("BACKOFF_BASE"), settings.getfloat("BACKOFF_MAX"),
                         settings.getfloat("BACKOFF_RETRY_AFTER_MAX"))
        middleware.crawler = crawler
        return middleware

    def _shared(self, request: Request) -> str | None:
        """The host of a request whose refusals concern every request to it: a web archive's."""
        endpoint = spider.args.wayback if (spider := portal_spider(self.crawler.spider)) else None
        host = urlsplit(request.url).netloc
        return host if endpoint and host == urlsplit(endpoint).netloc else None

    async def process_request(self, request: Request) -> None:
        """A request to a web archive that refused requests waits its turn (see HostBackoff)."""
        host = self._shared(request)
        if host is None:
            return
        coming_back = bool(request.meta.pop("_backoff_refused", False))
        while (backoff := self.hosts.get(host)) is not None:
            wait = backoff.turn(time.monotonic(), random.uniform(0.75, 1.25), coming_back)
            if wait <= 0:
                break
            await _sleep(wait)
        request.meta["_backoff_sent"] = time.monotonic()

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        refused = response.status in (429, 503) and not response.headers.get("Memento-Datetime") and \
            self._shared(request) is not None
        if not refused:
            self._answered(request)
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes or \
                response.headers.get("Memento-Datetime"):  # a web archive's capture of an error: the same forever
            if refused:
                self._refused(request, self._backoff(int(request.meta.get("retry_times", 0)) + 1))
            return response
        asked = retry_after_seconds(response.headers.get("Retry-After")) if response.status in (429, 503) else None
        if asked is not None and asked > self.retry_after_max:
            logger.warning("%s asks to retry after %.0f s, more than BACKOFF_RETRY_AFTER_MAX (%.0f s): left for the "
                           "next run", request.url, asked, self.retry_after_max)
            self.crawler.stats.inc_value("retry/retry_after_too_long")
            if refused:
                self._refused(request, self.retry_after_max)
            return response
        retry = self.retry_request(request, f"{response.status} response")
        attempt = int(request.meta.get("retry_times", 0)) + 1
        wait = asked if asked is not None else self._backoff(attempt)
        if refused:  # the retry waits its turn with every other request to the host (process_request)
            self._refused(request, wait, retry)
            if retry is not None:
                self._say_wait(retry, wait, asked is not None)
            return retry or response
        if retry is None:
            return response
        self._say_wait(retry, wait, asked is not None)
        await _sleep(wait)
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        if request.meta.get("dont_retry") or not isinstance(exception, self.exceptions_to_retry):
            return None
        retry = self.retry_request(request, exception)
        if retry is not None:
            wait = self._backoff(int(retry.meta.get("retry_times", 1)))
            self._say_wait(retry, wait, False)
            await _sleep(wait)
        return retry

    def retry_request(self, request: Request, reason: str | Exception) -> Request | None:
        """The request's retry, or None once it has been retried RETRY_TIMES: Scrapy's public
        get_retry_request, with the middleware's own limits (and a request's meta over them)."""
        assert self.crawler.spider is not None
        return get_retry_request(
            request, reason=reason, spider=self.crawler.spider,
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=request.meta.get("priority_adjust", self.priority_adjust),
            give_up_log_level=request.meta.get("give_up_log_level", self.give_up_log_level))

    def _backoff(self, attempt: int) -> float:
        return min(self.cap, self.base * 2.0 ** (attempt - 1)) * random.uniform(0.8, 1.2)

    def _say_wait(self, retry: Request, delay: float, asked: bool) -> None:
        if delay <= 0:
            return
        self.crawler.stats.inc_value("retry/backoff_ms", int(delay * 1000))
        # Every wait is said: a server asking for minutes of Retry-After must not look like a hang.
        log = logger.warning if asked and delay >= 5 else logger.info
        log("Waiting %.1f s before retry %d of %s (%s)", delay, int(retry.meta.get("retry_times", 1)),
            retry.url[:200], "Retry-After" if asked else "backoff")

    def _refused(self, request: Request, wait: float, retry: Request | None = None) -> None:
        host = urlsplit(request.url).netloc
        now = time.monotonic()
        backoff = self.hosts.get(host)
        if backoff is None:
            backoff = self.hosts[host] = HostBackoff(max(self.base, 0.01), max(self.cap, self.base))
            self.crawler.stats.inc_value("retry/host_backoff")
            logger.info("%s refuses requests for now: every request to it waits, then goes one at a time", host)
        backoff.refused(now, wait, float(request.meta.get("_backoff_sent", now)), retry is not None)
        if retry is not None:
            retry.meta["_backoff_refused"] = True

    def _answered(self, request: Request) -> None:
        host = urlsplit(request.url).netloc
        backoff = self.hosts.get(host)
        if backoff is not None and backoff.answered(time.monotonic()):
            del self.hosts[host]
            logger.info("%s answers again: requests to it go at the crawl's own pace", host)


async def _sleep(seconds: float) -> None:
    from twisted.internet import reactor  # here, not at import: Scrapy installs the reactor first

    await deferred_to_future(deferLater(reactor, seconds, lambda: None))
