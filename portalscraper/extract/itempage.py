"""One item page read into a record, as the `portal` spider reads it, and `portalscraper extract`.

`read_item_page` is the spider's own path for an item page (extract, merge with the page's own
entry, normalize), callable on any HTML: the command runs it on files, standard input and pages
fetched once (robots.txt obeyed, the project's user agent), and prints one JSON line per source.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector
from w3lib.encoding import html_to_unicode, read_bom, resolve_encoding

from portalscraper.extract.detail import extract_detail
from portalscraper.extract.normalize import normalize
from portalscraper.extract.records import Identity, merge
from portalscraper.extract.tree import PageText, Uncollected
from portalscraper.extract.urls import canonical_url, language, record_id
from portalscraper.items import Record
from portalscraper.profiles import Profile, profile_from_dict, site_profile

logger = logging.getLogger(__name__)

# The fields printed for each source, in order.
OUTPUT_FIELDS = ("title", "date_start", "date_end", "updated_at", "summary", "body", "language", "provenance")
MAX_BYTES = 16 * 1024 * 1024  # as DOWNLOAD_MAXSIZE: a page larger than this is refused
_NO_SITE = profile_from_dict({"name": "page", "base_url": "http://localhost", "title": "",
                              "urls": {"keep_query": ["*"]}})


def page_profile(url: str | None) -> Profile:
    """The profile the `portal` spider crawls a site with when it is given none: the page's host."""
    return site_profile(url) if url and urlsplit(url).hostname else _NO_SITE


def read_item_page(html: str | Selector, url: str | None = None, profile: Profile | None = None) -> Record:
    """The record of one item page: its fields extracted (the profile's selectors first), merged
    with the page's own entry, normalized in the profile's time zone."""
    with Uncollected():  # (the fields' normalization as well as their extraction: see there)
        profile = profile or page_profile(url)
        fields = extract_detail(html, profile.selectors, url)  # (a text is parsed there, as `parse_page` does)
        canonical = canonical_url(url, profile.urls) if url else ""
        identity = Identity(record_id(canonical), profile.name, "page", canonical,
                            language(url, profile.urls) if url else None, None, url or "")
        record = merge(identity, {"url": url}, dict(vars(fields)), profile.title)
        return normalize(record, profile.timezone)


def decode_page(body: bytes, content_type: str | None = None) -> str:
    """A page's text: as Scrapy decodes a response when the HTTP header names a charset; a file
    (no header) that is valid UTF-8 is UTF-8 whatever its meta tag says (pages saved by tools
    keep the charset they were served with), else its BOM, meta charset, or Windows-1252."""
    if content_type and "charset=" in content_type.lower():
        return html_to_unicode(content_type, body)[1]
    bom, _ = read_bom(body)
    if bom is None:
        try:
            return PageText.decode(body)
        except UnicodeDecodeError:
            pass
    return html_to_unicode(content_type, body, default_encoding=resolve_encoding("cp1252") or "cp1252")[1]


class SourceError(Exception):
    """A source that could not be read: the message says why, in one line."""


@dataclass
class Source:
    """One page to read: where from (`source`, as given), its URL, and an optional name."""

    source: str
    url: str | None = None
    name: str | None = None
    path: Path | None = None
    encoding: str | None = None

    def load(self, fetcher: Fetcher) -> tuple[str, str | None]:
        """The page's text and its URL."""
        if self.path is None and self.source.startswith(("http://", "https://")):
            final_url, content_type, body = fetcher.fetch(self.source)
            return decode_page(body, content_type), self.url or final_url
        body = _read_bytes(self.path, self.source)
        if self.encoding:
            try:
                return body.decode(self.encoding), self.url
            except (LookupError, UnicodeDecodeError) as exc:
                raise SourceError(f"cannot decode {self.source} as {self.encoding}: {exc}") from None
        return decode_page(body), self.url


