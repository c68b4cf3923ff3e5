"""How politely a target is asked: the download settings for a portal, a replica on loopback or a
web archive."""

from __future__ import annotations

from typing import Any

from scrapy.settings import Settings

from portalscraper.crawl.httputil import is_loopback


def politeness(settings: Settings, target: str, web_archive: bool) -> dict[str, Any]:
    """The download settings for asking `target`: a replica or mirror of the portal on loopback at
    full speed (PORTAL_LOOPBACK_*); a web archive one request at a time with at least
    PORTAL_WAYBACK_DELAY between them (shared archives rate-limit the impolite), wherever it is:
    one reached through a tunnel or proxy on 127.0.0.1 is still someone else's. Only
    PORTAL_WAYBACK_FULL_SPEED (an archive of one's own, such as a pywb) reads one at full speed.
    Anything else as settings.py says."""
    full_speed = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                  "CONCURRENT_REQUESTS_PER_DOMAIN": settings.getint("PORTAL_LOOPBACK_CONCURRENCY")}
    if web_archive:
        if settings.getbool("PORTAL_WAYBACK_FULL_SPEED"):
            return full_speed
        delay = max(settings.getfloat("DOWNLOAD_DELAY"), settings.getfloat("PORTAL_WAYBACK_DELAY"))
        return {"DOWNLOAD_DELAY": delay, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}
    if is_loopback(target) and settings.getbool("PORTAL_LOOPBACK_FULL_SPEED"):
        return full_speed
    return {}
