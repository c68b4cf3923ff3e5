"""One crawl, several crawl workers: a frontier, a seen-set and a politeness budget shared in Redis,
and one process writing the archive (see docs/scaling.md).

- `frontier.Frontier`: the crawl's state in Redis (requests queued and in flight, per-worker
  leases, the seen-set, the items on their way to the writer, the workers' counts).
- `wire`: what travels through Redis, as data (JSON, never pickle): requests, items, answers.
- `memory`: what workers know of the archive, and the records they ask the writer for.
- `scrapy_parts`: what a worker's Scrapy uses: the scheduler, the politeness limit shared by
  every worker, the item pipeline that sends items to the writer.
- `coordinator`: `portalscraper crawl --redis`: opens the archive, starts the workers, writes
  what they send, judges the crawl; `portalscraper worker`: one worker, on any machine.
"""
