"""A crawl's shared state in Redis (redis-py, no Scrapy): what workers and the writer agree on.

Keys, all under `<prefix>:` (one crawl per prefix):

- `job`: the crawl's spider, arguments and settings, as the coordinator wrote them (JSON);
- `queue` (sorted set: key -> score, Scrapy's priority first, then arrival) and `requests`
  (hash: key -> the request as data, `wire.request_payload`): requests waiting for a worker;
- `seen` (set): fingerprints of every request ever queued: each page is asked once per crawl;
- `requested` (set): the record ids whose item requests were queued: each item is asked once;
- `inflight:<worker>` (hash: key -> lease token and score): what a worker took and has not
  finished; a worker whose `alive:<worker>` key expired (killed, stalled, its machine gone) has its
  requests put back, and a request is released only by the lease that holds it;
- `workers` (set), `done:<worker>` (its totals, JSON, when it stopped), `seeded` (the worker
  queueing the crawl's start requests, then `done`);
- `claims:<token>` (set): what a request's callback claimed (record ids; members of the other
  claimed sets as "\x1f<set>\x1f<member>"), undone if its worker dies before releasing it;
- `held:*`: what spiders that hold items back until every page is read keep crawl-wide (`hold`);
  `inflight:<worker>` holds the key `held` while that worker requests them (`settle`);
- `items` (list): what workers send the writer, in order of arrival (`wire` messages);
- `polite`: the earliest time the next request to the portal may leave (a shared delay).

Nothing read from Redis is unpickled: see `wire`, and docs/scaling.md for who may reach Redis.
"""

from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis

logger = logging.getLogger(__name__)

