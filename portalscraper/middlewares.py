"""Downloader middlewares: retries that back off and honour Retry-After, and text encodings repaired.

Enabled in settings.py (DOWNLOADER_MIDDLEWARES); each reads its settings in from_crawler.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares import cookies as scrapy_cookies
from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import deferred_to_future, maybe_deferred_to_future
from scrapy.utils.misc import build_from_crawler
from tldextract import TLDExtract
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

from portalscraper.http import OtherSiteRefused, text_header
from portalscraper.wayback import in_archive, replay_url, replayed_capture

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
        endpoint = getattr(getattr(self.crawler.spider, "args", None), "wayback", None)
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
        retry = self._retry(request, f"{response.status} response")
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
        retry = self._retry(request, exception)
        if retry is not None:
            wait = self._backoff(int(retry.meta.get("retry_times", 1)))
            self._say_wait(retry, wait, False)
            await _sleep(wait)
        return retry

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


class EncodingRepairMiddleware:
    """Text decoded as the page really is, whatever its headers claim.

    A body that is valid UTF-8 with non-ASCII text is UTF-8, even when the header or a meta tag
    names a single-byte charset; a body declared UTF-8 that is not valid UTF-8 is windows-1252
    (the usual culprit). Correct declarations pass untouched; `portal/encoding_repaired` counts
    the repairs.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

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


class OffsiteRedirectMiddleware:
    """A redirect to another origin than the crawled portal's (another host, or another port or
    scheme of the same host) is not followed, and says so.

    Scrapy's offsite filter drops such a redirect silently, and compares host names only; this
    stops it one step earlier, so that the request's errback records the page as failed
    ("redirected to another site").
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get("Location")
        if response.status not in (301, 302, 303, 307, 308) or not location:
            return response
        target = urljoin(request.url, location.decode("latin-1"))
        allows = getattr(self.crawler.spider, "allows_request", None)
        if allows is not None and not allows(target):
            self.crawler.stats.inc_value("portal/offsite_redirect")
            raise IgnoreRequest(f"offsite redirect to {target[:200]!r} not followed")
        return response


class OriginGuardMiddleware:
    """Only the crawled portal is ever asked: a request to any other origin (scheme, host and port:
    another host, another port of the same host, an IP literal, a `file:`, `ftp:` or `data:` URL)
    is refused before it is sent, whatever made it (an item link, a "Next" link, a redirect, a
    meta refresh, a retry), and its errback records why. In a web-archive crawl, only the archive
    is asked. Placed before RobotsTxtMiddleware, so that not even a robots.txt is asked of another
    host. The spider says what it allows (`allows_request`)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        allows = getattr(self.crawler.spider, "allows_request", None)
        if allows is not None and not allows(request.url):
            self.crawler.stats.inc_value("portal/other_origin_refused")
            logger.warning("Not requested, not the crawled portal's: %s", request.url[:300])
            raise OtherSiteRefused(f"another site, not requested: {request.url[:300]}")


class WaybackRedirectMiddleware:
    """A replayed redirect stays in the archive: an `id_` replay of a captured 301/302 carries the
    portal's own Location (`http://www.nato.int/...`); it is rewritten to the archive's capture of
    that target nearest the redirect's own capture time, which RedirectMiddleware then follows."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        endpoint = getattr(getattr(self.crawler.spider, "args", None), "wayback", None)
        location = response.headers.get("Location")
        if not endpoint or response.status not in (301, 302, 303, 307, 308) or not location:
            return response
        capture = replayed_capture(request.url, lambda name: text_header(response, name))
        if capture is None:
            return response
        target = urljoin(capture.original, location.decode("latin-1"))
        if in_archive(target, endpoint):
            return response  # the archive rewrote it already
        self.crawler.stats.inc_value("portal/archived_redirect_followed")
        headers = response.headers.copy()
        headers["Location"] = replay_url(endpoint, capture.timestamp, target)
        return response.replace(headers=headers)


class OfflineCookiesMiddleware(CookiesMiddleware):
    """Scrapy's cookie handling, with the public-suffix list it needs read from the copy bundled
    with tldextract: Scrapy's own module-level extractor downloads the list from the internet the
    first time a site sets a cookie, and a crawl of a loopback portal must send nothing off the
    machine. (Scrapy offers no setting for it, hence the module attribute.)"""

    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        scrapy_cookies._split_domain = TLDExtract(suffix_list_urls=(), cache_dir=None,
                                                  include_psl_private_domains=True)


class StrictRobotsTxtMiddleware(RobotsTxtMiddleware):
    """robots.txt as RFC 9309 reads it: a 4xx answer allows everything; a robots.txt that cannot
    be read whole (a 5xx, a timeout, a refused connection, one larger than ROBOTSTXT_MAXSIZE)
    allows nothing, and the pages it would have governed fail with that reason. One warning line
    per host, no traceback."""

    def __init__(self, crawler: Crawler, maxsize: int = 512 * 1024) -> None:
        super().__init__(crawler)
        self.maxsize = maxsize
        self._unreadable: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, crawler.settings.getint("ROBOTSTXT_MAXSIZE"))

    async def robot_parser(self, request: Request) -> Any:
        url = urlsplit(request.url)
        netloc = url.netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            robots = Request(f"{url.scheme}://{netloc}/robots.txt", priority=self.DOWNLOAD_PRIORITY,
                             meta={"dont_obey_robotstxt": True, "download_maxsize": self.maxsize,
                                   "dont_retry": False},
                             callback=NO_CALLBACK)
            parser: Any
            try:
                response = await self.crawler.engine.download_async(robots)
                self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
                if 400 <= response.status < 500:
                    parser = self._build(b"")  # RFC 9309: unavailable, so everything is allowed
                elif response.status >= 500:
                    parser = self._refuse(netloc, f"it answered HTTP {response.status}")
                else:
                    parser = self._build(response.body)
            except IgnoreRequest as exc:  # redirected where the crawl does not go: unavailable, as a 4xx
                logger.info("robots.txt of %s is not on the crawled origin (%s): taken as unavailable", netloc, exc)
                parser = self._build(b"")
            except Exception as exc:  # unreachable: RFC 9309 allows nothing
                message = str(exc) or type(exc).__name__
                if "maxsize" in message.lower() or "cancelled" in message.lower():
                    message = f"larger than {self.maxsize:,} bytes"
                parser = self._refuse(netloc, message[:200])
            self._stats.inc_value("robotstxt/request_count")
            waiting = self._parsers[netloc]
            self._parsers[netloc] = parser
            if isinstance(waiting, Deferred):
                waiting.callback(parser)
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    def process_request_2(self, rp: Any, request: Request) -> None:
        why = self._unreadable.get(urlsplit(request.url).netloc)
        if why is not None:
            self._stats.inc_value("robotstxt/forbidden")
            raise IgnoreRequest(f"robots.txt could not be read ({why}): nothing may be crawled there (RFC 9309)")
        super().process_request_2(rp, request)

    def _build(self, body: bytes) -> Any:
        return build_from_crawler(self._parserimpl, self.crawler, body)

    def _refuse(self, netloc: str, why: str) -> Any:
        self._unreadable[netloc] = why
        self._stats.set_value("portal/robots_unreadable", f"{netloc}: {why}")
        logger.warning("robots.txt of %s could not be read (%s): nothing is crawled there (RFC 9309)", netloc, why)
        return self._build(b"User-agent: *\nDisallow: /\n")
