"""Canonical URLs, record ids, page kinds and languages, by a portal's URL rules (pure functions)."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, parse_qsl, urldefrag, urlencode, urljoin, urlsplit, urlunsplit

if TYPE_CHECKING:  # the rules are a profile's (profiles/)
    from portalscraper.profiles import UrlRules


# An absolute http(s) URL that urllib splits, and joins to any base without a fragment, into what
# it is: a lower-case scheme, a plain host, printable ASCII, no fragment, parameters, brackets or
# empty query. Its parts are the groups.
_PLAIN_URL = re.compile(r"(https?)://([A-Za-z0-9.-]+(?::[0-9]+)?)((?:/[!-\"$-:<->@-Z^-~]*)?)(?:\?([!-\"$-~]+))?\Z")


def split_url(url: str) -> SplitResult:
    """urllib's urlsplit, by one match for a plain absolute URL (most of a sitemap's or a page's)."""
    if m := _PLAIN_URL.match(url):
        return SplitResult(m[1], m[2], m[3], m[4] or "", "")
    return urlsplit(url)


def absolute_url(href: str, base: str) -> str:
    """A link as an absolute URL without its fragment ("" for an empty one). A sitemap's ten
    thousand locations are absolute already: those are taken as they are, not split and joined."""
    href = href.strip()
    if not href:
        return ""
    if _PLAIN_URL.match(href):
        return href
    return urldefrag(urljoin(base, href))[0]


def _origin(parts: SplitResult) -> str:
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


@lru_cache(maxsize=16)
def _split(url: str) -> SplitResult:
    return urlsplit(url)


def _same_site(netloc: str, canonical_netloc: str) -> bool:
    return netloc.lower().removeprefix("www.") == canonical_netloc.lower().removeprefix("www.")


def language(url: str, rules: UrlRules) -> str | None:
    """The language a URL's page is in: a locale query parameter wins over the path."""
    return _language(split_url(url), rules)


def _language(parts: SplitResult, rules: UrlRules) -> str | None:
    if rules.language_query and parts.query:
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


def canonical_url(url: str, rules: UrlRules) -> str:
    """One absolute form per page: https and the canonical host, session segments and
    non-identity query parameters dropped, path rewrites applied, language kept."""
    parts = split_url(url.strip())
    lang = _language(parts, rules) or ""
    scheme, netloc = parts.scheme.lower(), parts.netloc.lower()
    if (scheme, netloc.rpartition(":")[2]) in (("http", "80"), ("https", "443")):
        netloc = netloc.rpartition(":")[0]  # the default port is no port
    canonical = _split(rules.canonical_origin) if rules.canonical_origin else None
    if canonical and (_origin(parts) in rules.local_origins or _same_site(netloc, canonical.netloc)):
        scheme, netloc = canonical.scheme, canonical.netloc
    path = _normal_path(parts.path or "/")
    for pattern, replacement in rules.rewrites:
        path = pattern.sub(replacement.replace("{lang}", lang or "en"), path)
    query = ""
    if parts.query:
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