# A lease is the request's key and a token of its own: a worker holds a request while its
# `inflight:<worker>` hash maps the key to "<token>|<score>" (the score to put it back at its place).
# A request is released (its lease and its payload deleted) only by the lease that holds it: a worker
# that stalled past its lease, had the request put back and taken by another (or by itself again),
# and wakes to finish, releases nothing.
# The records a request's callback claimed (`claims:<token>`) become the crawl's for good when the
# request is released; when a dead worker's request is put back, they are claimed no more.
_RELEASE_FUNCTION = """
local function release(inflight, requests, key, token, claims)
  local held = redis.call('HGET', inflight, key)
  if not held or string.sub(held, 1, #token + 1) ~= token .. '|' then return 0 end
  redis.call('HDEL', inflight, key)
  redis.call('HDEL', requests, key)
  redis.call('DEL', claims .. token)
  return 1
end
"""
# Take the best-placed request and lease it to a worker, in one step (a worker killed between the
# two cannot lose it): {key, token, payload, keys skipped}. A key without a payload is never taken
# (the protocol leaves none; one left by an older version is skipped and counted).
_TAKE = """
local skipped = 0
while true do
  local popped = redis.call('ZPOPMIN', KEYS[1])
  if #popped == 0 then
    if skipped > 0 then return {false, false, false, skipped} end
    return false
  end
  local payload = redis.call('HGET', KEYS[3], popped[1])
  if payload then
    local token = tostring(redis.call('INCR', KEYS[4]))
    redis.call('HSET', KEYS[2], popped[1], token .. '|' .. popped[2])
    return {popped[1], token, payload, skipped}
  end
  skipped = skipped + 1
end
"""
# Queue a request: unless it must be unique and its fingerprint was seen, a key of its own (the
# fingerprint and an arrival number), its place (Scrapy's priority first, then arrival), its
# payload; and the request it continues (ARGV[5] and ARGV[6], the key and token of a redirect's or
# a retry's lease) released, queued or not, if this worker still holds it.
_ADD = _RELEASE_FUNCTION + """
local added = 0
if ARGV[4] == '0' or redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  local serial = redis.call('INCR', KEYS[2])
  local key = ARGV[1] .. ':' .. serial
  redis.call('HSET', KEYS[3], key, ARGV[2])
  redis.call('ZADD', KEYS[4], -tonumber(ARGV[3]) * 1e10 + serial, key)
  added = 1
end
if ARGV[5] ~= '' then release(KEYS[5], KEYS[3], ARGV[5], ARGV[6], ARGV[7]) end
return added
"""
_RELEASE = _RELEASE_FUNCTION + "return release(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])"
# Put a worker's leased requests back in the queue, at their old places, and undo their claims (in
# `requested`, KEYS[4], or in the set a claim names); with ARGV[1] '1', only if the worker is dead
# (its `alive` key, KEYS[3], expired), checked in the same step: a worker that answers again
# between a look and the requeue keeps its requests.
_REQUEUE = """
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local leased = redis.call('HGETALL', KEYS[1])
for i = 1, #leased, 2 do
  if leased[i] ~= 'held' then  -- the phase that requests held items is no request: settle() elects anew
    redis.call('ZADD', KEYS[2], string.match(leased[i + 1], '|(.*)$'), leased[i])
  end
  local claims = ARGV[2] .. string.match(leased[i + 1], '^([^|]*)|')
  for _, claimed in ipairs(redis.call('SMEMBERS', claims)) do
    local set, member = string.match(claimed, '^\\31([^\\31]*)\\31(.*)$')
    if set then redis.call('SREM', ARGV[3] .. set, member) else redis.call('SREM', KEYS[4], claimed) end
  end
  redis.call('DEL', claims)
end
redis.call('DEL', KEYS[1])
return #leased / 2
"""
# Whether the crawl has nothing left to ask, in one step: nothing queued, nothing leased to any
# worker, and no live worker still queueing the crawl's start requests. Looked at in two steps, a
# request put back in the queue between them (a dead worker's, or a stopping one's) was in
# neither. Key names from the prefix (ARGV[1]): the workers come from the `workers` set.
_SETTLED_FUNCTION = """
local function settled()
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('HLEN', ARGV[1] .. ':inflight:' .. worker) > 0 then return 0 end
end
local seeder = redis.call('GET', KEYS[3])
if seeder and seeder ~= 'done' and redis.call('EXISTS', ARGV[1] .. ':alive:' .. seeder) == 1 then return 0 end
return 1
end
"""
_SETTLED = _SETTLED_FUNCTION + "return settled()"
# Settled, and what then: 0 the crawl is not settled; 1 it is, and nothing is held back (the crawl
# has nothing left to ask); else items are held back (`held:offers`, `held:sources`): this worker
# (ARGV[2]) requests them, under a lease of its own (`inflight:<worker>` -> `held`), returned.
_SETTLE = _SETTLED_FUNCTION + """
if settled() == 0 then return 0 end
if redis.call('EXISTS', KEYS[4]) == 0 and redis.call('EXISTS', KEYS[5]) == 0 then return 1 end
local token = tostring(redis.call('INCR', KEYS[6]))
redis.call('HSET', ARGV[1] .. ':inflight:' .. ARGV[2], 'held', token .. '|0')
return 'held:' .. token
"""
# The held items requested (their requests queued, their records sent): the phase's lease
# released, and what was held forgotten, in one step; 0 if the lease was no longer this worker's.
_HELD_DONE = _RELEASE_FUNCTION + """
if release(KEYS[1], KEYS[2], 'held', ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('DEL', KEYS[3], KEYS[4])
return 1
"""
# Claim a record for the request whose callback runs (token ARGV[2], '' for none: a claim for good).
# ARGV[3]: the claim as the request's claims hold it.
_CLAIM = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
if ARGV[2] ~= '' then redis.call('SADD', KEYS[2] .. ARGV[2], ARGV[3]) end
return 1
"""
# A politeness slot: taken if the portal may be asked now (the next one then `delay` later), else
# how long until it may: a request waits, then asks again, so that it leaves as soon as it gets its
# slot (a slot reserved ahead could be overtaken by the next one while its worker is busy). Times in
# milliseconds, from the Redis server's clock.
_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = tonumber(redis.call('GET', KEYS[1]) or 0)
if now >= at then
  redis.call('SET', KEYS[1], now + tonumber(ARGV[1]), 'PX', 3600000)
  return 0
end
return at - now
"""

