"""The replica portal's content: the 2012-09-28 homepage seed, synthetic archive items, changes."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

MONTHS = ("Jan.", "Feb.", "Mar.", "Apr.", "May.", "Jun.", "Jul.", "Aug.", "Sep.", "Oct.", "Nov.", "Dec.")
SEED_DATE = dt.datetime(2012, 9, 28, 13, 25, 24, tzinfo=dt.UTC)
FIRST_SYNTHETIC_ID = 100000
NEW_ITEM_FIRST_ID = 93300


class ChangeError(ValueError):
    """A change request that cannot be applied (unknown item, bad operation, missing field)."""


def format_date(day: dt.date, *, pad: bool = True) -> str:
    """`06 Sep. 2012` as on detail pages, or `6 Sep. 2012` (pad=False) as on listing pages."""
    d = f"{day.day:02d}" if pad else str(day.day)
    return f"{d} {MONTHS[day.month - 1]} {day.year}"


def parse_day(date_text: str) -> dt.date | None:
    """The first day of a replica date text (`13 Sep. 2012 - 14 Sep. 2012` -> 2012-09-13)."""
    try:
        return dt.datetime.strptime(date_text.split(" - ")[0].strip(" -").replace(".", ""), "%d %b %Y").date()
    except ValueError:
        return None  # impossible dates are served as published, undated


def format_datetime(moment: dt.datetime) -> str:
    return f"{format_date(moment.date())} {moment:%H:%M}"


@dataclass(frozen=True)
class Item:
    """One published item of the replica portal.

    `key` identifies it in change requests: `news_91112`, `topics_50321` or
    `review/Chicago/Mr-TransAtlantic`.
    """

    key: str
    kind: str  # news, feature, review
    title: str
    date_text: str  # as on the item's own page; "" for undated items
    summary: str
    updated_text: str
    paragraphs: tuple[str, ...] = ()
    listing_date: str = ""  # as on listing pages (homepage: zero-padded, archive: not)
    day: dt.date | None = None
    edition: str = ""
    modified: dt.datetime = SEED_DATE
    fr: dict[str, str] | None = None
    intro: bool = False  # a NATO Review edition's own entry: its page is the edition's index

    def path(self, lang: str = "en") -> str:
        if self.intro:
            return f"/docu/review/2012/{self.edition}/EN/index.htm"
        if self.kind == "review":
            _, edition, slug = self.key.split("/")
            return f"/docu/review/2012/{edition}/{slug}/EN/index.htm"
        return f"/cps/{lang}/natolive/{self.key}.htm"

    def localized(self, lang: str) -> Item:
        if lang == "fr" and self.fr:
            return replace(
                self,
                title=self.fr["title"],
                summary=self.fr["summary"],
                updated_text=self.fr.get("updated_text", self.updated_text),
            )
        return self


# Word lists for deterministic synthetic items: 1999-2012 NATO-news vocabulary.
_ACTORS = (
    "NATO Secretary General", "The North Atlantic Council", "Allied defence ministers",
    "NATO's Military Committee", "The Deputy Secretary General", "Partner nations",
    "KFOR troops", "ISAF commanders", "The NATO Parliamentary Assembly", "Allied foreign ministers",
    "The Euro-Atlantic Partnership Council", "NATO experts", "The NATO-Russia Council",
)
_ACTIONS = (
    "meets", "discusses", "welcomes", "reviews", "launches", "visits", "supports", "opens",
    "concludes", "addresses", "hosts", "reaffirms commitment to",
)
_TOPICS = (
    "missile defence", "cyber defence", "the Mediterranean Dialogue", "Kosovo", "Afghanistan",
    "crisis management", "energy security", "defence reform in the Balkans", "the Istanbul Cooperation Initiative",
    "maritime security", "arms control", "civil emergency planning", "partnership for peace",
    "counter-piracy operations", "science for peace", "defence education", "capability development",
)
_PLACES = ("Brussels", "Mons", "Kabul", "Pristina", "Sarajevo", "Tbilisi", "Kyiv", "Riga", "Warsaw", "Naples",
           "Lisbon", "Istanbul", "Bucharest", "Strasbourg", "Vilnius", "Reykjavík", "Skopje", "Chişinău")
_SUBHEADS = ("Background", "Next steps", "A shared responsibility", "Partners at work", "Looking ahead",
             "Facts and figures", "Lessons learned")
_SENTENCES = (
    "Participants took stock of progress made since the last meeting in {place}.",
    "The discussions focused on {topic} and on practical cooperation with partners.",
    "“We have achieved a great deal together,” said one of the officials present in {place}.",
    "Experts from {n} nations contributed to the work, which will continue next year.",
    "The initiative builds on decisions taken by Allied leaders and on lessons from {topic}.",
    "A further review is planned, with a report to be presented to the Council.",
    "Delegations underlined the importance of transparency and of the Alliance’s partnerships.",
    "The event in {place} brought together civilian and military representatives.",
)


def _paragraphs(rng: random.Random, lead: str, count: int) -> tuple[str, ...]:
    paras = [lead] if lead else []
    for i in range(count):
        if i and i % 3 == 0:
            paras.append("## " + rng.choice(_SUBHEADS))
        words = {"place": rng.choice(_PLACES), "topic": rng.choice(_TOPICS), "n": rng.randint(3, 28)}
        sentences = rng.sample(_SENTENCES, rng.randint(2, 4))
        paras.append(" ".join(s.format(**words) for s in sentences))
    return tuple(paras)


def _seed_bodies(key: str, summary: str) -> tuple[str, ...]:
    rng = random.Random(key)
    return _paragraphs(rng, summary, rng.randint(3, 6))


class Portal:
    """All items of the replica, in memory, with the changes applied so far.

    Synthetic news items are made on demand from their index (seeded), so 100,000 items cost
    little memory: only their dates are precomputed to order the archive listing.
    """

    def __init__(self, items: int = 200, seed: int = 2012, quirks: bool = False, news_sized: bool = False) -> None:
        data = json.loads(
            resources.files(__package__).joinpath("data/homepage-2012-09-28.json").read_text("utf-8")
        )
        self.seed = seed
        self.page_title: str = data["page_title"]
        self.news_heading: str = data["news_heading"]
        self.news_heading_fr: str = data["news_heading_fr"]
        self.review_heading: str = data["review_heading"]
        self.blog: dict[str, str] = data["blog"]
        self.editions: dict[str, str] = data["editions"]
        self._lock = threading.Lock()
        self.features: list[str] = []
        self.homepage_news: list[str] = []
        self.homepage_review: list[str] = []
        self._items: dict[str, Item] = {}
        self._removed: set[str] = set()
        self._added: list[str] = []
        self.hidden_blocks: set[str] = set()  # homepage blocks left out: a layout change
        self.broken: dict[str, int] = {}  # item key -> the HTTP error status its page answers
        self.news_changed = SEED_DATE  # when news items were last added or removed (the news sitemaps' lastmod)
        self._seed_items(data)
        self.synthetic_count = max(0, items - len(self.homepage_news))
        rng = random.Random(seed)
        start = dt.date(1999, 1, 4).toordinal()
        end = dt.date(2012, 8, 20).toordinal()
        # index 0 is the newest synthetic item; its id is the highest.
        self._synthetic_days = sorted((rng.randint(start, end) for _ in range(self.synthetic_count)), reverse=True)
        self.quirks = quirks
        self.news_sized = news_sized  # item pages of a news site's size (render.news_sized)
        if quirks:
            self._add_bad_items()

    def _seed_items(self, data: dict[str, Any]) -> None:
        """The homepage's own items, from the reference capture."""
        for f in data["features"]:
            key = f"topics_{f['id']}"
            self.features.append(key)
            self._items[key] = Item(key, "feature", f["title"], "", f["summary"], "01 Sep. 2012 10:00",
                                    _seed_bodies(key, f["title"]), fr=f["fr"])
        for n in data["news"]:
            key = f"news_{n['id']}"
            day = parse_day(n["date_text"])
            is_range = " - " in n["date_text"]
            self.homepage_news.append(key)
            self._items[key] = Item(
                key, "news", n["title"], n["date_text"] if is_range else n["date_text"] + " -",
                n["summary"], n["updated_text"], _seed_bodies(key, n["summary"]),
                listing_date=n["date_text"], day=day, fr=n["fr"],
            )
        for r in data["review"]:
            key = f"review/{r['edition']}/{r['slug']}"
            day = parse_day(r["date_text"])
            self.homepage_review.append(key)
            self._items[key] = Item(
                key, "review", r["title"], r["date_text"], r["summary"], r["updated_text"],
                _seed_bodies(key, r["summary"]), listing_date=r["date_text"], day=day, edition=r["edition"],
                intro=r["title"] == self.editions.get(r["edition"]),
            )

    # -- look-ups -------------------------------------------------------------------------

    def synthetic(self, index: int) -> Item:
        ordinal = self._synthetic_days[index]
        day = dt.date.fromordinal(ordinal)
        number = FIRST_SYNTHETIC_ID + self.synthetic_count - 1 - index
        key = f"news_{number}"
        rng = random.Random(self.seed * 1_000_003 + number)
        topic = rng.choice(_TOPICS)
        title = f"{rng.choice(_ACTORS)} {rng.choice(_ACTIONS)} {topic}"
        if rng.random() < 0.3:
            title += f" in {rng.choice(_PLACES)}"
        summary = " ".join(
            s.format(place=rng.choice(_PLACES), topic=topic, n=rng.randint(3, 28))
            for s in rng.sample(_SENTENCES, rng.randint(1, 3))
        )
        if rng.random() < 0.05:
            end_day = day + dt.timedelta(days=rng.randint(1, 3))
            date_text = f"{format_date(day)} - {format_date(end_day)}"
        else:
            date_text = f"{format_date(day)} -"
        updated = dt.datetime.combine(day, dt.time(rng.randint(7, 19), rng.randint(0, 59)))
        updated += dt.timedelta(days=rng.randint(-1, 4))
        paras = _paragraphs(rng, summary, rng.randint(2, 9))
        return Item(key, "news", title, date_text, summary, format_datetime(updated), paras,
                    listing_date=format_date(day, pad=False), day=day)

    def get(self, key: str) -> Item | None:
        with self._lock:
            if key in self._removed:
                return None
            if key in self._items:
                return self._items[key]
        if key.startswith("news_"):
            try:
                number = int(key[5:])
            except ValueError:
                return None
            index = FIRST_SYNTHETIC_ID + self.synthetic_count - 1 - number
            if 0 <= index < self.synthetic_count:
                return self.synthetic(index)
        return None

    def _visible(self, keys: Iterable[str]) -> list[Item]:
        return [item for key in keys if (item := self.get(key)) is not None]

    def homepage(self) -> tuple[list[Item], list[Item], list[Item]]:
        """Features, People & Activities and NATO Review items, in the seed's order."""
        return self._visible(self.features), self._visible(self.homepage_news), self._visible(self.homepage_review)

    def edition(self, name: str) -> list[Item]:
        """The articles of a NATO Review edition (not its own intro entry)."""
        return [i for i in self._visible(self.homepage_review) if i.edition.lower() == name.lower() and not i.intro]

    def edition_intro(self, name: str) -> Item | None:
        """The edition's own entry, listed on the homepage like an article, whose page is the edition's index."""
        return next((i for i in self._visible(self.homepage_review) if i.edition.lower() == name.lower() and i.intro),
                    None)

    def news_count(self) -> int:
        with self._lock:
            added = len(self._added)
            removed = len(self._removed)
        return added + len(self.homepage_news) + self.synthetic_count - removed

    def _synthetic_key(self, index: int) -> str:
        return f"news_{FIRST_SYNTHETIC_ID + self.synthetic_count - 1 - index}"

    def news_keys(self, start: int, count: int) -> list[str]:
        """Keys of the visible news items at positions start..start+count-1, newest first."""
        with self._lock:
            removed = set(self._removed)
            prefix = [k for k in [*reversed(self._added), *self.homepage_news] if k not in removed]
        keys = prefix[start : start + count]
        # Map the visible synthetic position to a raw index, stepping over removed items.
        raw = max(0, start - len(prefix))
        for r in sorted(FIRST_SYNTHETIC_ID + self.synthetic_count - 1 - int(k[5:])
                        for k in removed if k.startswith("news_") and int(k[5:]) >= FIRST_SYNTHETIC_ID):
            if r <= raw:
                raw += 1
        while len(keys) < count and raw < self.synthetic_count:
            key = self._synthetic_key(raw)
            if key not in removed:
                keys.append(key)
            raw += 1
        return keys

    def news_page(self, page: int, per_page: int) -> list[Item]:
        return self._visible(self.news_keys((page - 1) * per_page, per_page))

    def modified(self, key: str) -> dt.datetime:
        """When an item's page last changed (a synthetic item never edited: the seed's date)."""
        with self._lock:
            item = self._items.get(key)
        return item.modified if item is not None else SEED_DATE

    # -- changes --------------------------------------------------------------------------

    def apply(self, change: dict[str, Any], now: dt.datetime | None = None) -> str:
        """Apply one change: {"op": "edit"|"add"|"remove"|"hide", ...}. Returns the item key (or block)."""
        now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
        op = change.get("op")
        if op == "edit":
            return self._edit(change, now)
        if op == "add":
            return self._add(change, now)
        if op == "break":
            key = str(change.get("key", ""))
            status = change.get("status", 500)
            if self.get(key) is None:
                raise ChangeError(f"no item {key!r} to break")
            if not isinstance(status, int) or not (400 <= status <= 599 or status == 0):
                raise ChangeError(f"a broken page answers an HTTP error status (400-599; 0 mends it), not {status!r}")
            with self._lock:
                if status:
                    self.broken[key] = status
                else:
                    self.broken.pop(key, None)
            return key
        if op == "hide":
            block = str(change.get("block", ""))
            if block not in HOMEPAGE_BLOCKS:
                raise ChangeError(f"no homepage block {block!r}: use one of {', '.join(HOMEPAGE_BLOCKS)}")
            with self._lock:
                self.hidden_blocks.add(block)
            return block
        if op == "remove":
            key = str(change.get("key", ""))
            if self.get(key) is None:
                raise ChangeError(f"no item {key!r} to remove")
            with self._lock:
                self._removed.add(key)
                self.news_changed = max(self.news_changed, now)
            return key
        raise ChangeError(f"unknown change op {op!r}: use edit, add, remove, hide or break")

    def _edit(self, change: dict[str, Any], now: dt.datetime) -> str:
        key = str(change.get("key", ""))
        item = self.get(key)
        if item is None:
            raise ChangeError(f"no item {key!r} to edit")
        fields: dict[str, Any] = {"modified": now}
        for name in ("title", "summary", "updated_text", "date_text"):
            if name in change:
                fields[name] = str(change[name])
        if "date_text" in change:  # the listings show the same date, shortened
            fields["listing_date"] = str(change["date_text"]).rstrip(" -").lstrip("0")
        if "body" in change:
            fields["paragraphs"] = tuple(p for p in str(change["body"]).split("\n\n") if p.strip())
        if len(fields) == 1:
            raise ChangeError("an edit needs at least one of title, summary, body, updated_text, date_text")
        with self._lock:
            self._items[key] = replace(item, **fields)
        return key

    def _add(self, change: dict[str, Any], now: dt.datetime) -> str:
        for name in ("title", "date_text", "summary"):
            if not change.get(name):
                raise ChangeError(f"an added item needs {name!r}")
        with self._lock:
            number = NEW_ITEM_FIRST_ID + len(self._added)
            key = f"news_{number}"
            date_text = str(change["date_text"])
            day = parse_day(date_text)
            summary = str(change["summary"])
            paras = tuple(p for p in str(change.get("body", "")).split("\n\n") if p.strip())
            self._items[key] = Item(
                key, "news", str(change["title"]), date_text, summary,
                str(change.get("updated_text", format_datetime(now.replace(tzinfo=None)))),
                paras or _seed_bodies(key, summary),
                listing_date=date_text.rstrip(" -").lstrip("0"), day=day, modified=now,
            )
            self._added.append(key)
            self.news_changed = max(self.news_changed, now)
        return key

    def _add_bad_items(self) -> None:
        """Quirks of a real portal's data: an impossible date, an item with no title, one with no summary."""
        now = SEED_DATE
        bad = [
            ("A report dated the thirty-first of February", "31 Feb. 2012 -", "31 Feb. 2012",
             "The date of this item cannot exist."),
            ("", "26 Sep. 2012 -", "26 Sep. 2012", "An item published without a title."),
            ("NATO publishes its annual exercise calendar", "25 Sep. 2012 -", "25 Sep. 2012", ""),
        ]
        for title, date_text, listing_date, summary in bad:
            key = f"news_{NEW_ITEM_FIRST_ID + len(self._added)}"
            self._items[key] = Item(key, "news", title, date_text, summary, "27 Sep. 2012 10:00",
                                    _seed_bodies(key, summary or title or "No text."), listing_date=listing_date,
                                    day=parse_day(listing_date) or dt.date(2012, 2, 28), modified=now)
            self._added.append(key)

    def apply_all(self, changes: Iterable[dict[str, Any]]) -> list[str]:
        return [self.apply(c) for c in changes]


HOMEPAGE_BLOCKS = ("features", "people-activities", "nato-review")


def load_changes(text: str) -> list[dict[str, Any]]:
    """Parse a changes document: a JSON list of change objects (or one object)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ChangeError(f"changes are not valid JSON: {exc}") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(c, dict) for c in data):
        raise ChangeError("changes must be a JSON object or a list of objects")
    return data


__all__ = ["ChangeError", "Item", "Portal", "format_date", "load_changes"]
