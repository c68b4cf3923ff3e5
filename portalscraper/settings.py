"""Scrapy settings of portalscraper: the only wiring, and the defaults of the project's own settings.

Defaults are polite, for live portals. The project's own replica is read at full speed once it has
answered as one (see crawl/politeness.py); a mirror of one's own, when PORTAL_FULL_SPEED says so.
"""

from portalscraper import items as _items  # lower case: not a setting

BOT_NAME = "portalscraper"
SPIDER_MODULES = ["portalscraper.spiders"]
NEWSPIDER_MODULE = "portalscraper.spiders"
# `scrapy crawl` with one-line argument errors and the crawl's verdict as exit status.
COMMANDS_MODULE = "portalscraper.commands"

# Good citizenship towards live portals.
ROBOTSTXT_OBEY = True
ROBOTSTXT_MAXSIZE = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB
USER_AGENT = "portalscraper/0.1 (+https://github.com/portalscraper/portalscraper)"
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_TIMES = 3
# BackoffRetryMiddleware: retries back off (0.5 s, 1 s, 2 s ... at most 30 s) and honour
# Retry-After on 429 and 503; a server asking for more than BACKOFF_RETRY_AFTER_MAX seconds is
# left for the next run.
BACKOFF_BASE = 0.5
BACKOFF_MAX = 30.0
BACKOFF_RETRY_AFTER_MAX = 120.0
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    # No spider logs in over HTTP: a look at every request for nothing.
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
    # Cookies with the bundled public-suffix list: nothing downloaded from the internet.
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "portalscraper.middlewares.cookies.OfflineCookiesMiddleware": 700,
    # robots.txt as RFC 9309 reads it (an unreadable one allows nothing), one line per host.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "portalscraper.middlewares.robotstxt.StrictRobotsTxtMiddleware": 100,
    "portalscraper.middlewares.retry.BackoffRetryMiddleware": 550,
    # Below HttpCompressionMiddleware (590): sees bodies already decompressed.
    "portalscraper.middlewares.encoding.EncodingRepairMiddleware": 580,
    # Above RedirectMiddleware (600): a redirect off the allowed domains fails visibly.
    "portalscraper.middlewares.offsite.OffsiteRedirectMiddleware": 610,
    # Nothing asked of another origin than the portal's, or the archive's in a web-archive crawl
    # (before RobotsTxtMiddleware, 100); replayed redirects rewritten to the archive's captures
    # (before OffsiteRedirectMiddleware).
    "portalscraper.middlewares.origin.OriginGuardMiddleware": 50,
    "portalscraper.middlewares.wayback.WaybackRedirectMiddleware": 620,
    # Next to the downloader: responses as received, before decompression or redirects.
    "portalscraper.webarchive.warc.WarcRecorder": 950,
    # The replica read at full speed from its first answer on (robots.txt, usually).
    "portalscraper.middlewares.replica.ReplicaSpeedMiddleware": 960,
}
# Only http and https are ever fetched: Scrapy's handlers for local files, FTP, S3 and data: URLs
# are off (a hostile page's "Next" link to file:///etc/passwd reads nothing).
DOWNLOAD_HANDLERS = {"file": None, "ftp": None, "s3": None, "data": None}

