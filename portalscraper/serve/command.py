"""`portalscraper serve`: Datasette on the archive, with the project's metadata, plugins and
templates (portalscraper.serve.config), in this process."""

from __future__ import annotations

import importlib.util
import json
import signal
import tempfile
from pathlib import Path

from portalscraper.serve.config import PLUGINS_DIR, SETTINGS, TEMPLATES_DIR, configuration, metadata


class ServeError(Exception):
    """Datasette cannot serve the archive: one line for the user."""


def _configured(path: str, folder: Path) -> list[str]:
    """Datasette's options for the archive: its metadata, and its settings and canned queries where
    the installed Datasette reads them (1.0: a configuration file; 0.65: the metadata and
    --setting); the plugins from this folder unless they are installed (the `datasette` entry
    points of an installed portalscraper)."""
    from importlib.metadata import entry_points, version

    meta, options = metadata(path), []
    if int(version("datasette").split(".")[0]) >= 1:
        for database in meta["databases"].values():
            database.pop("queries", None)
        config = folder / "datasette.json"
        config.write_text(json.dumps(configuration(path), ensure_ascii=False), encoding="utf-8")
        options += ["--config", str(config)]
    else:
        options += [option for name, value in SETTINGS.items() for option in ("--setting", name, str(value))]
    (folder / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    installed = {point.value for point in entry_points(group="datasette")}
    if not {f"portalscraper.serve.plugins.{plugin.stem}" for plugin in PLUGINS_DIR.glob("*.py")} <= installed:
        options += ["--plugins-dir", str(PLUGINS_DIR)]
    return ["--metadata", str(folder / "metadata.json"), *options]


def serve(path: str, host: str, port: int) -> None:
    """Serve the archive at `path` until stopped (SIGTERM or Ctrl-C)."""
    if not Path(path).is_file():
        raise ServeError(f"no archive at {path}; run 'portalscraper crawl nato' first or give --db")
    if importlib.util.find_spec("datasette") is None:
        raise ServeError("serve needs Datasette: pip install 'portalscraper[serve]'")
    with tempfile.TemporaryDirectory() as folder:
        options = ["serve", str(path), *_configured(path, Path(folder)), "--template-dir", str(TEMPLATES_DIR),
                   "--host", host, "--port", str(port)]
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
