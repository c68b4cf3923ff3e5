"""A compact set of record ids: what a crawl has requested or stored, flat however large the portal."""

from __future__ import annotations

from array import array


class RecordIdSet:
    """A set of record ids in one flat table of 64-bit integers (open addressing).

    A crawl keeps the id of every item it has seen; as Python strings or ints they would be
    tens of thousands of small objects, scattered through the heap as the crawl goes, and the
    process would grow with the portal. Here they cost 12 to 24 bytes each (the table is at most
    two thirds full), in one block, and the table grows in place of itself: the old one is read
    slot by slot into the new, never copied into a list of Python integers (a crawl holds three
    of these sets, which grow at the same moments). Ids that are not hex (from a spider of one's
    own) go to an ordinary set.
    """

    def __init__(self) -> None:
        self._table = array("Q", [0]) * 1024
        self._count = 0
        self._other: set[str] = set()

    @staticmethod
    def _key(record_id: str) -> int | None:
        try:
            value = int(record_id[:16], 16) if len(record_id) <= 16 else None
        except ValueError:
            return None
        return value or 1 if value is not None else None  # 0 marks an empty slot

    def _slot(self, key: int) -> int:
        table, mask = self._table, len(self._table) - 1
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
        i = self._slot(key)
        if self._table[i]:
            return False
        self._table[i] = key
        self._count += 1
        if self._count * 3 > len(self._table) * 2:
            self._grow()
        return True

    def _grow(self) -> None:
        old, self._table = self._table, array("Q", [0]) * (len(self._table) * 2)
        table, mask = self._table, len(self._table) - 1
        for key in old:
            if key:
                i = (key ^ (key >> 29)) & mask
                while table[i]:
                    i = (i + 1) & mask
                table[i] = key

    def __contains__(self, record_id: object) -> bool:
        if not isinstance(record_id, str):
            return False
        key = self._key(record_id)
        if key is None:
            return record_id in self._other
        return self._table[self._slot(key)] == key

    def __len__(self) -> int:
        return self._count + len(self._other)
