"""The shared crawl's protocol, called directly against a real redis-server: leases, the end of the
crawl, questions to the writer, a writer started again, and what may be read back from Redis.

Each test plays the part of workers and of the writer with `Frontier`s of their own (one Redis
client each, as separate processes have), and interleaves them where the protocol must hold.
"""

from __future__ import annotations

import logging
import pickle
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from portalscraper.archive import CrawlSession, SQLiteArchive
from portalscraper.archive.memory import ArchiveMemory
from portalscraper.distributed import frontier as frontier_module
from portalscraper.distributed import memory as memory_module
from portalscraper.distributed import wire
from portalscraper.distributed.coordinator import Coordinator, job_settings
from portalscraper.distributed.frontier import Frontier, SharedRecordIds, holding
from portalscraper.distributed.hold import SharedHold
from portalscraper.distributed.memory import SharedMemory, answer_questions, publish_memory
from portalscraper.distributed.scrapy_parts import FrontierScheduler
from portalscraper.items import Appearance, FetchFailure, PageState, Record, Sightings
from tests.conftest import SessionArgs

PREFIX = "crawl"


@pytest.fixture
def workers(redis_url: str) -> Iterator[dict[str, Frontier]]:
    """Three workers of one crawl, joined (alive), each with its own Redis client."""
    frontiers = {name: Frontier(redis_url, PREFIX, name) for name in ("a", "b", "c")}
    for frontier in frontiers.values():
        frontier.join()
    yield frontiers
    for frontier in frontiers.values():
        frontier.redis.close()


def stall(frontier: Frontier) -> None:
    """The worker stops answering past its lease (a long pause, a machine that sleeps): as Redis sees it."""
    assert frontier.worker is not None
    frontier.redis.delete(frontier.key("alive", frontier.worker))


def record(n: int, **fields: Any) -> Record:
    return Record(**{"id": f"{n:016x}", "portal": "nato", "url": f"https://www.nato.int/cps/en/natohq/news_{n}.htm",
                     "language": "en", "title": f"Item {n}", "section": "News", "content_hash": str(n), **fields})


# -- leases -----------------------------------------------------------------------------------------


def test_a_stalled_workers_late_release_deletes_nothing(workers: dict[str, Frontier]) -> None:
    a, b = workers["a"], workers["b"]
    a.add("f1", b"request 1", 0)
    a.add("f2", b"request 2", 0)
    lease_a, _ = a.take()  # type: ignore[misc]
    stall(a)
    assert b.requeue_dead() == 1  # its request goes back to the queue
    a.heartbeat()  # it wakes, and finishes the request it no longer holds
    released = a.release(lease_a)
    # Whoever takes the request next gets its payload; then the other request.
    assert [b.take()[1], b.take()[1]] == [b"request 1", b"request 2"]  # type: ignore[index]
    assert b.take() is None
    assert released is False  # and the late finisher hears that it held the request no more


def claim(frontier: Frontier, record_id: str, lease: str | None) -> bool:
    """`record_id` claimed as a callback of the request `lease` claims it (None: outside any)."""
    held = holding.set(lease)
    try:
        return SharedRecordIds(frontier).add(record_id)
    finally:
        holding.reset(held)


def test_a_worker_killed_before_its_listings_output_is_sent_leaves_its_items_to_the_next_reader(
        workers: dict[str, Frontier]) -> None:
    a, b, c = workers["a"], workers["b"], workers["c"]
    a.add("listing", b"the listing", 0)
    lease_a, _ = a.take()  # type: ignore[misc]
    # a reads the listing and claims its item, then is killed before its item request is sent.
    assert claim(a, "item-1", lease_a)
    assert not claim(c, "item-1", None)  # meanwhile it is a's: another listing naming it asks nothing
    stall(a)
    assert b.requeue_dead() == 1
    assert "item-1" not in SharedRecordIds(b)  # the listing went back, and its claims with it
    lease_b, _ = b.take()  # type: ignore[misc]
    assert claim(b, "item-1", lease_b)  # b reads the listing again and asks for the item
    assert b.add("item page", b"the item", 10, unique=False)
    assert b.release(lease_b)
    # Released: the claim is the crawl's for good, whatever happens to b later.
    stall(b)
    assert c.requeue_dead() == 0
    assert not claim(c, "item-1", None) and len(SharedRecordIds(c)) == 1
    assert [c.take()[1], c.take()] == [b"the item", None]  # type: ignore[index]
    assert not a.release(lease_a)


