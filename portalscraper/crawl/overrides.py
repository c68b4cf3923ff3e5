"""A crawl's settings: the project's, with the command line's `-s NAME=VALUE` over them, each checked
before Scrapy or a component meets it mid-crawl (a value of the wrong type, a component that does
not load, an output path that cannot be written): one line each, exit code 2."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scrapy.settings import BaseSettings, Settings

from portalscraper.archive import SessionOptions
from portalscraper.crawl.verdict import CrawlRefusedError


def project_settings(overrides: dict[str, Any]) -> Settings:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "portalscraper.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    for key, value in overrides.items():
        try:
            settings.set(key, value, priority="cmdline")
        except (ValueError, TypeError):  # Scrapy reads a dictionary setting's text as JSON
            example = '{"module.Class": 500}' if key in _COMPONENT_SETTINGS else '{"name": "value"}'
            raise CrawlRefusedError(f"-s {key}={value}: a JSON object is expected, such as "
                                    f"-s '{key}={example}'") from None
    return settings


def parse_set(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CrawlRefusedError(f"-s takes NAME=VALUE, not {pair!r}")
        out[key] = value
    return out


def check_settings(settings: Settings, overrides: dict[str, Any]) -> None:
    """A `-s` value of the wrong type (`DOWNLOAD_TIMEOUT=abc`, `RETRY_TIMES=many`) is refused here,
    before Scrapy or a component meets it mid-crawl: the type is the default value's."""
    defaults = Settings()
    defaults.setmodule("portalscraper.settings", priority="project")
    for name, value in overrides.items():
        default = defaults.get(name)
        if isinstance(value, str) and name in _NARROWER:
            within, expected = _NARROWER[name]
            try:
                if not within(value):
                    raise ValueError
            except ValueError:
                raise CrawlRefusedError(f"-s {name}={value}: {expected} is expected") from None
        if not isinstance(value, str) or default is None or isinstance(default, str):
            continue
        if isinstance(default, BaseSettings | dict):
            _check_dict_setting(name, settings.getdict(name))  # JSON already (see project_settings)
            continue
        kind = type(default)
        try:
            if kind is bool:
                settings.getbool(name)
            elif kind is int and not name.endswith(("TIMEOUT", "DELAY", "SECONDS")):
                number = int(value)
                if number < 0:
                    raise ValueError
            elif kind is int:  # a time in seconds: a fraction will do
                if not float(value) >= 0:
                    raise ValueError
            elif kind is float and not float(value) >= 0:  # also refuses nan
                raise ValueError
        except ValueError:
            seconds = kind is int and name.endswith(("TIMEOUT", "DELAY", "SECONDS"))
            expected = {bool: "true or false", int: "a number, 0 or more" if seconds else "a whole number, 0 or more",
                        float: "a number, 0 or more"}.get(kind, kind.__name__)
            raise CrawlRefusedError(f"-s {name}={value}: {expected} is expected") from None


# Settings narrower than their type: one out of bounds fails mid-crawl (zlib's level), or makes it
# wait forever (no request at a time per site), or fails before the log starts (a level's name).
_NARROWER: dict[str, tuple[Callable[[str], bool], str]] = {
    "WARC_GZIP_LEVEL": (lambda v: 0 <= int(v) <= 9, "a whole number from 0 to 9"),
    "CONCURRENT_REQUESTS_PER_DOMAIN": (lambda v: int(v) >= 1, "a whole number, 1 or more"),
    "PORTAL_FULL_SPEED_CONCURRENCY": (lambda v: int(v) >= 1, "a whole number, 1 or more"),
    "LOG_LEVEL": (lambda v: v.upper() in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
                  "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
}
# Settings that name components (import paths) with their order: each path must load.
_COMPONENT_SETTINGS = ("DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "ITEM_PIPELINES", "EXTENSIONS", "ADDONS",
                       "DOWNLOAD_HANDLERS", "FEED_EXPORTERS", "FEED_STORAGES", "SPIDER_CONTRACTS")


def _check_dict_setting(name: str, found: dict[str, Any]) -> None:
    """A `-s` value of a dictionary setting that names components (`-s 'ITEM_PIPELINES={"a.B":
    300}'`) must name ones that load, with a number or null each; a feed's options are an object."""
    from scrapy.utils.misc import load_object

    if name == "FEEDS" and (bad := [uri for uri, options in found.items() if not isinstance(options, dict)]):
        raise CrawlRefusedError(f"-s FEEDS: each feed's options are a JSON object, such as -s 'FEEDS={{\"{bad[0]}\": "
                       f"{{\"format\": \"jsonlines\"}}}}'")
    if name not in _COMPONENT_SETTINGS:
        return
    for path, order in found.items():
        if order is None:
            continue
        if name != "DOWNLOAD_HANDLERS" and (isinstance(order, bool) or not isinstance(order, int | float)):
            raise CrawlRefusedError(f"-s {name}: the order of {path!r} must be a number or null, not {order!r}")
        target = order if name in ("DOWNLOAD_HANDLERS", "FEED_EXPORTERS", "FEED_STORAGES") else path
        try:
            load_object(target)
        except (ImportError, NameError, AttributeError, ValueError, TypeError) as exc:
            raise CrawlRefusedError(f"-s {name}: cannot load {target!r} ({exc})") from None


def check_output_path(path: str, what: str) -> None:
    """A JSON Lines path, a WARC folder or a log file the crawl could not write, refused before it
    starts (the SQLite archive is checked as the crawl's session opens it)."""
    if not path:
        return
    target = Path(path)
    if what == "log":
        try:
            with target.open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise CrawlRefusedError(f"-s LOG_FILE={path}: cannot write the log there ({exc.strerror})") from None
        return
    if what == "warc":
        if target.exists() and not target.is_dir():
            raise CrawlRefusedError(f"--warc {path} is not a folder; give a folder for the crawl's WARC files, "
                                    "or '' for none")
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CrawlRefusedError(f"cannot create the WARC folder {path}: {exc.strerror}") from None
        if not os.access(target, os.W_OK):
            raise CrawlRefusedError(f"cannot write WARC files into {path}: permission denied")
        return
    if target.is_dir():
        raise CrawlRefusedError(f"the JSON Lines path {path} is a folder; give a file path such as "
                                f"{target / 'records.jsonl'}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise CrawlRefusedError(f"cannot write the JSON Lines archive {path}: {exc.strerror}") from None


def session_options(settings: BaseSettings) -> SessionOptions:
    """How the crawl's archive is written and its crawl judged (ARCHIVE_*, VERDICT_*)."""
    return SessionOptions(
        batch_size=settings.getint("ARCHIVE_BATCH_SIZE"), flush_seconds=settings.getfloat("ARCHIVE_FLUSH_SECONDS"),
        fts_sync_rows=settings.getint("ARCHIVE_FTS_SYNC_ROWS"),
        max_error_rate=settings.getfloat("VERDICT_MAX_ERROR_RATE"), drift_alarms=settings.getbool("VERDICT_DRIFT"),
        max_fill_drop=settings.getfloat("VERDICT_MAX_FILL_DROP"),
        drift_min_records=settings.getint("VERDICT_DRIFT_MIN_RECORDS"))
