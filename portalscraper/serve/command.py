"""`portalscraper serve`: Datasette on the archive, with the project's metadata, plugins and
templates (portalscraper.serve.config), in this process."""

from __future__ import annotations

import importlib.util
import json
import signal
import tempfile
from pathlib import Path

from portalscraper.serve.config import PLUGINS_DIR, SETTINGS, TEMPLATES_DIR, metadata


class ServeError(Exception):
    """Datasette cannot serve the archive: one line for the user."""


def serve(path: str, host: str, port: int) -> None:
    """Serve the archive at `path` until stopped (SIGTERM or Ctrl-C)."""
    if not Path(path).is_file():
        raise ServeError(f"no archive at {path}; run 'portalscraper crawl nato' first or give --db")
    if importlib.util.find_spec("datasette") is None:
        raise ServeError("serve needs Datasette: pip install 'portalscraper[serve]'")
    with tempfile.TemporaryDirectory() as folder:
        meta = Path(folder) / "metadata.json"
        meta.write_text(json.dumps(metadata(path), ensure_ascii=False), encoding="utf-8")
        options = ["serve", str(path), "--metadata", str(meta), "--plugins-dir", str(PLUGINS_DIR),
                   "--template-dir", str(TEMPLATES_DIR), "--host", host, "--port", str(port),
                   *(option for name, value in SETTINGS.items() for option in ("--setting", name, str(value)))]
        # In this process, not a child of it (which a stop would leave running). Its server shuts
        # down on SIGTERM, then hands the signal on: here, it ends the command cleanly.
        import click
        from datasette.cli import cli as datasette

        def stopped(signum: int, frame: object) -> None:
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, stopped)
        try:
            datasette.main(options, prog_name="datasette", standalone_mode=False)
        except click.ClickException as exc:
            raise ServeError(f"datasette: {exc.format_message()}") from None