# A download slot of the crawl's concurrency limit (ARGV[1] requests at once, all workers together):
# taken (ARGV[2], named `<worker>:<serial>`, for ARGV[3] ms at most) if one is free. When none is,
# the slots of dead workers (their `alive` key expired; ARGV[4] is that key's prefix) are freed:
# a worker killed mid-download holds its slots for the lease (the download timeout and more) no
# longer than it takes the others to see it dead.
_DOWNLOAD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  for _, slot in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if redis.call('EXISTS', ARGV[4] .. string.match(slot, '^(.*):[^:]*$')) == 0 then
      redis.call('ZREM', KEYS[1], slot)
    end
  end
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
return 1
"""
# Up to ARGV[1] items from the list the workers fill to the writer's received list, in one step.
_TAKE_ITEMS = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[1], #items, -1)
  redis.call('RPUSH', KEYS[2], unpack(items))
end
return items
"""

ALIVE_SECONDS = 10  # a worker not heard of for this long is dead: its requests go back


class Frontier:
    """One crawl's state in Redis, as seen by one process (a worker, or the writer: `worker` None)."""

    def __init__(self, url: str, prefix: str = "portalscraper", worker: str | None = None) -> None:
        self.redis = redis.Redis.from_url(url)
        self.prefix = prefix
        self.worker = worker
        self._take = self.redis.register_script(_TAKE)
        self._add = self.redis.register_script(_ADD)
        self._release = self.redis.register_script(_RELEASE)
        self._requeue = self.redis.register_script(_REQUEUE)
        self._settled = self.redis.register_script(_SETTLED)
        self._settle = self.redis.register_script(_SETTLE)
        self._held_done = self.redis.register_script(_HELD_DONE)
        self._slot = self.redis.register_script(_SLOT)
        self._take_items = self.redis.register_script(_TAKE_ITEMS)
        self._download = self.redis.register_script(_DOWNLOAD)

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    # -- the job ------------------------------------------------------------------------------

    def publish(self, job: dict[str, Any]) -> None:
        """The crawl's job: workers waiting for one start when it is there (publish what they need
        before it)."""
        self.redis.set(self.key("job"), json.dumps(job))

    def job(self) -> dict[str, Any] | None:
        raw = self.redis.get(self.key("job"))
        return json.loads(raw) if raw else None

    def clear(self) -> None:
        keys = list(self.redis.scan_iter(match=self.key("*"), count=1000))
        for start in range(0, len(keys), 500):
            self.redis.delete(*keys[start:start + 500])

    # -- requests -----------------------------------------------------------------------------

    def add(self, fingerprint: str, payload: bytes, priority: int, unique: bool = True,
            finished: str | None = None) -> bool:
        """Queue a request (False if `unique` and its fingerprint was queued before). `finished`:
        the lease of the request this one continues (a redirect, a retry), released with it. One
        step: a worker killed in the middle leaves no page marked seen and never queued."""
        assert self.worker is not None
        key, token = _lease_parts(finished) if finished else ("", "")
        keys = [self.key("seen"), self.key("serial"), self.key("requests"), self.key("queue"),
                self.key("inflight", self.worker)]
        return bool(self._add(keys=keys, args=[fingerprint, payload, priority, int(unique), key, token,
                                               self.key("claims", "")]))

    def take(self) -> tuple[str, bytes] | None:
        """The next request for this worker, leased to it until it finishes (or stops answering):
        (its lease, its payload)."""
        assert self.worker is not None
        taken = self._take(keys=[self.key("queue"), self.key("inflight", self.worker), self.key("requests"),
                                 self.key("leases")])
        if not taken:
            return None
        key, token, payload, skipped = taken
        if skipped:
            logger.error("%d request(s) in the frontier had no payload: skipped", skipped)
        if key is None:
            return None
        return f"{_text(token)}|{_text(key)}", _bytes(payload)

    def release(self, lease: str) -> bool:
        """A request finished: its outcome (items, new requests) is already sent. False when this
        worker no longer held it (it stalled past its lease and the request was put back): the
        request is then another's to finish, or the queue's."""
        assert self.worker is not None
        key, token = _lease_parts(lease)
        return bool(self._release(keys=[self.key("inflight", self.worker), self.key("requests")],
                                  args=[key, token, self.key("claims", "")]))

    def queued(self) -> int:
        return int(self.redis.zcard(self.key("queue")))

    def in_flight(self) -> int:
        return sum(int(self.redis.hlen(self.key("inflight", w))) for w in self.workers())

    # -- workers ------------------------------------------------------------------------------

    def join(self) -> None:
        """This worker starts: a process that joins holds nothing, so what a predecessor under its
        name held (a crashed worker brought back by systemd before its lease ran out) goes back."""
        assert self.worker is not None
        self._put_back(self.worker, only_dead=False)
        self.redis.sadd(self.key("workers"), self.worker)
        self.heartbeat()

    def heartbeat(self) -> None:
        assert self.worker is not None
        self.redis.set(self.key("alive", self.worker), 1, ex=ALIVE_SECONDS)

    def workers(self) -> list[str]:
        return sorted(_bytes(w).decode() for w in self.redis.smembers(self.key("workers")))

    def seed(self) -> bool:
        """Whether this worker seeds the crawl (the first to ask does): until `seeded()`, the crawl
        is not over while this worker is alive."""
        assert self.worker is not None
        return bool(self.redis.set(self.key("seeded"), self.worker, nx=True))

    def seeded(self) -> None:
        """The crawl's start requests are all queued."""
        self.redis.set(self.key("seeded"), "done")

    def leave(self, totals: dict[str, Any]) -> None:
        """This worker stopped: its totals for the crawl row, and its requests (none, normally) back."""
        assert self.worker is not None
        with self.redis.pipeline() as tx:
            tx.set(self.key("done", self.worker), json.dumps(totals))
            tx.delete(self.key("alive", self.worker))
            tx.execute()
        self._put_back(self.worker, only_dead=False)

    def requeue_dead(self) -> int:
        """Put back what dead workers had taken; the number of requests put back."""
        return sum(self._put_back(worker, only_dead=True) for worker in self.workers())

    def _put_back(self, worker: str, only_dead: bool) -> int:
        return int(self._requeue(keys=[self.key("inflight", worker), self.key("queue"), self.key("alive", worker),
                                       self.key("requested")],
                                 args=[int(only_dead), self.key("claims", ""), self.key("")]))

    def live_workers(self) -> list[str]:
        return [w for w in self.workers() if self.redis.exists(self.key("alive", w))]

    def totals(self) -> list[dict[str, Any]]:
        return [json.loads(raw) for w in self.workers() if (raw := self.redis.get(self.key("done", w)))]

    def settled(self) -> bool:
        """Nothing queued, nothing in flight, the start requests all queued: the crawl has no more
        pages to ask for (decided in one step)."""
        return bool(self._settled(keys=[self.key("queue"), self.key("workers"), self.key("seeded")],
                                  args=[self.prefix]))

    def settle(self) -> bool | str:
        """Whether the crawl is settled (`settled`), and if so whether items are held back: False
        (not settled), True (settled, nothing held: the crawl is over), or the lease under which
        this worker requests the held items (then `held_done`). One step: one worker at a time
        requests them, and while it does the crawl is not settled for the others."""
        assert self.worker is not None
        got = self._settle(keys=[self.key("queue"), self.key("workers"), self.key("seeded"), self.key("held", "offers"),
                                 self.key("held", "sources"), self.key("leases")], args=[self.prefix, self.worker])
        if isinstance(got, bytes | str):
            token = _text(got).removeprefix("held:")
            return f"{token}|held"
        return bool(got)

    def held_done(self, lease: str) -> bool:
        """The held items are requested: what was held is forgotten and the lease released (False:
        the lease was no longer this worker's; the held items are then requested again, by whoever
        is elected next: the crawl-wide claims keep each item asked once)."""
        assert self.worker is not None
        _, token = _lease_parts(lease)
        return bool(self._held_done(keys=[self.key("inflight", self.worker), self.key("requests"),
                                          self.key("held", "offers"), self.key("held", "sources")],
                                    args=[token, self.key("claims", "")]))

    # -- items to the writer ------------------------------------------------------------------

    def send(self, payload: bytes) -> None:
        self.redis.rpush(self.key("items"), payload)

    def receive(self, timeout: float = 1.0) -> bytes | None:
        """The next item, kept in `received` until `committed()`: a writer killed before its commit
        leaves them for the next one (`uncommitted()`)."""
        got = self.redis.blmove(self.key("items"), self.key("received"), timeout,  # type: ignore[arg-type]
                                "LEFT", "RIGHT")
        return _bytes(got) if got is not None else None

    def receive_batch(self, most: int = 500, timeout: float = 1.0) -> list[bytes]:
        """Up to `most` items (waiting `timeout` seconds for the first), kept like receive()'s."""
        taken = self._take_items(keys=[self.key("items"), self.key("received")], args=[most])
        if taken:
            return [_bytes(p) for p in taken]
        first = self.receive(timeout)
        return [first] if first is not None else []

    def uncommitted(self) -> list[bytes]:
        return [_bytes(p) for p in self.redis.lrange(self.key("received"), 0, -1)]

    def committed(self) -> None:
        self.redis.delete(self.key("received"))

    def pending_items(self) -> int:
        return int(self.redis.llen(self.key("items")))

    # -- politeness, shared ------------------------------------------------------------------

    def begin_download(self, name: str, limit: int, lease: float) -> bool:
        """Take one of the crawl's `limit` download slots for `name` (False: none free now)."""
        return bool(self._download(keys=[self.key("downloading")],
                                   args=[limit, name, int(lease * 1000), self.key("alive", "")]))

    def end_download(self, name: str) -> None:
        self.redis.zrem(self.key("downloading"), name)

    def slot(self, delay: float) -> float:
        """0 if the portal may be asked now (the slot is then this caller's), else seconds to wait."""
        return float(self._slot(keys=[self.key("polite")], args=[int(delay * 1000)])) / 1000


