"""What a shared crawl's workers know of earlier crawls: the writer's ArchiveMemory, through Redis.

The writer publishes, when the crawl starts, what every worker needs at once (each record's
validators and listing hash, the failures to ask again, the last complete pass); a record itself
(to rebuild one whose page answered 304 Not Modified, or failed) is asked of the writer, and the
writer answers from its archive. Each question has an id of its own and its answer a key of its
own (`memory:answer:<question>`): an answer that comes after its asker gave up is never read as the
answer to another question. A worker asks when it takes a conditional request (`ask`), so the
answer is there when the page has answered; waiting for one that is not, it waits in short steps
and keeps its heartbeat, so that its leases stay its own.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import os
import time
from typing import Any

from portalscraper.archive.memory import ArchiveMemory, CrawlStamp, Known
from portalscraper.distributed import wire
from portalscraper.distributed.frontier import Frontier

logger = logging.getLogger(__name__)

ANSWER_SECONDS = 60  # how long a worker waits for the writer to answer, and how long an answer is kept
WAIT_STEP = 0.2  # seconds of one blocking wait for an answer, between two heartbeats


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


def answer_questions(frontier: Frontier, memory: ArchiveMemory, most: int = 200) -> int:
    """The writer's side, during the crawl: the archived records workers asked for, each answer
    under its question's own key."""
    asked: list[bytes] = frontier.redis.lpop(frontier.key("memory", "asked"), most) or []  # type: ignore[assignment]
    if not asked:
        return 0
    with frontier.redis.pipeline(transaction=False) as tx:
        for question in asked:
            try:
                qid, rid = wire.loads(question)
                if not (isinstance(qid, str) and isinstance(rid, str)):
                    raise wire.WireError("not a question id and a record id")
            except (wire.WireError, ValueError, TypeError) as exc:  # not two values
                logger.error("A question to the writer is not one (%s): not answered", exc)
                continue
            answer = frontier.key("memory", "answer", qid)
            tx.rpush(answer, wire.dumps(memory.record(rid)))
            tx.expire(answer, ANSWER_SECONDS)
        tx.execute()
    return len(asked)


class SharedMemory(ArchiveMemory):
    """A worker's view of the archive: the same questions as ArchiveMemory, answered from Redis."""

    def __init__(self, frontier: Frontier, portal: str) -> None:
        super().__init__(None, portal)
        self.frontier = frontier
        raw = frontier.redis.get(frontier.key("memory", "meta"))
        self.meta: dict[str, Any] = json.loads(raw) if raw else {}
        self.crawl_id = self.meta.get("crawl_id")
        self.stamp = CrawlStamp(*self.meta["stamp"]) if self.meta.get("stamp") else None  # for the WARC files
        # Question ids: this process's own (a worker started again under the same name asks anew).
        self._questions = (f"{frontier.worker}:{os.urandom(6).hex()}:{n}" for n in itertools.count(1))
        self._asked: dict[str, tuple[str, float]] = {}  # record id -> its question, and when it was asked
        self._prune_at = 1000

    @property
    def known(self) -> dict[str, Known]:
        if self._known is None:
            rows = self.frontier.redis.hgetall(self.frontier.key("memory", "known"))
            self._known = {_text(rid): Known(*json.loads(value)) for rid, value in rows.items()}
        return self._known

    def ask(self, record_id: str) -> None:
        """Ask the writer for an archived record now, without waiting: `record` takes the answer
        (a page that answered 200 needs none: its question is forgotten after a while)."""
        if record_id in self.known and record_id not in self._asked:
            now = time.monotonic()
            if len(self._asked) >= self._prune_at:
                self._asked = {rid: (q, at) for rid, (q, at) in self._asked.items() if now - at <= ANSWER_SECONDS / 2}
                self._prune_at = max(1000, 2 * len(self._asked))
            self._asked[record_id] = (self._question(record_id), now)

    def record(self, record_id: str) -> dict[str, Any] | None:
        if record_id not in self.known:
            return None
        question, asked_at = self._asked.pop(record_id, (None, 0.0))
        if question is None or time.monotonic() - asked_at > ANSWER_SECONDS / 2:  # its answer may be gone
            question = self._question(record_id)
        answer = self._answer(question, record_id)
        if answer is not None and not isinstance(answer, dict):
            raise wire.WireError(f"the writer's answer for record {record_id} is not a record")
        return answer

    def _question(self, record_id: str) -> str:
        frontier = self.frontier
        assert frontier.worker is not None
        qid = next(self._questions)
        frontier.redis.rpush(frontier.key("memory", "asked"), wire.dumps([qid, record_id]))
        return qid

    def _answer(self, question: str, record_id: str) -> Any:
        """The answer to `question`: waited for in steps of WAIT_STEP seconds at most, the worker's
        heartbeat renewed between them (a worker waiting for the writer is alive)."""
        frontier = self.frontier
        key = frontier.key("memory", "answer", question)
        deadline = time.monotonic() + ANSWER_SECONDS
        while (got := frontier.redis.blpop([key], timeout=WAIT_STEP)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the writer did not answer for record {record_id} in {ANSWER_SECONDS} s")
            frontier.heartbeat()
        return wire.loads(got[1])

    def unresolved_failures(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [(kind, url, listing) for kind, url, listing in self.meta.get("failures", [])]

    def last_complete_pass(self, spider: str, language: str) -> dt.datetime | None:
        known_spider, known_language, when = self.meta.get("last_complete_pass") or [None, None, None]
        if (spider, language) != (known_spider, known_language) or not when:
            return None
        return dt.datetime.fromisoformat(when)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
