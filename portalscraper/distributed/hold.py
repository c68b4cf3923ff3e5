"""What a shared crawl's spiders hold back until every page is read, kept crawl-wide in Redis.

The `portal` spider and web-archive crawls request no item page while pages are still to be
read: each item's listing entries are offered, and the best one is requested once the crawl
settles (`Frontier.settle`: one worker, elected in the same step, requests them all). In a shared
crawl the entries come from every worker, so they are kept here, each under a key of its own made
of what it is (the record id, the page that names it, its place on the page): a page read again
after its worker died writes the same keys again, and nothing is lost or counted twice.

Keys, under the crawl's prefix:

- `held:offers` (hash): a listing entry offered for an item, `<record id>\\x1f<page>\\x1f<place>` ->
  what the spider keeps of it (its rank and the entry);
- `held:sources` (hash): a feed's or sitemap's entry, `<record id>\\x1f<source>\\x1f<digest>` ->
  the entry;
- `held:pages:<kind>` (set): pages read as one kind (the `portal` spider's listing pages);
- `held:books` (hash): each page's votes for URL templates, `<callback>\\x1f<url>` -> votes;
- `held:values` (hash): values written once and read by any worker (the homepage captures of a
  web-archive crawl, flags).

Offers and sources are forgotten once requested (`Frontier.held_done`); the rest lasts the crawl.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from portalscraper.distributed import wire
from portalscraper.distributed.frontier import Frontier
from portalscraper.extract.templates import TemplateBook

SEP = "\x1f"


class SharedHold:
    """A shared crawl's held entries, as one worker's spider writes and reads them."""

    def __init__(self, frontier: Frontier) -> None:
        self.frontier = frontier
        self.redis = frontier.redis
        self.key = frontier.key

    # -- items' entries -----------------------------------------------------------------------

    def offer(self, record_id: str, page: str, place: str, value: Any) -> None:
        """An entry for `record_id` offered by reading `page`, at `place` (what tells it from the
        page's other entries, and sorts them as the page offered them)."""
        self.redis.hset(self.key("held", "offers"), SEP.join((record_id, page, place)), wire.dumps(value))

    def source(self, record_id: str, source: str, place: str, listing: Any) -> None:
        """A feed's or sitemap's entry for `record_id` in `source`, at `place`."""
        self.redis.hset(self.key("held", "sources"), SEP.join((record_id, source, place)), wire.dumps(listing))

    def offers(self) -> dict[str, list[Any]]:
        """Every entry offered, by record id, in the order of their pages and places on them."""
        return self._grouped("offers")

    def sources(self) -> dict[str, list[Any]]:
        """Every source entry, by record id, in the order of their sources and places in them."""
        return self._grouped("sources")

    def _grouped(self, name: str) -> dict[str, list[Any]]:
        found: list[tuple[str, str, str, Any]] = []
        for field, value in self.redis.hgetall(self.key("held", name)).items():
            record_id, page, place = _text(field).split(SEP)
            found.append((record_id, page, place, wire.loads(value)))
        grouped: dict[str, list[Any]] = {}
        for record_id, _, _, value in sorted(found, key=lambda f: f[:3]):
            grouped.setdefault(record_id, []).append(value)
        return grouped

    # -- what pages were, and what they taught ------------------------------------------------

    def page_read(self, kind: str, url: str) -> None:
        self.redis.sadd(self.key("held", "pages", kind), url)

    def pages_read(self, kind: str) -> set[str]:
        return {_text(url) for url in self.redis.smembers(self.key("held", "pages", kind))}

    def book(self, name: str, book: TemplateBook) -> None:
        """One page's votes (`name`: the page, as it was read)."""
        if book.items or book.navigation:
            self.redis.hset(self.key("held", "books"), name, wire.dumps([dict(book.items), dict(book.navigation)]))

    def books(self) -> TemplateBook:
        """Every page's votes together."""
        merged = TemplateBook()
        for value in self.redis.hvals(self.key("held", "books")):
            items, navigation = wire.loads(value)
            merged.update(TemplateBook(Counter(items), Counter(navigation)))
        return merged

    # -- values written once ------------------------------------------------------------------

    def put(self, name: str, value: Any) -> None:
        self.redis.hset(self.key("held", "values"), name, wire.dumps(value))

    def get(self, name: str) -> Any:
        raw = self.redis.hget(self.key("held", "values"), name)
        return None if raw is None else wire.loads(raw)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
