"""The `portalscraper` command: thin, arguments in, one-line errors out.

    portalscraper crawl nato [--base-url URL] [--since D] [--full] [--resume] [--db PATH] [--jsonl PATH]
    portalscraper reparse --warc FILE... [--db PATH] [--jsonl PATH]
    portalscraper demo
    portalscraper export --format json|jsonl|csv [--db PATH] [-o FILE]
    portalscraper replica [--port 8000] [--items N] [--changes FILE]
    portalscraper extract [--url URL] [--manifest FILE] [--profile NAME] [SOURCE ...]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from portalscraper.crawl.verdict import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from portalscraper.replica import command as replica_command
from portalscraper.replica.launch import ReplicaError, replica_process


class CliError(Exception):
    """An error the user can fix: printed as one line, exit code 2 unless another is given."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def _settings(overrides: dict[str, Any]) -> Any:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "portalscraper.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    for key, value in overrides.items():
        try:
            settings.set(key, value, priority="cmdline")
        except (ValueError, TypeError):  # Scrapy reads a dictionary setting's text as JSON
            example = '{"module.Class": 500}' if key in _COMPONENT_SETTINGS else '{"name": "value"}'
            raise CliError(f"-s {key}={value}: a JSON object is expected, such as -s '{key}={example}'") from None
    return settings


def _parse_set(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"-s takes NAME=VALUE, not {pair!r}")
        out[key] = value
    return out


def _check_settings(settings: Any, overrides: dict[str, Any]) -> None:
    """A `-s` value of the wrong type (`DOWNLOAD_TIMEOUT=abc`, `RETRY_TIMES=many`) is refused here,
    before Scrapy or a component meets it mid-crawl: the type is the default value's."""
    from scrapy.settings import BaseSettings, Settings

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
                raise CliError(f"-s {name}={value}: {expected} is expected") from None
        if not isinstance(value, str) or default is None or isinstance(default, str):
            continue
        if isinstance(default, BaseSettings | dict):
            _check_dict_setting(name, settings.getdict(name))  # JSON already (see _settings)
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
            raise CliError(f"-s {name}={value}: {expected} is expected") from None


