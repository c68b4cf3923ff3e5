"""The `portalscraper` command: thin, arguments in, one-line errors out.

    portalscraper crawl nato [--base-url URL] [--since D] [--full] [--resume] [--db PATH] [--jsonl PATH]
    portalscraper reparse --warc FILE... [--jobs N] [--db PATH] [--jsonl PATH]
    portalscraper demo
    portalscraper export --format json|jsonl|csv [--db PATH] [-o FILE]
    portalscraper replica [--port 8000] [--items N] [--changes FILE]
    portalscraper extract [--url URL] [--manifest FILE] [--profile NAME] [SOURCE ...]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portalscraper.crawl.verdict import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CrawlRefusedError
from portalscraper.replica import command as replica_command
from portalscraper.replica.launch import ReplicaError, replica_process

if TYPE_CHECKING:
    from scrapy.settings import Settings

    from portalscraper.crawl.runner import Outcome


class CliError(Exception):
    """An error the user can fix: printed as one line, exit code 2 unless another is given."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def _settings(overrides: dict[str, Any]) -> Settings:
    from portalscraper.crawl.overrides import project_settings

    try:
        return project_settings(overrides)
    except CrawlRefusedError as exc:
        raise CliError(str(exc), exc.code) from None


def _report(outcome: Outcome, summary: bool = True) -> int:
    """The crawl's lines on standard error (its summary when its log did not show it, its alarms),
    and its exit code."""
    for line in outcome.lines(summary):
        print(line, file=sys.stderr)
    return outcome.exit_code


def _crawl(spider: str, spider_args: dict[str, Any], overrides: dict[str, Any]) -> Outcome:
    """One crawl (portalscraper/crawl/runner.py): its outcome, or a one-line refusal."""
    from portalscraper.crawl.runner import crawl

    try:
        return crawl(spider, spider_args, overrides)
    except CrawlRefusedError as exc:
        raise CliError(str(exc), exc.code) from None


def _crawl_overrides(args: argparse.Namespace) -> dict[str, Any]:
    from portalscraper.crawl.overrides import parse_set

    try:
        overrides: dict[str, Any] = parse_set(args.set or [])
    except CrawlRefusedError as exc:
        raise CliError(str(exc), exc.code) from None
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
    """Rebuild an archive from WARC files alone (portalscraper/webarchive/reparse.py), each crawl's
    pages spread over `--jobs` processes. The JSON Lines archive goes next to the database
    (`<db>.jsonl`), not over the crawls' own."""
    from portalscraper.webarchive.reparse import reparse_each, replay_job, warc_crawls
    from portalscraper.webarchive.reparse_jobs import jobs_for, parse_jobs, reparse_crawl, warm_up

    try:
        jobs = parse_jobs(args.jobs)
        warm_up([Path(f) for f in args.warc_files], jobs)
        crawls = warc_crawls([Path(f) for f in args.warc_files], args.spider)
    except CrawlRefusedError as exc:
        raise CliError(str(exc), exc.code) from None
    db = args.db or _settings({}).get("ARCHIVE_SQLITE_PATH")
    if args.jsonl is None:
        args.jsonl = str(Path(db).with_suffix(".jsonl"))
    if len(crawls) > 1:
        print(f"Re-parsing {len(args.warc_files)} WARC files of {len(crawls)} crawls, one after the other",
              file=sys.stderr)
        options = ["--db", db, "--jsonl", args.jsonl, *(["--jobs", str(jobs)] if jobs else []),
                   *(["--log-level", args.log_level] if args.log_level else []),
                   *(["--spider", args.spider] if args.spider else []), *(f"--set={pair}" for pair in args.set or [])]
        return reparse_each(crawls, [str(f) for f in args.warc_files], options)
    crawl = crawls[0]
    overrides = _crawl_overrides(args)
    spider_args, replay = replay_job(crawl, args.refer or [])
    jobs = jobs_for(crawl, jobs)
    print(f"Re-parsing {len(crawl.files)} WARC file(s) with the {crawl.spider} spider ({spider_args.get('base_url')})"
          f"{f', in {jobs} processes' if jobs > 1 else ''}", file=sys.stderr)
    try:
        return _report(reparse_crawl(crawl.spider, spider_args, overrides | replay, jobs))
    except CrawlRefusedError as exc:
        raise CliError(str(exc), exc.code) from None


def cmd_crawl(args: argparse.Namespace) -> int:
    spider_args = {k: v for k, v in {
        "base_url": args.base_url, "lang": args.lang, "since": args.since, "until": args.until,
        "max_items": args.max_items, "max_pages": args.max_pages,
        "full": args.full or None, "resume": args.resume or None, "start_url": args.start_url,
        "allow": args.allow, "profile": args.profile, "wayback": args.wayback, "from": args.wb_from,
        "to": args.wb_to,
    }.items() if v is not None}
    if args.redis:
        from portalscraper.distributed.shared import shared_crawl

        try:
            return _report(shared_crawl(args.spider, spider_args, _crawl_overrides(args), args.redis, args.workers))
        except CrawlRefusedError as exc:
            raise CliError(str(exc), exc.code) from None
    return _report(_crawl(args.spider, spider_args, _crawl_overrides(args)))


def cmd_worker(args: argparse.Namespace) -> int:
    from portalscraper.distributed.shared import join_crawl

    try:
        return join_crawl(args.redis, args.prefix, args.name)
    except CrawlRefusedError as exc:
        raise CliError(str(exc), exc.code) from None


def cmd_demo(args: argparse.Namespace) -> int:
    from portalscraper.crawl.progress import show_progress
    from portalscraper.replica.demo import summary_lines

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
            outcome = _crawl("nato", {"base_url": base_url}, overrides)
            code = _report(outcome, summary=False)
    except ReplicaError as exc:
        raise CliError(str(exc), EXIT_FAILED) from None
    settings = _settings(overrides)
    db_path = settings.get("ARCHIVE_SQLITE_PATH")
    if outcome.crawl is None or not db_path:
        return code
    for line in summary_lines(outcome.crawl, db_path, settings.get("ARCHIVE_JSONL_PATH")):
        print(line)
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
    """Datasette on the archive, with the project's metadata (portalscraper/serve/command.py)."""
    from portalscraper.serve.command import ServeError, serve

    try:
        serve(args.db or _settings({}).get("ARCHIVE_SQLITE_PATH"), args.host, args.port)
    except ServeError as exc:
        raise CliError(str(exc)) from None
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

    def sources() -> Iterator[Source | SourceError]:
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
    reparse.add_argument("--jobs", metavar="N", help="processes (default: one per core, one per 2,000 pages at most)")
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
