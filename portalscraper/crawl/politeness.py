"""How politely a target is asked: the download settings for a portal, the project's own replica
or a web archive.

A target on loopback is not for that alone the project's own: a tunnel or a proxy on 127.0.0.1
may lead to a live portal or a public web archive. So full speed is decided by what the target
is: the project's replica (and its test sites), which says so in every answer (`REPLICA_HEADER`)
and is read at full speed from its first answer on (`middlewares.replica`), or a target the
researcher declares their own (PORTAL_FULL_SPEED, PORTAL_WAYBACK_FULL_SPEED)."""

from __future__ import annotations

from typing import Any

from scrapy.http import Response
from scrapy.settings import Settings

from portalscraper.crawl.httputil import REPLICA_HEADER, REPLICA_VALUE, is_loopback


def politeness(settings: Settings, target: str, web_archive: bool) -> dict[str, Any]:
    """The download settings for asking `target` from the crawl's start: a web archive one request
    at a time with at least PORTAL_WAYBACK_DELAY between them (shared archives rate-limit the
    impolite), wherever it is, unless PORTAL_WAYBACK_FULL_SPEED says it is one's own (a pywb); a
    portal as settings.py says (polite), unless PORTAL_FULL_SPEED says it is one's own (a local
    mirror). The replica is switched to full speed when it answers (`answers_as_replica`)."""
    full_speed = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                  "CONCURRENT_REQUESTS_PER_DOMAIN": settings.getint("PORTAL_FULL_SPEED_CONCURRENCY")}
    if web_archive:
        if settings.getbool("PORTAL_WAYBACK_FULL_SPEED"):
            return full_speed
        delay = max(settings.getfloat("DOWNLOAD_DELAY"), settings.getfloat("PORTAL_WAYBACK_DELAY"))
        return {"DOWNLOAD_DELAY": delay, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}
    if settings.getbool("PORTAL_FULL_SPEED"):
        return full_speed
    return {}


def answers_as_replica(response: Response) -> bool:
    """Whether the answer comes from the project's own replica (or test site): it says so, from a
    loopback address. A remote server saying so is not believed."""
    said = response.headers.get(REPLICA_HEADER)
    return said is not None and said.decode("latin-1") == REPLICA_VALUE and is_loopback(response.url)