def test_a_late_release_leaves_the_request_to_its_new_holder(workers: dict[str, Frontier]) -> None:
    a, b = workers["a"], workers["b"]
    a.add("f1", b"request 1", 0)
    stale, _ = a.take()  # type: ignore[misc]
    stall(a)
    b.requeue_dead()
    a.heartbeat()
    again, payload = a.take()  # type: ignore[misc]  # the same worker takes it again: a new lease
    assert payload == b"request 1"
    a.release(stale)  # the first, stalled handling finishes
    assert a.in_flight() == 1  # still leased: by the second handling
    # The second handling's redirect continues it: released by its own lease only.
    a.add("f2", b"redirected", 0, unique=False, finished=stale)
    assert a.in_flight() == 1
    a.add("f3", b"redirected", 0, unique=False, finished=again)
    assert (a.in_flight(), a.queued()) == (0, 2)


def test_a_worker_started_again_under_its_name_gives_back_what_it_held(workers: dict[str, Frontier],
                                                                      redis_url: str) -> None:
    """systemd brings a crashed worker back under the same name before its lease ran out: the
    requests its predecessor held go back to the queue (the new process knows nothing of them)."""
    a = workers["a"]
    a.add("f1", b"request 1", 0)
    a.take()
    again = Frontier(redis_url, PREFIX, "a")
    again.join()
    assert (again.in_flight(), again.queued()) == (0, 1)
    assert again.take() is not None


def test_a_dead_workers_download_slots_free_themselves_once_it_is_seen_dead(workers: dict[str, Frontier]) -> None:
    """The crawl's concurrency limit, shared: a worker killed mid-download leaves its slots taken
    only until it is seen dead, not for the slot's lease (the download timeout and more)."""
    a, b = workers["a"], workers["b"]
    lease = 600.0
    assert a.begin_download("a:1", 2, lease) and a.begin_download("a:2", 2, lease)
    assert not b.begin_download("b:1", 2, lease)  # a is alive: its slots hold
    stall(a)
    assert b.begin_download("b:1", 2, lease) and b.begin_download("b:2", 2, lease)
    assert not workers["c"].begin_download("c:1", 2, lease)  # b is alive: its slots hold
    b.end_download("b:1")
    assert workers["c"].begin_download("c:1", 2, lease)


def test_take_never_returns_a_key_without_its_payload(workers: dict[str, Frontier]) -> None:
    a = workers["a"]
    a.redis.zadd(a.key("queue"), {"orphan:1": -1})  # queued before anything else, its payload gone
    a.add("f1", b"request 1", 0)
    taken = a.take()
    assert taken is not None and taken[1] == b"request 1"
    assert a.take() is None


# -- the end of the crawl ---------------------------------------------------------------------------


def test_the_end_of_the_crawl_is_decided_in_one_step(workers: dict[str, Frontier]) -> None:
    """A worker that asks whether anything is left, while another puts back a dead worker's request
    between two of its commands, never hears "nothing"."""
    a, b, c = workers["a"], workers["b"], workers["c"]
    a.add("f1", b"request 1", 0)
    a.take()
    stall(a)  # a died holding it
    put_back: list[int] = []
    real = b.redis.execute_command

    def then_put_back(*args: Any, **options: Any) -> Any:
        result = real(*args, **options)
        if not put_back:  # c, between b's first command and its next
            put_back.append(c.requeue_dead())
        return result

    b.redis.execute_command = then_put_back  # type: ignore[method-assign]
    assert b.settled() is False
    assert put_back == [1]
    b.redis.execute_command = real  # type: ignore[method-assign]
    lease, _ = b.take()  # type: ignore[misc]
    assert b.settled() is False  # leased
    b.release(lease)
    assert b.settled() is True


def test_the_crawl_is_not_over_while_its_start_requests_are_being_queued(workers: dict[str, Frontier]) -> None:
    a, b = workers["a"], workers["b"]
    assert (a.seed(), b.seed()) == (True, False)  # a seeds the crawl; b starts with nothing to do
    assert b.settled() is False  # a is queueing the start requests
    a.seeded()
    assert b.settled() is True
    # A seeder that dies before it is done holds up nobody.
    c = workers["c"]
    c.redis.set(c.key("seeded"), "c")
    stall(c)
    assert b.settled() is True


