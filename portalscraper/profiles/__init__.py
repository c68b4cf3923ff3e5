"""Portal profiles: one TOML file per portal, read into a Profile. Adding a portal needs no Python."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class UrlRules:
    """How one portal's URLs map to page identities. Built from a profile's `[urls]` table."""

    canonical_origin: str = ""
    language_query: str = ""
    language_path: re.Pattern[str] | None = None
    rewrites: tuple[tuple[re.Pattern[str], str], ...] = ()
    keep_query: frozenset[str] = frozenset()
    kinds: tuple[tuple[str, re.Pattern[str]], ...] = ()
    listing: tuple[re.Pattern[str], ...] = ()
    # An item's parent listings: (pattern, replacement) on its path (an article's edition index).
    parents: tuple[tuple[re.Pattern[str], str], ...] = ()
    languages: tuple[str, ...] = ()
    local_origins: tuple[str, ...] = field(default=())

    def with_local_origin(self, base_url: str) -> UrlRules:
        """The same rules for a crawl of a mirror or replay at `base_url`: its URLs map to the
        portal's canonical origin, so ids do not depend on where the portal was crawled."""
        parts = urlsplit(base_url)
        origin = f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""
        if not origin or origin == self.canonical_origin or origin in self.local_origins:
            return self
        return UrlRules(**{**self.__dict__, "local_origins": (*self.local_origins, origin)})


class ProfileError(ValueError):
    """A profile that does not exist or does not make sense."""


@dataclass(frozen=True)
class Profile:
    name: str
    base_url: str
    allowed_domains: tuple[str, ...]
    languages: tuple[str, ...]
    urls: UrlRules
    start: dict[str, str] = field(default_factory=dict)
    selectors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    timezone: str | None = None
    title: str = ""
    sections: dict[str, str] = field(default_factory=dict)
    # The portal's feeds (RSS, Atom) and sitemaps (or sitemap indexes): paths on the base URL, or
    # URLs; `{lang}` is the crawl's language. With no sitemap named, robots.txt's `Sitemap:` lines.
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()

    def start_url(self, name: str, base_url: str, lang: str) -> str | None:
        path = self.start.get(name)
        return base_url.rstrip("/") + path.replace("{lang}", lang) if path else None

    def source_urls(self, kind: str, base_url: str, lang: str) -> list[str]:
        """The profile's feeds (`kind` "feeds") or sitemaps ("sitemaps") as URLs on `base_url`."""
        paths = self.feeds if kind == "feeds" else self.sitemaps
        return [p.replace("{lang}", lang) if "://" in p else base_url.rstrip("/") + p.replace("{lang}", lang)
                for p in paths]


def _regex(value: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(value)
    except re.error as exc:
        raise ProfileError(f"bad regular expression {value!r} in {where}: {exc}") from None


def _paths(values: Any, where: str) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) and v.startswith(("/", "http://", "https://"))
                                               for v in values):
        raise ProfileError(f"{where} must be a list of paths (/feed.xml) or http(s) URLs, not {values!r}")
    return tuple(values)


def profile_from_dict(data: dict[str, Any]) -> Profile:
    try:
        name = data["name"]
        urls = data.get("urls", {})
        rules = UrlRules(
            canonical_origin=data.get("canonical_origin", data["base_url"]).rstrip("/"),
            language_query=urls.get("language_query", ""),
            language_path=_regex(urls["language_path"], "urls.language_path") if urls.get("language_path") else None,
            rewrites=tuple((_regex(a, "urls.rewrites"), b) for a, b in urls.get("rewrites", [])),
            keep_query=frozenset(urls.get("keep_query", [])),
            kinds=tuple((k, _regex(v, f"urls.kinds.{k}")) for k, v in urls.get("kinds", {}).items()),
            listing=tuple(_regex(v, "urls.listing") for v in urls.get("listing", [])),
            parents=tuple((_regex(a, "urls.parents"), b) for a, b in urls.get("parents", [])),
            languages=tuple(data.get("languages", [])),
        )
        selectors = {k: tuple([v] if isinstance(v, str) else v) for k, v in data.get("selectors", {}).items()}
        sources = data.get("sources", {})
        feeds, sitemaps = _paths(sources.get("feeds", []), "sources.feeds"), \
            _paths(sources.get("sitemaps", []), "sources.sitemaps")
        return Profile(
            name=name,
            base_url=data["base_url"].rstrip("/"),
            allowed_domains=tuple(data.get("allowed_domains", [])),
            languages=tuple(data.get("languages", ["en"])),
            urls=rules,
            start=dict(data.get("start", {})),
            selectors=selectors,
            timezone=data.get("timezone"),
            title=data.get("title", name),
            sections=dict(data.get("sections", {})),
            feeds=feeds,
            sitemaps=sitemaps,
        )
    except ProfileError:
        raise
    except KeyError as exc:
        raise ProfileError(f"profile is missing the key {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"profile is malformed: {exc}") from None


def available() -> list[str]:
    return sorted(p.name.removesuffix(".toml") for p in resources.files(__package__).iterdir()
                  if p.name.endswith(".toml"))


def load_profile(name_or_path: str) -> Profile:
    """A built-in profile by name (`nato`), or a profile file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml":
        if not path.is_file():
            raise ProfileError(f"no profile file at {name_or_path}")
        text = path.read_text("utf-8")
    else:
        entry = resources.files(__package__).joinpath(f"{name_or_path}.toml")
        if not entry.is_file():
            raise ProfileError(f"unknown profile {name_or_path!r}; known: {', '.join(available())}")
        text = entry.read_text("utf-8")
    try:
        return profile_from_dict(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {name_or_path} is not valid TOML: {exc}") from None


def site_profile(base_url: str) -> Profile:
    """The profile of a site crawled with none: its host, any URL form an item."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "portal").lower()
    return profile_from_dict({
        "name": host.removeprefix("www."), "base_url": f"{parts.scheme}://{parts.netloc}",
        "allowed_domains": [host], "languages": [], "urls": {"keep_query": ["*"]},
    })
