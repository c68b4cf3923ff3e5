"""Datasette plugin loaded by `portalscraper serve` (--plugins-dir): the archive's pages read rows first.

The records table's column descriptions (its metadata, from the record's JSON Schema) are not listed
above the rows: they open from one line of the table's description (portalscraper.serve.config), and each
column header shows its own as a title.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response

from portalscraper.serve.config import FEEDS

STYLE_PATH = "/-/portalscraper.css"
# The pages of records' rows: the records table and the feeds' queries.
_ROWS = ":is(.table-records, " + ", ".join(f".query-{name}" for name in FEEDS) + ")"
_TEXTS = ":is(.col-title, .col-summary, .col-body, .col-provenance, .col-before_title, .col-before_summary, " \
         ".col-before_body)"
STYLE = f"""/* portalscraper serve: the records' rows before their column descriptions. */
dl.column-descriptions {{ display: none; }}
/* A record's row is a few lines high: values on one line, texts in columns wide enough to read. */
{_ROWS} td {{ white-space: nowrap; }}
{_ROWS} td{_TEXTS} {{ white-space: normal; min-width: 26em; }}
details.columns {{ margin: 0.3em 0 0.6em; }}
details.columns summary {{ cursor: pointer; color: #276890; }}
details.columns dl {{ columns: 2 28em; font-size: 0.85em; }}
details.columns dt {{ font-weight: bold; break-after: avoid; }}
details.columns dd {{ margin: 0 0 0.4em 1em; break-inside: avoid; }}
"""
# Each header's description as its title (Datasette puts it in data-column-description).
TITLES_SCRIPT = """document.querySelectorAll("th[data-column-description]").forEach(
  (th) => { th.title = th.dataset.columnDescription; });"""


@hookimpl  # type: ignore[untyped-decorator]
def register_routes() -> list[tuple[str, Any]]:
    return [(rf"^{STYLE_PATH}$", style)]


async def style() -> Any:
    return Response(STYLE, content_type="text/css; charset=utf-8")


@hookimpl  # type: ignore[untyped-decorator]
def extra_css_urls(datasette: Any) -> list[str]:
    return [str(datasette.urls.path(STYLE_PATH))]


@hookimpl  # type: ignore[untyped-decorator]
def extra_body_script(view_name: str) -> str:
    return TITLES_SCRIPT if view_name == "table" else ""
