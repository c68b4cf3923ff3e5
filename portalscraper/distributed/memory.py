"""What a shared crawl's workers know of earlier crawls: the writer's ArchiveMemory, through Redis.

The writer publishes, when the crawl starts, what every worker needs at once (each record's
validators and listing hash, the failures to ask again, the last complete pass); a record itself
(to rebuild one whose page answered 304 Not Modified, or failed) is asked of the writer when
needed, and the writer answers from its archive.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
from typing import Any

from portalscraper.archive.memory import ArchiveMemory, CrawlStamp, Known
from portalscraper.distributed.frontier import Frontier

ANSWER_SECONDS = 60  # how long a worker waits for the writer to answer


def publish_memory(frontier: Frontier, memory: ArchiveMemory, spider: str, language: str, resumed: bool) -> None:
    """The writer's side, when the crawl starts (or resumes)."""
    redis, key = frontier.redis, frontier.key
    redis.delete(key("memory", "known"))
    known = list(memory.known.items())
    for start in range(0, len(known), 5000):
        redis.hset(key("memory", "known"), mapping={rid: json.dumps(list(k)) for rid, k in known[start:start + 5000]})
    last = memory.last_complete_pass(spider, language)
    redis.set(key("memory", "meta"), json.dumps({
        "crawl_id": memory.crawl_id, "stamp": memory.stamp, "resumed": resumed,
        "failures": memory.unresolved_failures(),
        "last_complete_pass": [spider, language, last.isoformat() if last else None]}))


def answer_questions(frontier: Frontier, memory: ArchiveMemory) -> int:
    """The writer's side, during the crawl: the archived records workers asked for."""
    answered = 0
    while (asked := frontier.redis.lpop(frontier.key("memory", "asked"))) is not None:
        worker, _, rid = _text(asked).partition("|")  # type: ignore[arg-type]
        answer = frontier.key("memory", "answer", worker)
        with frontier.redis.pipeline() as tx:
            tx.rpush(answer, pickle.dumps(memory.record(rid), protocol=5))
            tx.expire(answer, ANSWER_SECONDS)
            tx.execute()
        answered += 1
    return answered


class SharedMemory(ArchiveMemory):
    """A worker's view of the archive: the same questions as ArchiveMemory, answered from Redis."""

    def __init__(self, frontier: Frontier, portal: str) -> None:
        super().__init__(None, portal)
        self.frontier = frontier
        raw = frontier.redis.get(frontier.key("memory", "meta"))
        self.meta: dict[str, Any] = json.loads(raw) if raw else {}
        self.crawl_id = self.meta.get("crawl_id")
        self.stamp = CrawlStamp(*self.meta["stamp"]) if self.meta.get("stamp") else None  # for the WARC files

    @property
    def known(self) -> dict[str, Known]:
        if self._known is None:
            rows = self.frontier.redis.hgetall(self.frontier.key("memory", "known"))
            self._known = {_text(rid): Known(*json.loads(value)) for rid, value in rows.items()}
        return self._known

    def record(self, record_id: str) -> dict[str, Any] | None:
        if record_id not in self.known:
            return None
        frontier = self.frontier
        assert frontier.worker is not None
        frontier.redis.rpush(frontier.key("memory", "asked"), f"{frontier.worker}|{record_id}")
        got = frontier.redis.blpop([frontier.key("memory", "answer", frontier.worker)], timeout=ANSWER_SECONDS)
        if got is None:
            raise TimeoutError(f"the writer did not answer for record {record_id} in {ANSWER_SECONDS} s")
        answer: dict[str, Any] | None = pickle.loads(_bytes(got[1]))
        return answer

    def unresolved_failures(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [(kind, url, listing) for kind, url, listing in self.meta.get("failures", [])]

    def last_complete_pass(self, spider: str, language: str) -> dt.datetime | None:
        known_spider, known_language, when = self.meta.get("last_complete_pass") or [None, None, None]
        if (spider, language) != (known_spider, known_language) or not when:
            return None
        return dt.datetime.fromisoformat(when)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()
