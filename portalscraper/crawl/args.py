"""A crawl's arguments: one typed, pure parse, used by the spider, the pipelines, the WARC recorder,
the `portalscraper` command and `scrapy crawl` alike. No Scrapy in here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from portalscraper.extract.dates import parse_date
from portalscraper.profiles import Profile, load_profile, site_profile
from portalscraper.webarchive.wayback import WaybackError, check_timestamp

# The arguments a portal spider takes (`-a NAME=VALUE`, or the command's options); any other is
# left to Scrapy's Spider (Scrapyd's `_job`, for one).
NAMES = frozenset({"base_url", "lang", "since", "until", "max_items", "max_pages", "profile", "full", "resume",
                   "wayback", "from", "to", "start_url", "allow"})


class ArgumentError(ValueError):
    """A crawl argument with a bad value; the message is one line."""


def _iso_day(value: str | None, name: str) -> str | None:
    if not value:
        return None
    parsed = parse_date(value)
    if parsed.value is None or parsed.precision != "day" or not value[:4].isdigit():
        raise ArgumentError(f"{name} must be an ISO date such as 2012-09-01, not {value!r}")
    return parsed.value


def _positive(value: Any, name: str) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 1:
        raise ArgumentError(f"{name} must be a positive whole number, not {value!r}")
    return number


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ArgumentError(f"{name} must be true or false, not {value!r}")


def check_base_url(url: str, name: str = "base_url") -> str:
    try:
        parts = urlsplit(url)
        port = parts.port  # a port that is no number, or out of range, raises here
    except ValueError as exc:  # and a bracketed host that is no IPv6 address
        raise ArgumentError(f"{name} {url!r} is not a usable URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ArgumentError(f"{name} must be an http(s) URL such as https://www.nato.int, not {url!r}")
    if port == 0:
        raise ArgumentError(f"{name} {url!r} names port 0; give a port from 1 to 65535")
    return url.rstrip("/")


def _window(raw: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """A web-archive crawl's window of capture times (`from`, `to`)."""
    try:
        since = check_timestamp(raw.get("from"), "from")
        until = check_timestamp(raw.get("to"), "to")
    except WaybackError as exc:
        raise ArgumentError(str(exc)) from None
    if since and until and since.ljust(14, "0") > until.ljust(14, "9"):
        raise ArgumentError(f"from ({since}) is later than to ({until})")
    return since, until




@dataclass(frozen=True)
class CrawlArgs:
    """What one crawl was asked to do.

    base_url: the portal, a mirror or a replay root; lang; since and until (ISO dates); max_items
    (item pages at most); max_pages (listing pages at most per listing); full (page through every
    listing even when it only shows archived, unchanged items); resume (continue the latest
    interrupted crawl of the same arguments); wayback, from, to (a web archive's replay endpoint
    and window of capture times); start_url and allow (a site crawled without a profile).
    """

    spider: str
    profile: Profile
    base_url: str
    lang: str = ""
    since: str | None = None
    until: str | None = None
    max_items: int | None = None
    max_pages: int | None = None
    full: bool = False
    resume: bool = False
    wayback: str | None = None
    wb_from: str | None = None
    wb_to: str | None = None
    start_url: str | None = None
    allow: re.Pattern[str] | None = None

    @classmethod
    def parse(cls, spider: str, raw: Mapping[str, Any], own_profile: str | None = None) -> CrawlArgs:
        """Check and type the arguments of `spider`, whose own profile is `own_profile` (None for a
        spider that crawls any site from a start URL). Raises ArgumentError (or ProfileError)."""
        wb_from, wb_to = _window(raw)
        start_url, allow = cls._site(raw, own_profile)
        wayback = check_base_url(raw["wayback"], "wayback") if raw.get("wayback") else None
        base_url = raw.get("base_url")
        if start_url and not base_url:
            parts = urlsplit(start_url)
            base_url = f"{parts.scheme}://{parts.netloc}"
        name = raw.get("profile") or own_profile
        profile = load_profile(name) if name else site_profile(base_url or "")
        lang = raw.get("lang") or (profile.languages[0] if profile.languages else "")
        if profile.languages and lang not in profile.languages:
            raise ArgumentError(f"lang must be one of {', '.join(profile.languages)}, not {lang!r}")
        args = cls(spider, profile, check_base_url(base_url or profile.base_url), lang,
                   wayback=wayback, wb_from=wb_from, wb_to=wb_to, start_url=start_url, allow=allow)
        return args._with_limits(raw)

    @staticmethod
    def _site(raw: Mapping[str, Any], own_profile: str | None) -> tuple[str | None, re.Pattern[str] | None]:
        if own_profile is not None:
            return None, None
        start_url = raw.get("start_url")
        if not start_url:
            raise ArgumentError("start_url is required: scrapy crawl portal -a start_url=https://example.org/")
        check_base_url(start_url, "start_url")
        try:
            allow = re.compile(raw["allow"]) if raw.get("allow") else None
        except re.error as exc:
            raise ArgumentError(f"allow must be a regular expression, not {raw['allow']!r} ({exc})") from None
        return start_url, allow

    def _with_limits(self, raw: Mapping[str, Any]) -> CrawlArgs:
        since, until = _iso_day(raw.get("since"), "since"), _iso_day(raw.get("until"), "until")
        if since and until and since > until:
            raise ArgumentError(f"since ({since}) is after until ({until})")
        return replace(self, since=since, until=until, max_items=_positive(raw.get("max_items"), "max_items"),
                       max_pages=_positive(raw.get("max_pages"), "max_pages"), full=_flag(raw.get("full"), "full"),
                       resume=_flag(raw.get("resume"), "resume"))

    @property
    def portal(self) -> str:
        return self.profile.name

    @property
    def scoped(self) -> bool:
        """Limited to part of the portal (dates, counts): such a crawl cannot tell what is gone."""
        return bool(self.since or self.until or self.max_items or self.max_pages)

    def row(self) -> dict[str, Any]:
        """The arguments as the crawl row keeps them, and as a resumed crawl must match them."""
        row: dict[str, Any] = {"base_url": self.base_url, "lang": self.lang, "since": self.since,
                               "until": self.until, "max_items": self.max_items, "max_pages": self.max_pages,
                               "full": self.full}
        if self.wayback:
            row.update({"wayback": self.wayback, "from": self.wb_from, "to": self.wb_to})
        if self.start_url:
            row.update({"start_url": self.start_url, "allow": self.allow.pattern if self.allow else None})
        return row