# The lease of the request whose callback (or errback) is running in this process: the worker's
# scheduler sets it around each step of the callback (scrapy_parts._released).
holding: ContextVar[str | None] = ContextVar("holding", default=None)


class SharedRecordIds:
    """The record ids a shared crawl has asked for, in Redis: a worker claims an item when it reads
    the listing that names it (the first listing read wins, as in one process), whichever worker
    reads it. Under another `name`, any other set of things claimed once per crawl the same way (the
    `portal` spider's pages and feeds).

    A claim made while a request's callback runs is that request's until the request is released
    (its output, the item requests among it, all sent): if the worker dies first, its requests go
    back to the queue and its claims are undone in the same step, so that whoever reads the listing
    again asks for its items."""

    def __init__(self, frontier: Frontier, name: str = "requested") -> None:
        self.redis = frontier.redis
        self.frontier = frontier
        self.key = frontier.key(name)
        self.claims = frontier.key("claims", "")
        # As a request's claims name a claim: a record id as it is, another set's member with the set.
        self.claimed = "" if name == "requested" else f"\x1f{name}\x1f"
        self._claim = self.redis.register_script(_CLAIM)

    def add(self, record_id: str) -> bool:
        """Claim an id; False if it was claimed already."""
        lease = holding.get()
        token = _lease_parts(lease)[1] if lease else ""
        return bool(self._claim(keys=[self.key, self.claims], args=[record_id, token, self.claimed + record_id]))

    def __contains__(self, record_id: object) -> bool:
        return isinstance(record_id, str) and bool(self.redis.sismember(self.key, record_id))

    def __len__(self) -> int:
        return int(self.redis.scard(self.key))


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def shown(url: str) -> str:
    """A Redis URL as logs and error lines show it: its password, if it has one, as ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def _lease_parts(lease: str) -> tuple[str, str]:
    """A lease's request key and token (a lease is "<token>|<key>")."""
    token, _, key = lease.partition("|")
    return key, token


def wait_for(condition: Any, timeout: float, step: float = 0.1) -> bool:
    """Poll `condition` until true or `timeout` seconds passed (for the coordinator's start-up)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True