# -- items held back until every page is read (the `portal` spider, web archives) -------------------


def test_one_worker_requests_the_held_items_and_a_dead_ones_claims_go_back(workers: dict[str, Frontier]) -> None:
    a, b, c = workers["a"], workers["b"], workers["c"]
    a.seeded()
    hold = SharedHold(a)
    assert [w.settle() for w in (a, b)] == [True, True]  # settled, nothing held: the crawl is over
    hold.offer("item-1", "https://site/news", "0:000000001", ["entry"])
    hold.offer("item-1", "https://site/news", "0:000000001", ["entry"])  # the page read again: the same key
    assert SharedHold(b).offers() == {"item-1": [["entry"]]}
    lease_a = a.settle()
    assert isinstance(lease_a, str)  # a requests the held items; meanwhile the crawl is not over for others
    assert [b.settle(), c.settle()] == [False, False]
    assert claim(a, "item-1", lease_a) and claim_page(a, "https://site/page-2", lease_a)
    stall(a)  # killed before its item requests are queued
    assert b.requeue_dead() == 1
    assert "item-1" not in SharedRecordIds(b) and "https://site/page-2" not in SharedRecordIds(b, "pages")
    assert b.queued() == 0  # the phase is no request: it is not put back in the queue
    lease_b = b.settle()  # the held items are still there: b is elected in turn
    assert isinstance(lease_b, str) and c.settle() is False
    assert claim(b, "item-1", lease_b)
    assert b.add("item page", b"the item", 10, unique=False)
    assert b.held_done(lease_b)
    assert SharedHold(c).offers() == {}  # requested: forgotten, and the claims are the crawl's for good
    assert c.settle() is False  # the item page is queued
    stall(b)
    assert c.requeue_dead() == 0 and not claim(c, "item-1", None)
    assert not a.held_done(lease_a)  # the first one wakes too late: it releases nothing


def test_held_entries_come_back_by_item_page_and_place(workers: dict[str, Frontier]) -> None:
    hold = SharedHold(workers["a"])
    hold.offer("b", "https://site/2", "1:000000002", "b on 2, second")
    hold.offer("b", "https://site/2", "1:000000001", "b on 2, first")
    hold.offer("b", "https://site/1", "1:000000007", "b on 1")
    hold.offer("a", "https://site/2", "1:000000003", "a on 2")
    hold.source("a", "https://site/feed", "digest", {"title": "Ä feed's"})
    assert hold.offers() == {"a": ["a on 2"], "b": ["b on 1", "b on 2, first", "b on 2, second"]}
    assert hold.sources() == {"a": [{"title": "Ä feed's"}]}


def claim_page(frontier: Frontier, url: str, lease: str | None) -> bool:
    held = holding.set(lease)
    try:
        return SharedRecordIds(frontier, "pages").add(url)
    finally:
        holding.reset(held)


# -- questions to the writer ------------------------------------------------------------------------


def archive_memory(tmp_path: Path, ids: list[int]) -> ArchiveMemory:
    """The writer's memory of an archive holding records `ids` (a real SQLite archive)."""
    path = tmp_path / "archive.sqlite"
    writer = SQLiteArchive(path)
    writer.begin_crawl("nato", "nato", {"base_url": "http://127.0.0.1:9"})
    for n in ids:
        writer.add_record({name: getattr(record(n), name) for name in ("id", "portal", "url", "language", "title",
                                                                       "section", "content_hash")})
    writer.close()
    return ArchiveMemory(sqlite3.connect(path, check_same_thread=False), "nato")


@pytest.fixture
def asking(redis_url: str, tmp_path: Path) -> Iterator[tuple[Frontier, ArchiveMemory, SharedMemory]]:
    """The writer's frontier and memory (records 1 and 2), and worker a's view of it."""
    writer = Frontier(redis_url, PREFIX)
    memory = archive_memory(tmp_path, [1, 2])
    publish_memory(writer, memory, "nato", "en", False)
    worker = Frontier(redis_url, PREFIX, "a")
    worker.join()
    yield writer, memory, SharedMemory(worker, "nato")
    for frontier in (writer, worker):
        frontier.redis.close()