def _read_bytes(path: Path | None, source: str) -> bytes:
    try:
        if path is None:  # standard input
            data = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            with path.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        if data[:2] == b"\x1f\x8b":
            data = _gunzip(data, source)
    except OSError as exc:
        raise SourceError(f"cannot read {source}: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise SourceError(f"{source} is larger than {MAX_BYTES:,} bytes")
    return data


def _gunzip(data: bytes, source: str) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
            return handle.read(MAX_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise SourceError(f"{source} is not a readable gzip file: {exc}") from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # redirects are followed by Fetcher, which asks robots.txt for each hop


class Fetcher:
    """Pages fetched once each with the project's user agent, robots.txt obeyed as the crawls
    obey it (RFC 9309: a robots.txt answering 4xx allows everything; one that cannot be read
    allows nothing)."""

    def __init__(self, user_agent: str, timeout: float = 30.0, max_redirects: int = 5) -> None:
        self.user_agent, self.timeout, self.max_redirects = user_agent, timeout, max_redirects
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._robots: dict[str, Any] = {}

    def _get(self, url: str) -> tuple[int, str, dict[str, str], bytes]:
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent})
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                return answer.status, answer.geturl(), dict(answer.headers), answer.read(MAX_BYTES + 1)
        except urllib.error.HTTPError as exc:
            return exc.code, url, dict(exc.headers or {}), exc.read(MAX_BYTES + 1) if exc.fp else b""
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise SourceError(f"cannot fetch {url}: {reason}") from None

    def allowed(self, url: str) -> bool:
        from protego import Protego

        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            try:
                status, _, _, body = self._get(origin + "/robots.txt")
            except SourceError as exc:
                raise SourceError(f"robots.txt of {origin} could not be read ({exc}); nothing is fetched") from None
            if 200 <= status < 300:
                self._robots[origin] = Protego.parse(body.decode("utf-8", "replace"))
            elif 400 <= status < 500 or status in (301, 302, 303, 307, 308):
                self._robots[origin] = None  # no robots.txt: everything allowed
            else:
                raise SourceError(f"robots.txt of {origin} answered {status}; nothing is fetched")
        robots = self._robots[origin]
        return robots is None or bool(robots.can_fetch(url, self.user_agent))

    def fetch(self, url: str) -> tuple[str, str | None, bytes]:
        """The page's final URL, content type and body; redirects followed (robots.txt asked for
        each), errors and refusals as SourceError."""
        for _ in range(self.max_redirects + 1):
            if not self.allowed(url):
                raise SourceError(f"{url} is forbidden by robots.txt")
            status, _, headers, body = self._get(url)
            headers = {k.lower(): v for k, v in headers.items()}
            if status in (301, 302, 303, 307, 308) and headers.get("location"):
                url = urljoin(url, headers["location"])
                continue
            if status != 200:
                raise SourceError(f"{url} answered {status}")
            if len(body) > MAX_BYTES:
                raise SourceError(f"{url} is larger than {MAX_BYTES:,} bytes")
            if headers.get("content-encoding", "").lower() == "gzip" or body[:2] == b"\x1f\x8b":
                body = _gunzip(body, url)
            return url, headers.get("content-type"), body
        raise SourceError(f"{url}: more than {self.max_redirects} redirects")


def manifest_sources(path: str) -> Iterator[Source | SourceError]:
    """The sources a JSON Lines manifest names (`path` relative to the manifest's folder, `url`,
    `name`, optional `encoding`); a line that is not one gives a SourceError in its place."""
    manifest = Path(path)
    with manifest.open(encoding="utf-8") as lines:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                    raise ValueError("no \"path\"")
            except ValueError as exc:
                yield SourceError(f"{path} line {n}: not a manifest entry ({exc})")
                continue
            target = entry["path"]
            is_url = target.startswith(("http://", "https://"))
            yield Source(target, entry.get("url"), entry.get("name"),
                         None if is_url else manifest.parent / target, entry.get("encoding"))


def result_line(source: Source, record: Record) -> dict[str, Any]:
    out: dict[str, Any] = {"name": source.name} if source.name is not None else {}
    out["source"] = source.source
    out["url"] = record.source_url or None
    for name in OUTPUT_FIELDS:
        out[name] = getattr(record, name)
    return out


def extract_sources(sources: Iterator[Source | SourceError], profile: Profile | None, fetcher: Fetcher,
                    out: IO[str]) -> int:
    """Read each source and print its JSON line; the number of sources that failed."""
    failed = 0
    for source in sources:
        if isinstance(source, SourceError):
            line: dict[str, Any] = {"source": None, "error": str(source)}
            failed += 1
        else:
            try:
                text, url = source.load(fetcher)
                line = result_line(source, read_item_page(text, url, profile))
            except SourceError as exc:
                line = {**({"name": source.name} if source.name is not None else {}), "source": source.source,
                        "url": source.url, "error": str(exc)}
                failed += 1
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        out.flush()
    return failed
