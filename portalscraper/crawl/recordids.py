"""A compact set of record ids: what a crawl has requested or stored, flat however large the portal."""

from __future__ import annotations

import sqlite3
from array import array

# Ids a set keeps in memory (a table of at most 512 KB); past them, in a database file of its own.
SPILL_AT = 1 << 15
_SIGNED = 1 << 63  # SQLite's integers are signed 64-bit: keys are shifted into that range
_CACHE_KB = 256  # the database's page cache: what a spilled set keeps in memory


class RecordIdSet:
    """A set of record ids, flat in memory however many it holds.

    A crawl keeps the id of every item it has seen (three sets of them); as Python strings or ints
    they would be tens of thousands of small objects scattered through the heap, and the process
    would grow with the portal. The first `spill_at` ids are 64-bit integers in one flat table
    (open addressing, at most two thirds full; it grows in place of itself, read slot by slot into
    the new one). Past them the set moves to a temporary SQLite database of its own (an unnamed
    one: a file SQLite deletes when the set is closed or the process ends), whose page cache is
    all it keeps in memory (256 KB): a million ids cost a 13 MB file instead of 16 to 24 MB of
    the process, and a few microseconds a look-up. Ids that are not hex (from a spider of one's
    own) go to an ordinary set.
    """

    def __init__(self, spill_at: int = SPILL_AT) -> None:
        self._table: array[int] | None = array("Q", [0]) * 1024
        self._count = 0
        self._other: set[str] = set()
        self._spill_at = spill_at
        self._db: sqlite3.Connection | None = None

    @staticmethod
    def _key(record_id: str) -> int | None:
        try:
            value = int(record_id[:16], 16) if len(record_id) <= 16 else None
        except ValueError:
            return None
        return value or 1 if value is not None else None  # 0 marks an empty slot

    @staticmethod
    def _slot(table: array[int], key: int) -> int:
        mask = len(table) - 1
        i = (key ^ (key >> 29)) & mask
        while table[i] and table[i] != key:
            i = (i + 1) & mask
        return i

    def add(self, record_id: str) -> bool:
        """Add an id; False if it was there already."""
        key = self._key(record_id)
        if key is None:
            known = record_id in self._other
            self._other.add(record_id)
            return not known
        table = self._table
        if table is None:
            assert self._db is not None
            if self._db.execute("INSERT OR IGNORE INTO ids VALUES (?)", (key - _SIGNED,)).rowcount != 1:
                return False
            self._count += 1
            return True
        i = self._slot(table, key)
        if table[i]:
            return False
        table[i] = key
        self._count += 1
        if self._count >= self._spill_at:
            self._spill()
        elif self._count * 3 > len(table) * 2:
            self._grow()
        return True

    def _grow(self) -> None:
        assert self._table is not None
        old, table = self._table, array("Q", [0]) * (len(self._table) * 2)
        mask = len(table) - 1
        for key in old:
            if key:
                i = (key ^ (key >> 29)) & mask
                while table[i]:
                    i = (i + 1) & mask
                table[i] = key
        self._table = table

    def _spill(self) -> None:
        """Move the ids to the set's own temporary database, and free the table."""
        assert self._table is not None
        db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        db.execute(f"PRAGMA cache_size = -{_CACHE_KB}")
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("CREATE TABLE ids (key INTEGER PRIMARY KEY)")
        db.execute("BEGIN")  # never committed: the file is the set's, gone with it
        db.executemany("INSERT INTO ids VALUES (?)", ((k - _SIGNED,) for k in sorted(filter(None, self._table))))
        self._db, self._table = db, None

    def close(self) -> None:
        """Free what the set holds (its database file, once spilled)."""
        if self._db is not None:
            self._db.close()
            self._db = None
        self._table, self._count = array("Q", [0]) * 1024, 0
        self._other.clear()

    def __contains__(self, record_id: object) -> bool:
        if not isinstance(record_id, str):
            return False
        key = self._key(record_id)
        if key is None:
            return record_id in self._other
        table = self._table
        if table is None:
            assert self._db is not None
            return self._db.execute("SELECT 1 FROM ids WHERE key = ?", (key - _SIGNED,)).fetchone() is not None
        return table[self._slot(table, key)] == key

    def __len__(self) -> int:
        return self._count + len(self._other)