# Settings narrower than their type: one out of bounds fails mid-crawl (zlib's level), or makes it
# wait forever (no request at a time per site), or fails before the log starts (a level's name).
_NARROWER: dict[str, tuple[Callable[[str], bool], str]] = {
    "WARC_GZIP_LEVEL": (lambda v: 0 <= int(v) <= 9, "a whole number from 0 to 9"),
    "CONCURRENT_REQUESTS_PER_DOMAIN": (lambda v: int(v) >= 1, "a whole number, 1 or more"),
    "PORTAL_LOOPBACK_CONCURRENCY": (lambda v: int(v) >= 1, "a whole number, 1 or more"),
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
        raise CliError(f"-s FEEDS: each feed's options are a JSON object, such as -s 'FEEDS={{\"{bad[0]}\": "
                       f"{{\"format\": \"jsonlines\"}}}}'")
    if name not in _COMPONENT_SETTINGS:
        return
    for path, order in found.items():
        if order is None:
            continue
        if name != "DOWNLOAD_HANDLERS" and (isinstance(order, bool) or not isinstance(order, int | float)):
            raise CliError(f"-s {name}: the order of {path!r} must be a number or null, not {order!r}")
        target = order if name in ("DOWNLOAD_HANDLERS", "FEED_EXPORTERS", "FEED_STORAGES") else path
        try:
            load_object(target)
        except (ImportError, NameError, AttributeError, ValueError, TypeError) as exc:
            raise CliError(f"-s {name}: cannot load {target!r} ({exc})") from None


def _check_archive_path(path: str, what: str) -> None:
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
            raise CliError(f"-s LOG_FILE={path}: cannot write the log there ({exc.strerror})") from None
        return
    if what == "warc":
        if target.exists() and not target.is_dir():
            raise CliError(f"--warc {path} is not a folder; give a folder for the crawl's WARC files, or '' for none")
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CliError(f"cannot create the WARC folder {path}: {exc.strerror}") from None
        if not os.access(target, os.W_OK):
            raise CliError(f"cannot write WARC files into {path}: permission denied")
        return
    if target.is_dir():
        raise CliError(f"the JSON Lines path {path} is a folder; give a file path such as {target / 'records.jsonl'}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise CliError(f"cannot write the JSON Lines archive {path}: {exc.strerror}") from None


def run_crawl(spider: str, spider_args: dict[str, Any], overrides: dict[str, Any]) -> int:
    """Run one spider through Scrapy's CrawlerProcess (see portalscraper/crawl/runner.py); return the
    exit code for a scheduler, with one line on standard error per alarm."""
    return _crawl(spider, spider_args, overrides)[0]


def show_progress() -> None:
    """The progress lines on standard error as they are, whatever the log level (the demo's log is
    at WARNING: its progress and what goes wrong). A handler of the progress logger's own, which
    Scrapy's log set-up leaves alone."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.setLevel(logging.INFO)
    progress = logging.getLogger("portalscraper.crawl.progress")
    progress.addHandler(handler)
    progress.setLevel(logging.INFO)


def _crawl(spider: str, spider_args: dict[str, Any], overrides: dict[str, Any],
           summary: bool = True) -> tuple[int, dict[str, Any] | None]:
    """The crawl's exit code, and its crawl row when it has an archive. At WARNING (-q, the cron
    recipe) the crawl's one-line summary is printed (`summary`), as its log would say it."""
    from scrapy.spiderloader import SpiderLoader

    from portalscraper.crawl.runner import CrawlRefusedError, run

    settings = _settings(overrides)
    _check_settings(settings, overrides)
    loader = SpiderLoader.from_settings(settings)
    if spider not in loader.list():
        raise CliError(f"unknown spider {spider!r}; known: {', '.join(sorted(loader.list()))}")
    _check_archive_path(settings.get("ARCHIVE_JSONL_PATH"), "jsonl")
    _check_archive_path(settings.get("WARC_DIR"), "warc")
    _check_archive_path(settings.get("LOG_FILE"), "log")
    try:
        outcome = run(loader.load(spider), spider_args, settings)
    except CrawlRefusedError as exc:
        raise CliError(str(exc), exc.code) from None
    if outcome.crawl is not None and settings.get("LOG_LEVEL") == "WARNING" and summary:
        # The cron recipe's level (and -q): the crawl's own INFO summary is not shown, this line is.
        from portalscraper.archive.session import summary_line

        print(summary_line(outcome.crawl), file=sys.stderr)
    for alarm in outcome.alarms:
        print(f"Error: {alarm}", file=sys.stderr)
    return outcome.exit_code, outcome.crawl


def _crawl_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = _parse_set(args.set or [])
    if args.db is not None:
        overrides["ARCHIVE_SQLITE_PATH"] = args.db
    if args.jsonl is not None:
        overrides["ARCHIVE_JSONL_PATH"] = args.jsonl
    if args.log_level:
        overrides["LOG_LEVEL"] = args.log_level
    if getattr(args, "warc", None) is not None and isinstance(args.warc, str):
        overrides["WARC_DIR"] = args.warc
    return overrides


def cmd_reparse(args: argparse.Namespace) -> int:
    """Rebuild an archive from WARC files alone: each crawl they hold is run again, with the same
    spider, arguments, mode and pipelines, answered from its own files.

    The files are grouped by the crawl that wrote them (their warcinfo records say which) and the
    crawls re-parsed in the order they ran, into the same archive, each in a process of its own;
    the exit code is the worst of theirs. The JSON Lines archive goes next to the database
    (`<db>.jsonl`), not over the crawls' own."""
    crawls = _warc_crawls([Path(f) for f in args.warc_files], args.spider)
    db = args.db or _settings({}).get("ARCHIVE_SQLITE_PATH")
    if args.jsonl is None:
        args.jsonl = str(Path(db).with_suffix(".jsonl"))
    if len(crawls) == 1:
        return _reparse(crawls[0], args)
    print(f"Re-parsing {len(args.warc_files)} WARC files of {len(crawls)} crawls, one after the other", file=sys.stderr)
    codes = []
    for crawl in crawls:
        own = [str(f.path) for f in crawl.files]
        options = ["--db", db, "--jsonl", args.jsonl, *(["--log-level", args.log_level] if args.log_level else []),
                   *(["--spider", args.spider] if args.spider else []), *(f"--set={pair}" for pair in args.set or [])]
        # The other crawls' files: what this one's 304s may refer to.
        others = [str(f) for f in args.warc_files if str(f) not in own]
        command = [sys.executable, "-m", "portalscraper.cli", "reparse", *options, "--warc", *own,
                   *(["--refer", *others] if others else [])]
        codes.append(subprocess.run(command, check=False).returncode)
    return max(codes)


def _warc_crawls(files: list[Path], spider: str | None) -> list[Any]:
    """The crawls the files hold (portalscraper.webarchive.warcfiles.WarcCrawl), in the order they ran; every
    file read through before any crawl starts."""
    from portalscraper.webarchive.warcfiles import WarcError, crawls_of

    for path in files:
        if not path.is_file():
            raise CliError(f"no WARC file at {path}")
    try:
        return crawls_of(files, spider)
    except (WarcError, ValueError) as exc:
        raise CliError(str(exc)) from None


def _reparse(crawl: Any, args: argparse.Namespace) -> int:
    """One crawl's files re-parsed, as the crawl ran: its arguments and mode (a complete pass, or an
    incremental one that asks for archived items conditionally and is answered by the 304s it
    got), its crawl row's id and start. Files from before crawls were stamped in them are re-parsed
    as a complete pass over what they hold. An item page the crawl got as 304 Not Modified is
    rebuilt from the archive being rebuilt, as the crawl rebuilt it."""
    overrides = _crawl_overrides(args)
    spider_args = dict(crawl.args)
    if crawl.stamped:
        overrides.update({
            "WARC_REPLAY_CRAWL": crawl.replay(), "PORTAL_INCREMENTAL": crawl.incremental,
            # The mode it ran in, whatever the time since the last complete pass is now.
            "PORTAL_FULL_PASS_DAYS": 0 if crawl.mode.startswith("full") else _NEVER_DAYS,
        })
    else:
        spider_args = {k: v for k, v in spider_args.items() if k != "resume"} | {"full": "true"}
    overrides.update({
        "WARC_REPLAY_FILES": [str(f.path) for f in crawl.files], "WARC_DIR": "",
        "WARC_REPLAY_REFERENCES": [str(f) for f in args.refer or []],
        "DOWNLOAD_HANDLERS": {"http": "portalscraper.webarchive.warc.WarcReplayHandler",
                              "https": "portalscraper.webarchive.warc.WarcReplayHandler"},
        "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "RETRY_ENABLED": False,
    })
    print(f"Re-parsing {len(crawl.files)} WARC file(s) with the {crawl.spider} spider ({spider_args.get('base_url')})",
          file=sys.stderr)
    return run_crawl(crawl.spider, spider_args, overrides)


_NEVER_DAYS = 10**6  # PORTAL_FULL_PASS_DAYS that no archive is old enough for


def cmd_crawl(args: argparse.Namespace) -> int:
    spider_args = {k: v for k, v in {
        "base_url": args.base_url, "lang": args.lang, "since": args.since, "until": args.until,
        "max_items": args.max_items, "max_pages": args.max_pages,
        "full": args.full or None, "resume": args.resume or None, "start_url": args.start_url,
        "allow": args.allow, "profile": args.profile, "wayback": args.wayback, "from": args.wb_from,
        "to": args.wb_to,
    }.items() if v is not None}
    if args.redis:
        return _shared_crawl(args.spider, spider_args, _crawl_overrides(args), args.redis, args.workers)
    return run_crawl(args.spider, spider_args, _crawl_overrides(args))


def _shared_crawl(spider: str, spider_args: dict[str, Any], overrides: dict[str, Any], url: str,
                  workers: int) -> int:
    """`crawl --redis`: this process writes the archive; workers (local, or joining) crawl."""
    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.log import configure_logging

    from portalscraper.crawl.runner import CrawlRefusedError, open_session
    from portalscraper.distributed.coordinator import coordinate
    from portalscraper.distributed.frontier import Frontier, shown

    if workers < 0:
        raise CliError("--workers must be 0 or more")
    settings = _settings(overrides)
    _check_settings(settings, overrides)
    loader = SpiderLoader.from_settings(settings)
    if spider not in loader.list():
        raise CliError(f"unknown spider {spider!r}; known: {', '.join(sorted(loader.list()))}")
    if getattr(loader.load(spider), "defer_items", False):
        raise CliError(f"spider {spider!r} reads every listing before any item page: it cannot be shared yet")
    if spider_args.get("wayback"):
        raise CliError("a web-archive crawl (--wayback) reads the homepage's captures in order: it cannot be "
                       "shared yet")
    _check_archive_path(settings.get("ARCHIVE_JSONL_PATH"), "jsonl")
    _check_archive_path(settings.get("LOG_FILE"), "log")
    try:
        Frontier(url).redis.ping()  # before the archive is opened: a crawl that cannot start leaves no row
    except (_redis_errors(), ValueError) as exc:
        raise CliError(f"cannot use Redis at {shown(url)}: {exc}") from None
    try:
        session = open_session(settings, loader.load(spider), spider_args)
    except CrawlRefusedError as exc:
        raise CliError(str(exc), exc.code) from None
    if session is None:
        raise CliError("a shared crawl needs a SQLite archive (--db)")
    configure_logging(settings)
    job = {"spider": spider, "args": spider_args, "settings": overrides, "prefix": settings.get("FRONTIER_PREFIX")}
    try:
        verdict = coordinate(session, job, url, workers, settings.get("ARCHIVE_JSONL_PATH"))
    except _redis_errors() as exc:
        raise CliError(f"cannot use Redis at {shown(url)}: {exc}") from None
    finally:
        session.close()
    if session.row is not None and settings.get("LOG_LEVEL") == "WARNING":
        from portalscraper.archive.session import summary_line

        print(summary_line(session.row), file=sys.stderr)
    for alarm in verdict.alarms:
        print(f"Error: {alarm}", file=sys.stderr)
    return verdict.exit_code


def _redis_errors() -> type[Exception]:
    import redis

    return redis.RedisError


def cmd_worker(args: argparse.Namespace) -> int:
    import redis
    from scrapy.utils.log import configure_logging

    from portalscraper.distributed.coordinator import run_worker, worker_name
    from portalscraper.distributed.frontier import shown

    try:
        redis.Redis.from_url(args.redis)  # connects to nothing yet: only reads the URL
    except ValueError as exc:
        raise CliError(f"cannot use Redis at {args.redis}: {exc}") from None
    settings = _settings({})
    configure_logging(settings)
    try:
        return run_worker(args.redis, args.prefix, args.name or worker_name(), settings)
    except _redis_errors() as exc:
        raise CliError(f"cannot use Redis at {shown(args.redis)}: {exc}") from None


def cmd_demo(args: argparse.Namespace) -> int:
    from portalscraper.archive import overview

    overrides = _crawl_overrides(args)
    if "LOG_LEVEL" not in overrides:  # progress lines and warnings, unless a log level is asked for
        overrides["LOG_LEVEL"] = "WARNING"
        show_progress()
    if not 5 <= args.items <= replica_command.MAX_REPLICA_ITEMS:
        raise CliError(f"--items must be from 5 (the homepage's news items) to "
                       f"{replica_command.MAX_REPLICA_ITEMS:,}, not {args.items}")
    try:
        with replica_process(args.items) as base_url:
            print(f"Replica portal (2012-09-28 homepage, {args.items} news items) at {base_url}")
            code, crawl = _crawl("nato", {"base_url": base_url}, overrides, summary=False)
    except ReplicaError as exc:
        raise CliError(str(exc), EXIT_FAILED) from None
    settings = _settings(overrides)
    db_path = settings.get("ARCHIVE_SQLITE_PATH")
    if crawl is None or not db_path:
        return code
    print(f"Crawl {crawl['id']} ({crawl['mode']}): {crawl['status']}, {crawl['records']} records seen "
          f"({crawl['records_new']} new, {crawl['records_changed']} changed, {crawl['records_unchanged']} unchanged), "
          f"{crawl['appearances']} appearances, {crawl['rejects']} rejects, {crawl['duration_s']} s")
    archive = overview(db_path)
    print("Records per section:")
    for section, count in archive["sections"].items():
        print(f"  {count:6d}  {section}")
    print(f"Dates from {archive['first_date']} to {archive['last_date']}")
    print(f"SQLite archive: {Path(db_path).resolve()}")
    if settings.get("ARCHIVE_JSONL_PATH"):
        print(f"JSON Lines:     {Path(settings.get('ARCHIVE_JSONL_PATH')).resolve()}")
    print(f"Try: sqlite-utils search {db_path} records terrorism -c date_start -c title")
    return code


def cmd_export(args: argparse.Namespace) -> int:
    from portalscraper.archive import ArchiveError, export, open_database

    path = args.db or _settings({}).get("ARCHIVE_SQLITE_PATH")
    if not Path(path).is_file():
        raise CliError(f"no archive at {path}; run 'portalscraper crawl nato' first or give --db")
    try:
        db = open_database(path)
        if args.output and args.output != "-":
            with Path(args.output).open("w", encoding="utf-8", newline="") as out:
                count = export(db, out, args.format, args.portal)
            print(f"Exported {count} records to {args.output}", file=sys.stderr)
        else:
            export(db, sys.stdout, args.format, args.portal)
    except ArchiveError as exc:
        raise CliError(str(exc)) from None
    except BrokenPipeError:
        raise  # the reader stopped (| head): a quiet end, see main
    except OSError as exc:
        raise CliError(f"cannot write {args.output}: {exc.strerror}") from None
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    """Datasette on the archive, with the project's metadata (portalscraper/serve/config.py)."""
    import importlib.util
    import tempfile

    from portalscraper.serve.config import PLUGINS_DIR, SETTINGS, TEMPLATES_DIR, metadata

    path = args.db or _settings({}).get("ARCHIVE_SQLITE_PATH")
    if not Path(path).is_file():
        raise CliError(f"no archive at {path}; run 'portalscraper crawl nato' first or give --db")
    if importlib.util.find_spec("datasette") is None:
        raise CliError("serve needs Datasette: pip install 'portalscraper[serve]'")
    with tempfile.TemporaryDirectory() as folder:
        meta = Path(folder) / "metadata.json"
        meta.write_text(json.dumps(metadata(path), ensure_ascii=False), encoding="utf-8")
        options = ["serve", str(path), "--metadata", str(meta), "--plugins-dir", str(PLUGINS_DIR),
                   "--template-dir", str(TEMPLATES_DIR), "--host", args.host, "--port", str(args.port),
                   *(option for name, value in SETTINGS.items() for option in ("--setting", name, str(value)))]
        # In this process, not a child of it (which a stop would leave running). Its server shuts
        # down on SIGTERM, then hands the signal on: here, it ends the command cleanly.
        import click
        from datasette.cli import cli as datasette

        def stopped(signum: int, frame: object) -> None:
            raise SystemExit(EXIT_OK)

        signal.signal(signal.SIGTERM, stopped)
        try:
            datasette.main(options, prog_name="datasette", standalone_mode=False)
        except click.ClickException as exc:
            raise CliError(f"datasette: {exc.format_message()}") from None
    return EXIT_OK


def cmd_extract(args: argparse.Namespace) -> int:
    """Item pages read as the `portal` spider reads them: a JSON line per source, in input order;
    exit 1 if any source could not be read."""
    from portalscraper.extract.itempage import Fetcher, Source, SourceError, extract_sources, manifest_sources
    from portalscraper.profiles import ProfileError, load_profile
    from portalscraper.settings import DOWNLOAD_TIMEOUT, USER_AGENT

    if not args.sources and not args.manifest:
        raise CliError("give a SOURCE (an HTML file, - for standard input, or a URL) or --manifest FILE")
    if args.url and (len(args.sources) != 1 or args.manifest):
        raise CliError("--url names the address of a single SOURCE; a manifest gives each page's url")
    if args.url and not args.url.startswith(("http://", "https://")):
        raise CliError(f"--url must be an http(s) address, not {args.url!r}")
    profile = None
    if args.profile:
        try:
            profile = load_profile(args.profile)
        except ProfileError as exc:
            raise CliError(str(exc)) from None
    if args.manifest and not Path(args.manifest).is_file():
        raise CliError(f"no manifest file at {args.manifest}")

    def sources() -> Any:
        for given in args.sources:
            is_url = given.startswith(("http://", "https://"))
            yield Source(given, args.url, None, None if is_url or given == "-" else Path(given))
        if args.manifest:
            try:
                yield from manifest_sources(args.manifest)
            except (OSError, UnicodeDecodeError) as exc:
                yield SourceError(f"cannot read the manifest {args.manifest}: {exc}")

    failed = extract_sources(sources(), profile, Fetcher(USER_AGENT, DOWNLOAD_TIMEOUT), sys.stdout)
    return 1 if failed else EXIT_OK


def cmd_replica(args: argparse.Namespace) -> int:
    try:
        return replica_command.run(args)
    except ReplicaError as exc:
        raise CliError(str(exc)) from None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("portalscraper")
    except PackageNotFoundError:  # run from a checkout that was not installed
        return "(not installed)"


def _crawl_options(crawl: argparse.ArgumentParser) -> None:
    crawl.add_argument("spider", help="spider name: nato, or portal (any site, no profile needed)")
    crawl.add_argument("--base-url", help="portal root, mirror or replay (default: the live portal)")
    crawl.add_argument("--start-url", help="portal spider: the page to start from")
    crawl.add_argument("--allow", help="portal spider: only pages and items whose URL matches this regex")
    crawl.add_argument("--profile", help="a profile name or TOML file (default: the spider's own)")
    crawl.add_argument("--lang", help="language, e.g. en or fr")
    crawl.add_argument("--since", help="only items dated on or after this ISO date")
    crawl.add_argument("--until", help="only items dated on or before this ISO date")
    crawl.add_argument("--max-items", help="item pages at most")
    crawl.add_argument("--max-pages", help="listing pages at most (portal spider: pages visited, default 50)")
    crawl.add_argument("--full", action="store_true",
                       help="a complete pass: page through every listing to its end (finds removed items)")
    crawl.add_argument("--resume", action="store_true",
                       help="continue the latest interrupted crawl with the same arguments into this archive")
    crawl.add_argument("--wayback", metavar="ENDPOINT",
                       help="crawl the portal's captures in a web archive: a replay endpoint such as "
                            "https://web.archive.org/web or http://127.0.0.1:8080/<collection> (pywb)")
    crawl.add_argument("--from", dest="wb_from", metavar="TIMESTAMP", help="web archive: captures from (20120101)")
    crawl.add_argument("--to", dest="wb_to", metavar="TIMESTAMP", help="web archive: captures until (20121231)")
    crawl.add_argument("--warc", help="folder for the crawl's raw captures (WARC); '' for none "
                                       "(default: exports/warc)")
    crawl.add_argument("--redis", metavar="URL", help="share the crawl with workers through Redis "
                                                      "(redis://HOST:PORT/DB); see docs/scaling.md")
    crawl.add_argument("--workers", type=int, default=2, help="with --redis: local workers to start (default 2)")


def _service_parsers(sub: Any) -> None:
    """`serve` and `worker`: long-running services over an archive or a shared crawl."""
    srv = sub.add_parser("serve", help="open the archive in Datasette (pip install 'portalscraper[serve]')")
    srv.add_argument("--db", help="SQLite archive path (default: exports/portalscraper.sqlite)")
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    srv.add_argument("--port", type=int, default=8001, help="port (default 8001)")
    srv.set_defaults(func=cmd_serve)

    wrk = sub.add_parser("worker", help="join a shared crawl (crawl --redis) as one more worker")
    wrk.add_argument("--redis", metavar="URL", required=True, help="the crawl's Redis (redis://HOST:PORT/DB)")
    wrk.add_argument("--prefix", default="portalscraper", help="the crawl's key prefix in Redis")
    wrk.add_argument("--name", help="this worker's name (default: host and process id)")
    wrk.set_defaults(func=cmd_worker)


def _extract_parser(sub: Any) -> None:
    ext = sub.add_parser("extract", help="read item pages (files, - or URLs) as the portal spider does; JSON Lines out")
    ext.add_argument("sources", nargs="*", metavar="SOURCE",
                     help="an HTML file (.html or .html.gz), - for standard input, or an http(s) URL fetched once")
    ext.add_argument("--url", help="the address of the page in the single SOURCE (its site name, its links)")
    ext.add_argument("--manifest", metavar="FILE",
                     help='JSON Lines of {"path": ..., "url": ..., "name": ...}, paths relative to its folder')
    ext.add_argument("--profile", help="a portal profile (name or .toml path) whose selectors come first")
    ext.set_defaults(func=cmd_extract)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portalscraper", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"portalscraper {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    def archive_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", help="SQLite archive path (default: exports/portalscraper.sqlite)")
        p.add_argument("--jsonl", help="JSON Lines archive path ('' for none; default: exports/records.jsonl)")
        p.add_argument("-s", "--set", action="append", metavar="NAME=VALUE", help="a Scrapy setting")
        p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
        p.add_argument("-q", "--quiet", dest="log_level", action="store_const", const="WARNING",
                       help="warnings and errors only (--log-level WARNING)")
        p.add_argument("-v", "--verbose", dest="log_level", action="store_const", const="DEBUG",
                       help="everything, commits included (--log-level DEBUG)")

    crawl = sub.add_parser("crawl", help="crawl a portal into the archive")
    _crawl_options(crawl)
    archive_options(crawl)
    crawl.set_defaults(func=cmd_crawl)

    reparse = sub.add_parser("reparse", help="rebuild records from WARC files, with no network")
    reparse.add_argument("--warc", dest="warc_files", nargs="+", required=True, metavar="FILE",
                         help="WARC files written by crawls (--warc)")
    reparse.add_argument("--spider", help="spider to re-run (default: the one named in the WARC file)")
    # Other crawls' files, which the given files' 304s may refer to (set for each crawl of several).
    reparse.add_argument("--refer", nargs="+", metavar="FILE", help=argparse.SUPPRESS)
    archive_options(reparse)
    reparse.set_defaults(func=cmd_reparse)

    demo = sub.add_parser("demo", help="start the replica portal, crawl it into exports/, summarize")
    demo.add_argument("--items", type=int, default=200, help="news items in the replica (default 200)")
    archive_options(demo)
    demo.set_defaults(func=cmd_demo)

    exp = sub.add_parser("export", help="write the archive as one JSON document, JSON Lines or CSV")
    exp.add_argument("--format", choices=["json", "jsonl", "csv"], default="json")
    exp.add_argument("--db", help="SQLite archive path (default: exports/portalscraper.sqlite)")
    exp.add_argument("--portal", help="only this portal's records")
    exp.add_argument("-o", "--output", help="output file (default: standard output)")
    exp.set_defaults(func=cmd_export)

    _service_parsers(sub)

    _extract_parser(sub)

    rep = sub.add_parser("replica", help="serve the replica portal on 127.0.0.1")
    replica_command.add_arguments(rep)
    rep.set_defaults(func=cmd_replica)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into a command that stopped reading (| head): it has enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
