"""Datasette plugin loaded by `portalscraper serve` (--plugins-dir): the archive's Atom feeds, the
`.atom` rendering of the feed queries (`/<database>/new_records.atom?q=cyber`).

The SQL lives in portalscraper.serve.config and the feed in portalscraper.serve.atom; this only wires them into
Datasette and makes the entries' links absolute (pages of the served archive).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils import tilde_encode
from datasette.utils.asgi import Response

from portalscraper.serve import atom
from portalscraper.serve.config import FEEDS


@hookimpl  # type: ignore[untyped-decorator]
def register_output_renderer() -> dict[str, Any]:
    return {"extension": "atom", "render": render_feed, "can_render": can_render_feed}


def can_render_feed(query_name: str | None) -> bool:
    return query_name in FEEDS


async def render_feed(datasette: Any, request: Any, rows: list[Any], query_name: str | None, database: str,
                      data: dict[str, Any]) -> Any:
    if query_name not in FEEDS:
        return Response.text(f"Only the archive's feeds are Atom: {', '.join(FEEDS)}\n", status=400)
    if not data.get("ok", True):
        return Response.text(f"Error: {data.get('error')}; q is full-text search: words, \"a phrase\", OR, NOT, "
                             "prefix*\n", status=400)
    kind = FEEDS[query_name][0]

    def page(path: str) -> str:
        return str(datasette.absolute_url(request, path))

    entries = [atom.entry(kind, row, atom.Links(
        record=page(datasette.urls.row(database, "records", tilde_encode(row["record_id"]))),
        history=page(datasette.urls.query(database, "record_history") + "?" + urlencode({"id": row["record_id"]})),
        crawl=page(datasette.urls.row(database, "crawls", str(row["crawl_id"]))),
    )) for row in rows]
    crawls = await datasette.get_database(database).execute(
        "SELECT max(coalesce(finished_at, started_at)) FROM crawls")
    feed = atom.Feed(
        id=request.url,
        title=atom.feed_title(kind, database, ((name, request.args.get(name, "")) for name in ("q", "section"))),
        self_url=request.url,
        page_url=page(datasette.urls.query(database, query_name)
                      + ("?" if request.query_string else "") + request.query_string),
        updated=crawls.first()[0] or "1970-01-01T00:00:00+00:00",
    )
    return Response(atom.document(feed, entries), content_type="application/atom+xml; charset=utf-8")