# -- Portal spiders (PORTAL_*) ------------------------------------------------------------
# Web archives (--wayback): at least this delay between requests, one at a time, wherever the
# archive is (127.0.0.1 too: a tunnel or proxy to a public archive). True: an archive of your own
# (a pywb), read at full speed (PORTAL_FULL_SPEED_CONCURRENCY at a time, no delay).
PORTAL_WAYBACK_DELAY = 3.0
PORTAL_WAYBACK_FULL_SPEED = False
# Full speed (no delay, no throttle, this much concurrency per host) for the project's own replica
# once it has answered as one (its X-Portal-Replica header, from loopback), and for any portal
# when PORTAL_FULL_SPEED says it is one's own (a local mirror). An address on loopback alone is
# not enough: a tunnel or proxy on 127.0.0.1 may lead to a live portal.
PORTAL_REPLICA_FULL_SPEED = True
PORTAL_FULL_SPEED = False
PORTAL_FULL_SPEED_CONCURRENCY = 16
# No listing is paged through further than this (a "Next" link that never ends); --max-pages is
# the per-crawl limit below it. A listing whose page shows only items of its earlier pages stops too.
# A million-item portal's news archive has 40,000 pages: a listing stopped by this limit makes the
# crawl no complete pass, so the next crawl is a complete pass again (every item asked again).
PORTAL_MAX_LISTING_PAGES = 100_000
# Incremental crawls: conditional requests for archived item pages, and listings paged only until
# they show nothing new. A complete pass (which is what notices removed items) at least this often.
PORTAL_INCREMENTAL = True
PORTAL_FULL_PASS_DAYS = 7.0
# Feeds and sitemaps (a profile's [sources], else robots.txt's Sitemap lines, /sitemap.xml and the
# feeds pages announce): read after the listings; at most this many sitemap files a crawl, so many
# asked for at a time (the next once one is read; 0: all an index names at once), each at most
# this large once inflated.
PORTAL_SOURCES = True
PORTAL_MAX_SITEMAPS = 1000
PORTAL_SITEMAPS_AT_ONCE = 2
PORTAL_XML_MAX_BYTES = 50 * 1024 * 1024
# A sitemap's item requests put in Scrapy's queue at a time: the rest of the sitemap is read once
# fewer than a quarter of them are queued (0: all at once). Flat memory for a portal whose items
# are only in its sitemaps.
PORTAL_SITEMAP_REQUESTS_AT_ONCE = 1000