def answering(writer: Frontier, memory: ArchiveMemory, stop: threading.Event, after: float = 0.0) -> threading.Thread:
    """The writer's loop, in a thread: answers questions (after `after` seconds) until `stop`."""

    def loop() -> None:
        start = time.monotonic()
        while not stop.is_set():
            if time.monotonic() - start >= after:
                answer_questions(writer, memory)
            stop.wait(0.01)  # the writer's loop, between batches

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def test_a_late_answer_is_not_read_as_the_answer_to_the_next_question(
        asking: tuple[Frontier, ArchiveMemory, SharedMemory], monkeypatch: pytest.MonkeyPatch) -> None:
    writer, memory, shared = asking
    monkeypatch.setattr(memory_module, "ANSWER_SECONDS", 1)
    with pytest.raises(TimeoutError):  # the writer is busy: the worker gives up on record 1
        shared.record(f"{1:016x}")
    answer_questions(writer, memory)  # then the writer answers it, late
    stop = threading.Event()
    thread = answering(writer, memory, stop)
    try:
        got = shared.record(f"{2:016x}")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert got is not None and (got["id"], got["title"]) == (f"{2:016x}", "Item 2")


def test_a_worker_started_again_never_reads_its_predecessors_answers(
        asking: tuple[Frontier, ArchiveMemory, SharedMemory], monkeypatch: pytest.MonkeyPatch) -> None:
    writer, memory, shared = asking
    monkeypatch.setattr(memory_module, "ANSWER_SECONDS", 1)
    with pytest.raises(TimeoutError):
        shared.record(f"{1:016x}")
    answer_questions(writer, memory)  # late: its asker is gone, and a new one runs under its name
    again = SharedMemory(shared.frontier, "nato")
    stop = threading.Event()
    thread = answering(writer, memory, stop)
    try:
        got = again.record(f"{2:016x}")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert got is not None and got["id"] == f"{2:016x}"


