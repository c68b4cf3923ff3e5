"""`portalscraper replica` (also `python -m portalscraper.replica`): serve the replica portal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from portalscraper.replica.launch import ReplicaError

# The replica's largest archive: its item days are made up front (8 bytes each), and a portal of
# millions of items is not what a test needs.
MAX_REPLICA_ITEMS = 2_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8000, help="port (0: a free one; default 8000)")
    parser.add_argument("--items", type=int, default=200, help="news items in the archive (default 200)")
    parser.add_argument("--seed", type=int, default=2012, help="seed of the synthetic items")
    parser.add_argument("--changes", help="JSON file of changes to apply at start (edit/add/remove)")
    parser.add_argument("--faults", metavar="RATE[:MODES]",
                        help="share of item and archive pages that misbehave, e.g. 0.1 or 0.2:500,503,slow "
                             "(modes: 500 503 429 slow drop truncate redirect-chain redirect-loop offsite large "
                             "malformed charset-cp1252 charset-meta)")
    parser.add_argument("--fault-attempts", type=int, default=1, help="requests a failing page fails before answering")
    parser.add_argument("--slow-seconds", type=float, default=3.0, help="delay of a slow response (default 3)")
    parser.add_argument("--large-bytes", type=int, default=17 * 1024 * 1024, help="padding of a large response")
    parser.add_argument("--quirks", action="store_true",
                        help="a real portal's quirks: robots.txt closing a section, bad items (impossible date, no "
                             "title, no summary), PDF and image links, an item listed on two pages")
    parser.add_argument("--news-sized-pages", action="store_true",
                        help="item pages of a news site's size (about 60 KB: scripts, menus, a related-stories rail "
                             "and a footer around the same article)")
    parser.add_argument("--log-requests", metavar="FILE", help="append one JSON line per request received")


def run(args: argparse.Namespace) -> int:
    """Serve the replica until stopped (ReplicaError for bad options)."""
    from portalscraper.replica.content import ChangeError, Portal, load_changes
    from portalscraper.replica.server import serve

    if not 0 <= args.port <= 65535:
        raise ReplicaError(f"--port must be from 0 to 65535, not {args.port}")
    if not 5 <= args.items <= MAX_REPLICA_ITEMS:
        raise ReplicaError(f"--items must be from 5 (the homepage's news items) to {MAX_REPLICA_ITEMS:,}, "
                           f"not {args.items}")
    from portalscraper.replica.faults import FaultError, Faults

    portal = Portal(items=args.items, seed=args.seed, quirks=args.quirks, news_sized=args.news_sized_pages)
    try:
        faults = Faults.parse(args.faults or "0", seed=args.seed, slow_seconds=args.slow_seconds,
                              large_bytes=args.large_bytes, attempts=args.fault_attempts)
    except FaultError as exc:
        raise ReplicaError(f"--faults: {exc}") from None
    log = None
    if args.log_requests:
        try:
            log = Path(args.log_requests).open("a", encoding="utf-8")  # noqa: SIM115 (open while serving)
        except OSError as exc:
            raise ReplicaError(f"cannot write the request log {args.log_requests}: {exc.strerror}") from None
    if args.changes:
        try:
            portal.apply_all(load_changes(Path(args.changes).read_text("utf-8")))
        except OSError as exc:
            raise ReplicaError(f"cannot read the changes file {args.changes}: {exc.strerror}") from None
        except ChangeError as exc:
            raise ReplicaError(f"{args.changes}: {exc}") from None
    try:
        serve(portal, args.port, faults=faults, log=log)
    except Exception as exc:
        raise ReplicaError(f"cannot serve on 127.0.0.1:{args.port}: {exc}") from None
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portalscraper.replica", description=__doc__)
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except ReplicaError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
