"""Datasette plugin loaded by `portalscraper serve` (--plugins-dir): the archive's charts page, /-/charts.

The SQL lives in portalscraper.serve.config and the drawing in portalscraper.serve.charts; this only wires them
into Datasette.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response

from portalscraper.serve import charts
from portalscraper.serve.config import HOMEPAGE_SIGHTINGS, QUERIES, TIMELINE_ROWS


@hookimpl  # type: ignore[untyped-decorator]
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/-/charts$", charts_page)]


async def charts_page(datasette: Any, request: Any) -> Any:
    db = datasette.get_database()
    crawl_id = request.args.get("crawl_id", "")
    months = (await db.execute(QUERIES["items_per_month"][1])).rows
    sightings = (await db.execute(HOMEPAGE_SIGHTINGS, {"crawl_id": crawl_id})).rows
    items = charts.stays((r["record_id"], r["title"], r["seen"], r["published"]) for r in sightings)
    context = {
        "database": db.name,
        "crawl_id": crawl_id,
        "months_svg": charts.items_per_month((r["month"], r["items"]) for r in months),
        "timeline_svg": charts.timeline(items[-TIMELINE_ROWS:]),
        "items_shown": min(len(items), TIMELINE_ROWS),
        "items_total": len(items),
        "times": len({t for stay in items for t in stay.times}),
    }
    html = await datasette.render_template("portalscraper_charts.html", context, request=request)
    return Response.html(html)