def test_a_worker_waiting_for_the_writer_keeps_its_leases(
        asking: tuple[Frontier, ArchiveMemory, SharedMemory], redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A question the writer answers after longer than a worker's lease: the worker is still alive
    (its heartbeat goes on while it waits), so nobody takes its requests from it."""
    writer, memory, shared = asking
    monkeypatch.setattr(frontier_module, "ALIVE_SECONDS", 1)
    monkeypatch.setattr(memory_module, "ANSWER_SECONDS", 10)
    worker = shared.frontier
    worker.heartbeat()
    worker.add("f1", b"request 1", 0)
    assert worker.take() is not None
    other = Frontier(redis_url, PREFIX, "b")
    put_back: list[int] = []
    stop = threading.Event()

    def watch() -> None:  # another worker's idle checks, every 50 ms
        while not stop.is_set():
            put_back.append(other.requeue_dead())
            stop.wait(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    thread = answering(writer, memory, stop, after=2.5)  # 2.5 leases
    try:
        got = shared.record(f"{1:016x}")
    finally:
        stop.set()
        thread.join(timeout=10)
        watcher.join(timeout=10)
    assert got is not None and got["id"] == f"{1:016x}"
    assert len(put_back) > 20 and sum(put_back) == 0
    assert worker.in_flight() == 1


def test_a_question_asked_ahead_is_answered_before_it_is_needed(
        asking: tuple[Frontier, ArchiveMemory, SharedMemory]) -> None:
    writer, memory, shared = asking
    shared.ask(f"{1:016x}")  # when the conditional request is taken
    answer_questions(writer, memory)  # while the page downloads
    writer.redis.close()  # the writer could not answer now: the answer is there already
    got = shared.record(f"{1:016x}")
    assert got is not None and got["title"] == "Item 1"


# -- a writer started again -------------------------------------------------------------------------


def test_a_restarted_writer_writes_nothing_twice(redis_url: str, tmp_path: Path) -> None:
    """Killed after its commit to the archive and before Redis heard of it, the writer reads its
    last items again when the crawl resumes: each record, failure, reject and sighting once."""
    worker, writer = Frontier(redis_url, PREFIX, "a"), Frontier(redis_url, PREFIX)
    page = "https://www.nato.int/cps/en/natolive/index.htm"
    sightings = Sightings(page, [Appearance(f"{n:016x}", f"https://www.nato.int/{n}", page, "News", n)
                                 for n in (1, 2)])
    failure = FetchFailure("https://www.nato.int/cps/en/natohq/news_3.htm", "item", "HTTP 503 Service Unavailable",
                           503, f"{3:016x}", failed_at="2012-09-28T10:00:00+00:00")
    for message in (["item", record(1)], ["item", sightings], ["item", failure],
                    ["reject", record(2, title=None), ["title: missing"]]):
        worker.send(wire.dumps(message))
    path = tmp_path / "archive.sqlite"
    first = CrawlSession.open(path, SessionArgs())
    coordinator = Coordinator(first, writer, redis_url)
    for payload in writer.receive_batch():
        coordinator.handle(payload)
    first.writer.flush()  # committed to the archive ...
    first.close()  # ... and killed: Redis still holds the items as received, not committed
    assert len(writer.uncommitted()) == 4
    again = CrawlSession.open(path, SessionArgs(resume=True))
    assert again.resumed
    Coordinator(again, writer, redis_url).write()
    again.close()
    with sqlite3.connect(path) as conn:
        counts = conn.execute("SELECT records, records_new, records_unchanged, appearances, failures, rejects "
                              "FROM crawls").fetchall()
        tables = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("records", "appearances", "failures", "rejects")]
    assert counts == [(1, 1, 0, 2, 1, 1)]
    assert tables == [1, 2, 1, 1]
    assert writer.uncommitted() == []


# -- what is read back from Redis -------------------------------------------------------------------


class _Opens:
    """A pickle that creates a file when it is loaded: what anyone who can write to Redis could put there."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.path), "w"))


class Portal(Spider):
    name = "portal"

    def parse_item(self, response: Any, listing: dict[str, Any]) -> None:
        """An item page's callback."""

    def item_failed(self, failure: Any) -> None:
        """Its errback."""

    def _private(self, response: Any) -> None:
        """No callback."""


def test_items_and_requests_travel_as_data() -> None:
    state = PageState(http_etag='"x"', listing_hash="h", page_fetched=True, warc_file="a.warc.gz", warc_offset=1234)
    items: list[Any] = [
        ["item", record(1, summary="Ünïcode — intact", provenance={"title": "listing"}, problems=[], state=state)],
        ["item", Sightings("https://www.nato.int/", [Appearance(f"{1:016x}", "u", "s", "News", 1, title="T")])],
        ["item", FetchFailure("u", "item", "TimeoutError: took too long", None, "r", {"record_id": "r"})],
        ["reject", record(2, title=None), ["title: missing"]],
        None, {"nested": [1, 2.5, True, b"\x00\xff"]},
    ]
    for item in items:
        assert wire.loads(wire.dumps(item)) == item
    spider = Portal()
    listing = {"record_id": "r", "title": "T", "url": "https://www.nato.int/x"}
    request = Request("https://www.nato.int/x?a=1", callback=spider.parse_item, errback=spider.item_failed,
                      headers={"If-None-Match": '"x"', "If-Modified-Since": "Fri, 28 Sep 2012 10:00:00 GMT"},
                      meta={"listing": listing, "redirect_urls": ["https://www.nato.int/y"], "retry_times": 1},
                      cb_kwargs={"listing": listing}, priority=5, dont_filter=True, body=b"\x00\xff")
    back = wire.request_from_payload(wire.request_payload(request, spider), spider)
    assert back.to_dict(spider=spider) == request.to_dict(spider=spider)
    assert back.callback == spider.parse_item and back.errback == spider.item_failed


@pytest.mark.parametrize("payload", [
    pickle.dumps({"url": "https://www.nato.int/", "callback": "parse_item"}),
    wire.dumps({"url": "https://www.nato.int/", "_class": "os.system"}),
    wire.dumps({"url": "https://www.nato.int/", "callback": "_private"}),
    wire.dumps({"url": "https://www.nato.int/", "callback": "__class__"}),
    wire.dumps({"url": "https://www.nato.int/", "errback": "nothing_of_the_spider"}),
    wire.dumps({"url": "https://www.nato.int/", "headers": {"a": "b"}}),
    b'["not", "a", "request"]',
], ids=["pickle", "class", "private", "dunder", "no-method", "headers", "list"])
def test_what_is_not_a_request_is_refused(payload: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.request_from_payload(payload, Portal())


@pytest.mark.parametrize("payload", [
    pickle.dumps(["item", record(1)]),
    b'["item", {"$": "os.system", "v": {}}]',
    b'["item", {"$": "Record", "v": {"id": "x", "state": {"http_etag": "x"}}}]',
    b'["item", {"$": "Record", "v": {"id": ["x"]}}]',
    b'["item", {"$": "Record", "v": {"id": "x", "__class__": "x"}}]',
    b'["item", {"$": "FetchFailure", "v": {"url": "u"}}]',
    b'["item", {"$": "Sightings", "v": {"source_url": "u", "appearances": [{"record_id": "x"}]}}]',
    b'["item", {"$": "bytes", "v": "not base64!"}]',
    b"[" * 100_000,
    b"\xff\xfe",
], ids=["pickle", "tag", "state", "field-type", "field-name", "fields-missing", "appearances", "bytes", "deep",
        "not-utf8"])
def test_what_is_not_a_message_is_refused(payload: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.loads(payload)


def test_nothing_read_from_redis_is_unpickled(workers: dict[str, Frontier], redis_url: str, tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    """Pickles written to Redis by a stranger, where the writer reads items and the worker reads
    requests and answers: refused, logged, and the crawl goes on; none is loaded."""
    marker = tmp_path / "ran"
    hostile = pickle.dumps(_Opens(marker))
    a = workers["a"]
    # The writer's items.
    a.send(hostile)
    a.send(wire.dumps(["item", record(1)]))
    session = CrawlSession.open(tmp_path / "archive.sqlite", SessionArgs())
    writer = Frontier(redis_url, PREFIX)
    coordinator = Coordinator(session, writer, redis_url)
    with caplog.at_level(logging.ERROR):
        for payload in writer.receive_batch():
            coordinator.handle(payload)
    session.close()
    assert coordinator.stored == {f"{1:016x}"}
    # A worker's requests.
    crawler = get_crawler(Portal)
    spider = Portal()
    scheduler = FrontierScheduler(crawler, a)
    scheduler.open(spider)
    a.add("f1", hostile, 1)
    a.add("f2", wire.request_payload(Request("https://www.nato.int/", callback=spider.parse_item), spider), 0)
    taken = scheduler.next_request()
    assert taken is not None and taken.url == "https://www.nato.int/"
    assert crawler.stats is not None and crawler.stats.get_value("frontier/unreadable") == 1
    # A worker's answers.
    memory = SharedMemory(a, "nato")
    memory._known = {"r": memory_module.Known(None, None, None, None, None, None)}
    memory.ask("r")
    qid, _ = wire.loads(a.redis.lpop(a.key("memory", "asked")))  # type: ignore[arg-type]
    a.redis.rpush(a.key("memory", "answer", qid), hostile)
    with pytest.raises(wire.WireError):
        memory.record("r")
    assert not marker.exists()
    assert sum("is not one" in r.getMessage() for r in caplog.records) >= 2


def test_a_worker_takes_only_plain_settings_from_the_job() -> None:
    """The job is read from Redis too: its settings may shape the crawl, not choose the code a worker
    loads, the files it writes or the consoles it opens."""
    project = Settings()
    project.setmodule("portalscraper.settings")
    job = {"DOWNLOAD_DELAY": "0.2", "AUTOTHROTTLE_ENABLED": "false", "VERDICT_MAX_ERROR_RATE": "0.5",
           "LOG_LEVEL": "WARNING", "WARC_DIR": "warc", "ARCHIVE_SQLITE_PATH": "archive.sqlite", "FRONTIER_PREFIX": "x",
           "TELNETCONSOLE_HOST": "0.0.0.0", "TELNETCONSOLE_PASSWORD": "known", "LOG_FILE": "/tmp/x",
           "DOWNLOAD_HANDLERS": {"http": "os.system"}, "TWISTED_REACTOR": "os.system", "RETRY_TIMES": ["3"]}
    taken, refused = job_settings(project, job)
    assert taken == {"DOWNLOAD_DELAY": "0.2", "AUTOTHROTTLE_ENABLED": "false", "VERDICT_MAX_ERROR_RATE": "0.5",
                     "LOG_LEVEL": "WARNING", "WARC_DIR": "warc"}
    assert sorted(refused) == ["DOWNLOAD_HANDLERS", "LOG_FILE", "RETRY_TIMES", "TELNETCONSOLE_HOST",
                               "TELNETCONSOLE_PASSWORD", "TWISTED_REACTOR"]