# Spiders page through listings themselves (max_pages); Scrapy's depth bookkeeping on every
# request they yield buys nothing.
# Nor does the warning about internal meta keys copied from a response (the spiders build their
# requests' meta themselves), which every request and item passes through.
SPIDER_MIDDLEWARES = {"scrapy.spidermiddlewares.depth.DepthMiddleware": None,
                      "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None}
# A warning for authors of spiders, checked for every response: Scrapy reads the callback's source
# (inspect and ast) each time, as its cache of the answer does not hold bound methods.
WARN_ON_GENERATOR_RETURN_VALUE = False

# Items are processed by this many tasks per callback. The pipelines are synchronous, so more buy
# nothing, and Scrapy starts that many asyncio tasks for every callback's output (100 by default).
CONCURRENT_ITEMS = 4

# Item pipelines, in order: one responsibility each.
ITEM_PIPELINES = {
    "portalscraper.pipelines.normalize.NormalizePipeline": 100,
    "portalscraper.pipelines.validate.ValidatePipeline": 200,
    "portalscraper.pipelines.dedupe.DedupePipeline": 300,
    "portalscraper.pipelines.store.SQLiteArchivePipeline": 800,
    "portalscraper.pipelines.store.JsonLinesArchivePipeline": 850,
}
# NormalizePipeline: the time zone of dates published without one, when the portal's profile
# names none (a site crawled without a profile). None: such dates stay without a zone.
NORMALIZE_TIMEZONE = None
# ValidatePipeline: fields a record needs to be archived; one without them goes to the rejects table.
VALIDATE_REQUIRED_FIELDS = ["id", "url", "title"]

# -- The archive (ARCHIVE_*): SQLiteArchivePipeline and JsonLinesArchivePipeline ------------
# Archives (SQLite, JSON Lines, raw captures) are written by crawls started with `portalscraper
# crawl` or `scrapy crawl` (and so Scrapyd), which switch this on: Scrapy's shell, fetch, parse,
# check and bench write nothing. True archives a crawl run by a CrawlerProcess of one's own.
ARCHIVE_ENABLED = False
# "" switches one off. Relative paths are relative to the working directory.
ARCHIVE_SQLITE_PATH = "exports/portalscraper.sqlite"
ARCHIVE_JSONL_PATH = "exports/records.jsonl"
ARCHIVE_BATCH_SIZE = 500  # rows per transaction
ARCHIVE_FLUSH_SECONDS = 5.0  # at most this long between commits
ARCHIVE_FTS_SYNC_ROWS = 5000  # the full-text index catches up this often during a crawl, and at its end

# -- A crawl's verdict (VERDICT_*): exit code and crawl row, see portalscraper/crawl/verdict.py -----
VERDICT_MAX_ERROR_RATE = 0.05  # share of requests that may finally fail
VERDICT_DRIFT = True  # compare each crawl with the previous healthy one of the same scope
VERDICT_MAX_FILL_DROP = 0.2  # a field's fill rate may drop this much (0.2: from 100% to 80%)
VERDICT_DRIFT_MIN_RECORDS = 20  # fill rates are compared only over at least this many records

# -- Raw captures (WARC_*): WarcRecorder and WarcReplayHandler --------------------------------
# Every response of a crawl in a gzip WARC file in this folder ("" for none).
WARC_DIR = "exports/warc"
WARC_GZIP_LEVEL = 1  # bodies mostly arrive gzipped already: higher levels cost time, save little
# Responses handed to the WARC writer process and not yet written, at most; more, and the crawl
# waits for the disk.
WARC_QUEUE_SIZE = 256
# WARC files to answer every request from instead of the network (`portalscraper reparse`): one
# crawl's; other crawls' files its 304s (revisit records) may refer to; and the crawl they hold, as
# their warcinfo records say (crawl_id, started_at, mode, resumed, finished_at): its row is that crawl's.
WARC_REPLAY_FILES: list[str] = []
WARC_REPLAY_REFERENCES: list[str] = []
WARC_REPLAY_CRAWL: dict[str, object] = {}

# Scrapy's own feed exports (`-O out.jsonl`) get records only, in the archive's field order.
EXTENSIONS = {
    "scrapy.extensions.feedexport.FeedExporter": None,
    "portalscraper.crawl.feeds.RecordFeedExporter": 0,
    # Progress lines (pages, records new/changed/unchanged, failures, rate, time left) instead of
    # Scrapy's LogStats lines.
    "scrapy.extensions.logstats.LogStats": None,
    "portalscraper.crawl.progress.Progress": 0,
    "portalscraper.crawl.collector.CrawlCollector": 0,
}
# Python's garbage collector during a crawl (crawl/collector.py): the long-lived heap frozen once the
# engine has started, the youngest generation collected every GC_THRESHOLD allocations (Python: 700);
# 0 leaves the collector alone.
GC_THRESHOLD = 10_000
# Seconds between progress lines; 0: every 10 s on a terminal, every 60 s in a log; -1: none.
PROGRESS_INTERVAL = 0.0
FEED_EXPORT_ENCODING = "utf-8"
FEED_EXPORTERS = {"csv": "portalscraper.crawl.feeds.RecordCsvExporter"}  # provenance as JSON, as `export` writes it
FEED_EXPORT_FIELDS = list(_items.RECORD_FIELDS)  # the record's shape, from its dataclass

# No control ports or job files in the home folder: scheduled jobs keep their state in the archive.
TELNETCONSOLE_ENABLED = False
# Scrapy's stats, without the check for a deprecated argument on every look-up (crawl/stats.py).
STATS_CLASS = "portalscraper.crawl.stats.CrawlStats"
# Listing pages a crawl asked for, 64 bits each (a portal of a million items has tens of thousands).
DUPEFILTER_CLASS = "portalscraper.crawl.dupefilter.CompactDupeFilter"
# Peak memory is the benchmarks' to measure (ru_maxrss), not a timer's in every crawl.
MEMUSAGE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"
# Scrapy's messages; the DEBUG ones of every page and item not put together above DEBUG (crawl/logformatter.py).
LOG_FORMATTER = "portalscraper.crawl.logformatter.CrawlLogFormatter"

# Shared crawls (`crawl --redis`, `worker`; portalscraper/distributed/): the key prefix of the
# crawl's state in Redis (one crawl per prefix and database). The workers set the others.
FRONTIER_PREFIX = "portalscraper"
FRONTIER_REDIS_URL = None
FRONTIER_WORKER = None
