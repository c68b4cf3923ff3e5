"""Canonical URLs, record ids, page kinds and languages, by a portal's URL rules (pure functions)."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:  # the rules are a profile's (profiles/)
    from portalscraper.profiles import UrlRules


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def _same_site(netloc: str, canonical_netloc: str) -> bool:
    return netloc.lower().removeprefix("www.") == canonical_netloc.lower().removeprefix("www.")


def language(url: str, rules: UrlRules) -> str | None:
    """The language a URL's page is in: a locale query parameter wins over the path."""
    parts = urlsplit(url)
    if rules.language_query:
        for key, value in parse_qsl(parts.query):
            if key == rules.language_query and value:
                return value.lower()
    if rules.language_path is not None and (m := rules.language_path.search(parts.path)):
        return m.group("lang").lower()
    return None


# Query parameters that say where a visitor came from, never which page it is: campaign tags and
# click ids (the list w3lib's url_query_cleaner users drop). Never part of an identity.
_TRACKING = re.compile(r"^(?:utm_\w+|fbclid|gclid|gclsrc|dclid|msclkid|yclid|mc_cid|mc_eid|_ga|_gl|igshid|"
                       r"mkt_tok|oly_anon_id|oly_enc_id|vero_id|_hsenc|_hsmi|hsctatracking|wickedid|twclid|ttclid|"
                       r"srsltid|spm|scid|s_cid|ref_src|cmpid)$", re.IGNORECASE)


_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _normal_path(path: str) -> str:
    """A path as RFC 3986 compares paths: `.` and `..` segments resolved, escapes of unreserved
    characters decoded (`%7E` is `~`), other escapes in upper case (`%c3%a9` is `%C3%A9`)."""
    if "%" in path:
        path = _ESCAPE.sub(lambda m: chr(int(m[1], 16)) if chr(int(m[1], 16)) in _UNRESERVED else f"%{m[1].upper()}",
                           path)
    if "/." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for n, segment in enumerate(segments):
        if segment == ".":
            if n == len(segments) - 1:
                out.append("")
        elif segment == "..":
            if len(out) > 1:
                out.pop()
            if n == len(segments) - 1:
                out.append("")
        else:
            out.append(segment)
    return "/".join(out) or "/"


@lru_cache(maxsize=2048)  # a listing page asks for the same few URLs several times
def canonical_url(url: str, rules: UrlRules) -> str:
    """One absolute form per page: https and the canonical host, session segments and
    non-identity query parameters dropped, path rewrites applied, language kept."""
    parts = urlsplit(url.strip())
    lang = language(url, rules) or ""
    scheme, netloc = parts.scheme.lower(), parts.netloc.lower()
    if (scheme, netloc.rpartition(":")[2]) in (("http", "80"), ("https", "443")):
        netloc = netloc.rpartition(":")[0]  # the default port is no port
    canonical = urlsplit(rules.canonical_origin) if rules.canonical_origin else None
    if canonical and (_origin(url) in rules.local_origins or _same_site(netloc, canonical.netloc)):
        scheme, netloc = canonical.scheme, canonical.netloc
    path = _normal_path(parts.path or "/")
    for pattern, replacement in rules.rewrites:
        path = pattern.sub(replacement.replace("{lang}", lang or "en"), path)
    keep_all = "*" in rules.keep_query
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query)
                             if (keep_all and not _TRACKING.match(k)) or k in rules.keep_query))
    return urlunsplit((scheme, netloc, path, query, ""))


def record_id(canonical: str) -> str:
    """A stable id from a canonical URL: 16 hex digits of its SHA-1."""
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:16]


def page_kind(url: str, rules: UrlRules) -> str | None:
    """The kind of detail page a URL is (news, review, ...), or None when it is not one."""
    path = urlsplit(url).path
    for kind, pattern in rules.kinds:
        if pattern.search(path):
            return kind
    return None


def is_listing(url: str, rules: UrlRules) -> bool:
    path = urlsplit(url).path
    return any(p.search(path) for p in rules.listing)
