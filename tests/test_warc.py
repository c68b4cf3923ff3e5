"""Raw captures: a crawl's WARC file is valid, and re-parsing the files alone rebuilds the same archive."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from portalscraper.webarchive.warcfiles import WarcIndex, read_warc_file
from tests.conftest import MEASURED, ROOT, Replica, run_cli


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


# What a rebuild must give back, crawl by crawl. Left out: the times rows were written (a rebuilt
# crawl's rows carry its start), the order rows were inserted in (row ids), and the process.
_CRAWL_COLUMNS = ("id, spider, portal, args, mode, started_at, status, finish_reason, exit_code, alarms, complete, "
                  "resumed, records, records_new, records_changed, records_unchanged, records_gone, appearances, "
                  "rejects, failures, sections, fill_rates")
# What a crawl's own run counted: the same when it ran in one go (a resumed crawl's row keeps its
# last run's). Its bytes are not compared: a replay reads bodies decompressed.
RUN_COLUMNS = "duplicates, requests, responses, item_pages_fetched, item_pages_not_modified, item_pages_failed, errors"
_UNCOMPARED = {"first_seen", "last_seen", "version_since", "gone_since", "fetched_at", "valid_from", "valid_to",
               "version_id", "seen_at", "failed_at", "rejected_at"}


def archive_rows(db: Path, runs: bool = True) -> dict[str, list[tuple]]:
    """The archive as a rebuild must give it back: crawl rows, records (content hashes, history
    by crawl, validators, captures), record versions, appearances, failures and rejects."""
    with sqlite3.connect(db) as conn:
        found = {"crawls": conn.execute(f"SELECT {_CRAWL_COLUMNS}{', ' + RUN_COLUMNS if runs else ''} FROM crawls "
                                        "ORDER BY id").fetchall()}
        for table in ("records", "record_versions", "appearances", "failures", "rejects"):
            columns = [c[1] for c in conn.execute(f"PRAGMA table_info({table})")
                       if c[1] not in _UNCOMPARED and (table == "records" or c[1] != "id")]
            found[table] = sorted(conn.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall(), key=repr)
    return found


def test_crawl_writes_a_valid_warc_and_reparse_rebuilds_the_same_records(replica: Replica, tmp_path: Path) -> None:
    crawled, reparsed = tmp_path / "crawled.sqlite", tmp_path / "reparsed.sqlite"
    run_cli("crawl", "nato", "--base-url", replica.base_url, "--db", str(crawled), "--jsonl", "", "--warc",
            str(tmp_path / "warc"), "--log-level", "WARNING", cwd=tmp_path)
    warcs = sorted((tmp_path / "warc").glob("nato-*.warc.gz"))
    assert len(warcs) == 1
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v", str(warcs[0])], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]

    # Each record knows the capture its page came from.
    url, warc_file, offset = rows(crawled, "SELECT url, warc_file, warc_offset FROM records WHERE kind = 'news' "
                                           "ORDER BY id LIMIT 1")[0]
    assert warc_file == warcs[0].name
    with warcs[0].open("rb") as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)))
        assert record.rec_type == "response"
        assert record.rec_headers.get_header("WARC-Target-URI").endswith(url.rsplit("/", 1)[1])
        assert b"<h1>" in record.content_stream().read()

    # With the replica gone, the WARC file alone gives the same archive.
    result = run_cli("reparse", "--warc", str(warcs[0]), "--db", str(reparsed), "--jsonl", "", "--log-level",
                     "WARNING", cwd=tmp_path)
    assert "Re-parsing 1 WARC file(s) with the nato spider" in result.stderr
    query = "SELECT id, content_hash, warc_offset FROM records ORDER BY id"
    assert rows(reparsed, query) == rows(crawled, query)
    assert len(rows(crawled, query)) == 330
    listed = "SELECT record_id, section, position FROM appearances ORDER BY 1, 2, 3"
    assert rows(reparsed, listed) == rows(crawled, listed)


def test_reparse_of_several_crawls_rebuilds_each_next_to_its_database(start_replica, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Files of two crawls (two replicas of different sizes, on two ports): both rebuilt, into one
    archive, and the JSON Lines archive written next to it, not over the crawls' own."""
    crawled = tmp_path / "crawled.sqlite"
    for items in (20, 40):
        server = start_replica(items)
        run_cli("crawl", "nato", "--base-url", server.base_url, "--db", str(crawled), "--full", "--warc",
                str(tmp_path / "warc"), "-q", cwd=tmp_path)
        server.stop()
    warcs = sorted((tmp_path / "warc").glob("nato-*.warc.gz"))
    assert len(warcs) == 2
    before = (tmp_path / "exports/records.jsonl").read_bytes() if (tmp_path / "exports/records.jsonl").exists() \
        else None
    reparsed = tmp_path / "rebuilt/archive.sqlite"
    result = run_cli("reparse", "--warc", *map(str, warcs), "--db", str(reparsed), "-q", cwd=tmp_path)
    assert "Re-parsing 2 WARC files of 2 crawls" in result.stderr
    assert rows(reparsed, "SELECT count(*), sum(status = 'finished') FROM crawls") == [(2, 2)]
    query = "SELECT id, content_hash FROM records ORDER BY id"
    assert rows(reparsed, query) == rows(crawled, query) and len(rows(crawled, query)) == 70
    assert len((tmp_path / "rebuilt/archive.jsonl").read_text("utf-8").splitlines()) == 70
    after = (tmp_path / "exports/records.jsonl").read_bytes() if (tmp_path / "exports/records.jsonl").exists() \
        else None
    assert after == before  # the crawls' own JSON Lines archive is untouched


def test_reparse_of_a_scheduled_jobs_crawls_rebuilds_the_archive_crawl_by_crawl(
        start_replica: Callable[..., Replica], tmp_path: Path) -> None:
    """The same command three times, as cron runs it, the portal changing after the first: each
    WARC file says which crawl wrote it, the 304s are revisits of the first crawl's captures, and
    the files alone give back every crawl (modes and counts), record, version, appearance,
    failure and gone item."""
    server = start_replica(40)
    crawled, warc = tmp_path / "crawled.sqlite", tmp_path / "warc"

    def crawl(*extra: str) -> None:
        run_cli("crawl", "nato", "--base-url", server.base_url, "--db", str(crawled), "--jsonl", "", "--warc",
                str(warc), "-q", *extra, cwd=tmp_path)

    crawl()
    server.change({"op": "edit", "key": "news_91112", "summary": "A corrected summary."},
                  {"op": "add", "title": "Allies meet on maritime security", "date_text": "27 Sep. 2012",
                   "summary": "Naval experts met in Northwood."},
                  {"op": "remove", "key": "news_100020"}, {"op": "break", "key": "news_100030", "status": 404})
    crawl("-s", "PORTAL_FULL_PASS_DAYS=0")  # the weekly complete pass: it finds the removed item gone
    crawl()  # and an incremental one
    counts = rows(crawled, f"SELECT mode, records_new, records_changed, records_gone, {RUN_COLUMNS} FROM crawls")
    # Requests: the pages, and the portal's feeds and sitemaps (two feeds, the sitemap index and its
    # two sitemaps; an incremental crawl skips sitemaps whose lastmod says they did not move).
    assert counts == [
        ("full", 70, 0, 0, 0, 79, 79, 70, 0, 0, 0),
        ("full", 1, 1, 1, 0, 79, 79, 4, 65, 1, 1),  # new, changed and the two hubs; 65 304s; the broken page
        ("incremental", 0, 0, 0, 0, 77, 77, 2, 67, 1, 1)], repr(counts)
    warcs = sorted(warc.glob("nato-*.warc.gz"))
    assert len(warcs) == 3
    assert [read_warc_file(w).info["crawl-id"] for w in warcs] == ["1", "2", "3"]
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(warcs[1])], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]

    # Each 304 is a revisit naming the capture it confirms: the first crawl's of the same page.
    index = WarcIndex([warcs[1]], [warcs[0]])
    revisits = [c for c in index.latest.values() if c.revisit]
    assert len(revisits) == 65
    for revisit in revisits:
        confirmed = index.confirmed(revisit)
        assert confirmed is not None and confirmed.path == warcs[0] and not confirmed.revisit
        assert (confirmed.record_id, confirmed.uri, confirmed.date) == \
            (revisit.refers_to, revisit.refers_uri, revisit.refers_date)

    rebuilt = tmp_path / "rebuilt.sqlite"
    server.stop()
    result = run_cli("reparse", "--warc", *map(str, reversed(warcs)), "--db", str(rebuilt), "--jsonl", "", "-q",
                     cwd=tmp_path)
    assert "Re-parsing 3 WARC files of 3 crawls" in result.stderr
    assert "No archived record" not in result.stderr
    assert archive_rows(rebuilt) == archive_rows(crawled)
    assert rows(rebuilt, "SELECT count(*), sum(body != ''), count(gone_crawl_id) FROM records") == [(71, 71, 1)]
    assert rows(rebuilt, "SELECT started_at FROM crawls") == rows(crawled, "SELECT started_at FROM crawls")


def _old_warc(path: Path, day: str, item: tuple[int, bytes]) -> None:
    """A WARC file as crawls wrote them before files were stamped with their crawl and 304s were
    revisits, on `day`: the homepage, and an item page answered with `item` (status, body)."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    base = "http://127.0.0.1:9"
    home = (b'<html><body><h2>News</h2><div><a href="/cps/en/natolive/news_1.htm">Good item</a> 13 Sep. 2012'
            b"<p>A good summary.</p></div></body></html>")
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        info = writer.create_warcinfo_record(path.name, {"spider": "nato", "portalscraper-base_url": base,
                                                         "portalscraper-full": "True"})
        info.rec_headers.replace_header("WARC-Date", f"{day}T00:00:00Z")
        writer.write_record(info)
        for url, status, body in ((f"{base}/robots.txt", 200, b"User-agent: *\nDisallow:\n"),
                                  (f"{base}/cps/en/natolive/index.htm", 200, home),
                                  (f"{base}/cps/en/natolive/news_1.htm", *item)):
            http = StatusAndHeaders(f"{status} {'OK' if status == 200 else 'Not Modified'}",
                                    [("Content-Type", "text/html; charset=utf-8"), ("ETag", '"e1"'),
                                     ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                                          warc_headers_dict={"WARC-Date": f"{day}T00:00:01Z"}))


@pytest.mark.slow
def test_older_files_are_grouped_by_arguments_and_their_304s_find_the_earlier_capture(tmp_path: Path) -> None:
    """Files written before crawls were stamped in them: two runs with the same arguments are one
    complete pass, as before, and the later run's 304 (a response record then) no longer hides
    the earlier capture: the record keeps its text."""
    first, second = tmp_path / "nato-20120901000000-1.warc.gz", tmp_path / "nato-20120908000000-2.warc.gz"
    text = b"<html><body><h1>Good item</h1><div class='text'><p>" + b"Good text. " * 20 + b"</p></div></body></html>"
    _old_warc(first, "2012-09-01", (200, text))
    _old_warc(second, "2012-09-08", (304, b""))
    db = tmp_path / "re.sqlite"
    result = run_cli("reparse", "--warc", str(second), str(first), "--db", str(db), "--jsonl", "", "-q", cwd=tmp_path,
                     check=False)
    assert "Re-parsing 2 WARC file(s) with the nato spider (http://127.0.0.1:9)" in result.stderr
    assert rows(db, "SELECT count(*), mode FROM crawls") == [(1, "full")]
    title, body, warc_file = rows(db, "SELECT title, body, warc_file FROM records")[0]
    assert (title, body.split(". ")[0], warc_file) == ("Good item", "Good text", first.name)


def _warc_with_a_gzip_bomb(path: Path) -> None:
    """A crawl's WARC as a hostile replay would hold it: the homepage, a good item, and an item page
    whose gzip body inflates to 64 MB."""
    import gzip
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    base = "http://127.0.0.1:9"
    home = (b'<html><body><h2>News</h2><div><a href="/cps/en/natolive/news_1.htm">Good item</a> 13 Sep. 2012'
            b'<p>A good summary.</p></div><div><a href="/cps/en/natolive/news_2.htm">Bomb item</a> 13 Sep. 2012'
            b"<p>A bomb summary.</p></div></body></html>")
    good = b"<html><body><h1>Good item</h1><div class='text'><p>" + b"Good text. " * 20 + b"</p></div></body></html>"
    bomb = gzip.compress(b"<html><body><p>" + b"\0" * (64 * 1024 * 1024), compresslevel=9)
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        info = {"spider": "nato", "portalscraper-base_url": base}
        writer.write_record(writer.create_warcinfo_record(path.name, info))
        for url, body, headers in ((f"{base}/robots.txt", b"User-agent: *\nDisallow:\n", []),
                                   (f"{base}/cps/en/natolive/index.htm", home, []),
                                   (f"{base}/cps/en/natolive/news_1.htm", good, []),
                                   (f"{base}/cps/en/natolive/news_2.htm", bomb, [("Content-Encoding", "gzip")])):
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"), *headers,
                                               ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))


@pytest.mark.slow
def test_reparse_refuses_a_gzip_bomb_with_the_crawls_own_size_limit(tmp_path: Path) -> None:
    import resource
    import subprocess
    import sys

    warc = tmp_path / "hostile.warc.gz"
    _warc_with_a_gzip_bomb(warc)
    db = tmp_path / "re.sqlite"
    result = subprocess.run([sys.executable, "-c", MEASURED, "reparse", "--warc", str(warc), "--db", str(db), "--jsonl",
                             "", "--log-level", "ERROR", "-s", "DOWNLOAD_MAXSIZE=4000000",
                             "-s", "VERDICT_MAX_ERROR_RATE=0.9"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 7, result.stderr  # the file holds no news archive page: a listing unread
    assert "Traceback" not in result.stderr
    peak_kb = int(next(line for line in result.stderr.splitlines() if line.startswith("PEAK_RSS_KB")).split()[1])
    assert peak_kb < 150 * 1024  # about 95 MB; inflated whole, the 64 MB body alone would pass it
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 1024 * 1024  # nor inflated here
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT title FROM records").fetchall() == [("Good item",)]
        reasons = [r for (r,) in conn.execute("SELECT reason FROM failures WHERE kind = 'item'")]
    assert reasons == ["capture larger than DOWNLOAD_MAXSIZE (4,000,000 bytes), not read"]


def test_reparse_of_a_file_that_is_not_a_warc_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from portalscraper.cli import main

    junk = tmp_path / "junk.warc.gz"
    junk.write_bytes(b"GIF89a" + bytes(range(256)) * 40)
    capsys.readouterr()
    assert main(["reparse", "--warc", str(junk), "--db", str(tmp_path / "x.sqlite")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"Error: {junk} is not a readable WARC file (ArchiveLoadFailed)"]


def test_http_cache_hits_are_not_captured_again(replica: Replica, tmp_path: Path) -> None:
    """With Scrapy's HTTP cache on, a page served from the cache is no new capture: the second
    crawl's WARC file holds no response record, and its records point at the first crawl's."""
    options = ["crawl", "nato", "--base-url", replica.base_url, "--db", str(tmp_path / "a.sqlite"), "--jsonl", "",
               "--max-items", "20", "--full", "--warc", str(tmp_path / "warc"), "-q", "-s", "HTTPCACHE_ENABLED=true",
               "-s", f"HTTPCACHE_DIR={tmp_path / 'cache'}"]
    run_cli(*options, cwd=tmp_path)
    first = sorted((tmp_path / "warc").glob("*.warc.gz"))
    run_cli(*options, cwd=tmp_path)
    second = [p for p in sorted((tmp_path / "warc").glob("*.warc.gz")) if p not in first]
    assert len(first) == len(second) == 1

    def kinds(path: Path) -> list[str]:
        with path.open("rb") as stream:
            return [record.rec_type for record in ArchiveIterator(stream)]

    assert kinds(first[0]).count("response") > 20
    assert kinds(second[0]) == ["warcinfo"]
    assert {name for (name,) in rows(tmp_path / "a.sqlite", "SELECT DISTINCT warc_file FROM records")} == \
        {first[0].name}


def _stamped_warc(path: Path, written: str, crawl_id: int, started: str, mode: str, resumed: int) -> None:
    """A WARC file as a crawl's run writes it since files are stamped: a warcinfo record naming the
    crawl, and one capture."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        info = writer.create_warcinfo_record(path.name, {
            "spider": "nato", "portalscraper-base_url": "http://127.0.0.1:9", "crawl-archive": "/srv/nato.sqlite",
            "crawl-id": str(crawl_id), "crawl-started": started, "crawl-resumed": str(resumed), "crawl-mode": mode,
            "crawl-incremental": "True"})
        info.rec_headers.replace_header("WARC-Date", written)
        writer.write_record(info)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/plain")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record("http://127.0.0.1:9/robots.txt", "response",
                                                      payload=io.BytesIO(b"User-agent: *\n"), http_headers=http,
                                                      warc_headers_dict={"WARC-Date": written}))


def test_files_are_grouped_by_the_crawl_that_wrote_them_in_the_order_the_crawls_ran(tmp_path: Path) -> None:
    """Two runs of the same command are two crawls; a killed run and its resumption are one (its
    mode and resumes the last run's), whatever order the files are given in."""
    from portalscraper.webarchive.warcfiles import crawls_of

    files = {
        "second-resumed.warc.gz": ("2012-09-02T05:00:00Z", 2, "2012-09-02T03:00:00+00:00", "full+resume", 1),
        "first.warc.gz": ("2012-09-01T03:00:00Z", 1, "2012-09-01T03:00:00+00:00", "full", 0),
        "second.warc.gz": ("2012-09-02T03:00:00Z", 2, "2012-09-02T03:00:00+00:00", "incremental", 0),
    }
    for name, stamp in files.items():
        _stamped_warc(tmp_path / name, *stamp)
    crawls = crawls_of(tmp_path / name for name in files)
    assert [[f.path.name for f in c.files] for c in crawls] == [["first.warc.gz"],
                                                                ["second.warc.gz", "second-resumed.warc.gz"]]
    assert [c.replay() for c in crawls] == [
        {"crawl_id": 1, "started_at": "2012-09-01T03:00:00+00:00", "mode": "full", "resumed": 0,
         "finished_at": "2012-09-01T03:00:00Z"},
        {"crawl_id": 2, "started_at": "2012-09-02T03:00:00+00:00", "mode": "full+resume", "resumed": 1,
         "finished_at": "2012-09-02T05:00:00Z"}]
    assert [c.args for c in crawls] == [{"base_url": "http://127.0.0.1:9"}] * 2


def _exchanges(count: int) -> list[Any]:
    """Responses as the recorder hands them over: item pages of a few kilobytes, gzipped by the
    server (as received) or not, and a 304 of one of them."""
    import datetime as dt
    import gzip

    from portalscraper.webarchive.warcwriter import Exchange

    found = []
    for n in range(count):
        body = f"<html><body><h1>Item {n}</h1><p>{'Text of the item. ' * (20 + n % 50)}</p></body></html>".encode()
        encoded = n % 3 != 0
        headers = [(b"Content-Type", b"text/html; charset=utf-8"),
                   *([(b"Content-Encoding", b"gzip")] if encoded else [])]
        body = gzip.compress(body, 6) if encoded else body
        status = 304 if n % 17 == 16 else 200
        body = b"" if status == 304 else body
        found.append(Exchange(
            target=f"http://127.0.0.1:9/cps/en/natolive/news_{n}.htm",
            when=dt.datetime(2012, 9, 13, tzinfo=dt.UTC).timestamp(),
            protocol="HTTP/1.1", status=status, headers=[*headers, (b"Content-Length", str(len(body)).encode())],
            body=body, ip_address="127.0.0.1", method="GET",
            request_headers=[(b"Accept-Encoding", b"gzip, deflate")], request_body=b""))
    return found


@pytest.mark.slow
def test_the_writer_process_writes_batches_each_offset_its_own_response_record(tmp_path: Path) -> None:
    """Exchanges handed over faster than a small queue of the writer process takes them: the crawl
    waits (and counts it), every offset is its own response record's (each a gzip member that reads
    alone), followed by its request, and the file reads whole. A SIGINT (a terminal's Ctrl-C, sent
    to the crawl's whole process group) does not stop the writer: the crawl closes it when done."""
    import signal
    import zlib

    from portalscraper.webarchive.warc import WriterProcess

    path = tmp_path / "w.warc.gz"
    exchanges = _exchanges(120)
    writer = WriterProcess(path, 1, queue_size=8)
    offsets = [writer.submit(exchange) for exchange in exchanges[:60]]
    writer.process.send_signal(signal.SIGINT)
    # It yields a core to the crawl and to a server beside it (its niceness, once it has read a batch).
    assert os.getpriority(os.PRIO_PROCESS, writer.process.pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)
    offsets += [writer.submit(exchange) for exchange in exchanges[60:]]
    writer.close()
    assert writer.full_waits > 0
    assert writer.process.returncode == 0
    # Its own peak memory, read before it ended: a small process, not the one that started it.
    assert writer.peak_rss_kb is not None and 4_000 < writer.peak_rss_kb < 60_000
    assert all(offset.done() for offset in offsets)
    data = path.read_bytes()
    with path.open("rb") as stream:  # what `warcio check` reads: every record, its digests checked
        records = []
        for record in ArchiveIterator(stream, check_digests=True):
            record.content_stream().read()
            records.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI"),
                            record.digest_checker.passed))
    assert records == [(kind, exchange.target, None if kind == "revisit" else True) for exchange in exchanges
                       for kind in ("revisit" if exchange.status == 304 else "response", "request")]
    for exchange, offset in zip(exchanges, offsets, strict=True):
        at = offset.result()
        record = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(data[at:])
        assert record.startswith(b"WARC/1.1\r\nWARC-Type: " + (b"revisit" if exchange.status == 304 else b"response"))
        assert f"WARC-Target-URI: {exchange.target}\r\n".encode() in record
        assert record.endswith(exchange.body + b"\r\n\r\n")


@pytest.mark.slow
def test_a_writer_that_cannot_write_fails_every_offset(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A full disk (/dev/full): said once, and every offset asked for, then or later, raises it."""
    from portalscraper.webarchive.warc import WriterProcess

    writer = WriterProcess(Path("/dev/full"), 1, queue_size=16)
    offsets = [writer.submit(exchange) for exchange in _exchanges(40)]
    writer.close()
    for offset in offsets:
        with pytest.raises(OSError, match="No space left on device"):
            offset.result(timeout=0)
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "Raw captures not written from here on: [Errno 28] No space left on device"]


@pytest.mark.slow
def test_a_writer_process_that_dies_fails_what_it_had_not_answered(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    """The writer process killed: what it had answered stays written, every offset not answered
    (then or later) raises, said once; closing does not wait for it."""
    import signal

    from portalscraper.webarchive.warc import WriterProcess

    exchanges = _exchanges(30)
    writer = WriterProcess(tmp_path / "w.warc.gz", 1, queue_size=4)
    written = [writer.submit(exchange) for exchange in exchanges[:10]]
    writer.process.send_signal(signal.SIGKILL)
    writer.process.wait()
    lost = [writer.submit(exchange) for exchange in exchanges[10:]]
    writer.close()
    assert all(offset.done() for offset in written + lost)
    assert [offset.exception() is None for offset in written].count(True) >= 6  # answered before the kill
    for offset in lost:
        with pytest.raises(RuntimeError, match="the WARC writer process ended"):
            offset.result(timeout=0)
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "Raw captures not written from here on: the WARC writer process ended (exit status -9)"]


@pytest.mark.slow
def test_a_writer_process_that_dies_between_batches_fails_what_comes_after_at_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The writer killed with every offset answered, its end read as the reactor reads it (a
    hang-up, nothing waiting): what is handed over afterwards fails at once, said once, and closing
    returns (a crawl waiting for those offsets would never end)."""
    import signal

    from portalscraper.webarchive.warc import WriterProcess

    exchanges = _exchanges(6)
    writer = WriterProcess(tmp_path / "w.warc.gz", 1, queue_size=2)
    written = [writer.submit(exchange) for exchange in exchanges[:4]]
    writer._send(wait=True)
    while not all(offset.done() for offset in written):
        writer._read(wait=True)
    writer.process.send_signal(signal.SIGKILL)
    writer.process.wait()
    writer._read(wait=False)  # the reactor's doRead on the pipe's hang-up
    later = [writer.submit(exchange) for exchange in exchanges[4:]]
    assert all(offset.done() for offset in later)
    writer.close()
    assert [offset.exception() for offset in written] == [None] * 4
    for offset in later:
        with pytest.raises(RuntimeError, match=r"the WARC writer process ended \(exit status -9\)"):
            offset.result(timeout=0)
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "Raw captures not written from here on: the WARC writer process ended (exit status -9)"]


def test_digests_and_record_ids_are_as_the_format_has_them() -> None:
    """SHA-1 digests in RFC 4648's base 32 (as base64.b32encode writes them), record ids random
    (version 4, RFC 4122's variant) UUIDs, never twice the same."""
    import base64
    import hashlib
    import uuid

    from portalscraper.webarchive.warcwriter import record_id, sha1_digest

    for data in (b"", b"\x00" * 20, b"\xff" * 4096, *(str(n).encode() * n for n in range(300))):
        assert sha1_digest(data) == b"sha1:" + base64.b32encode(hashlib.sha1(data).digest())
    ids = [record_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    for found in ids:
        assert found.startswith(b"<urn:uuid:") and found.endswith(b">")
        parsed = uuid.UUID(found[10:-1].decode())
        assert (parsed.version, parsed.variant, f"<urn:uuid:{parsed}>".encode()) == (4, uuid.RFC_4122, found)


def test_a_crawls_gzipped_file_is_read_through_as_warcio_reads_it(tmp_path: Path) -> None:
    """`_scan_members` (zlib, headers split by hand) finds what warcio finds in a file written as
    crawls write them (each record a gzip member: warcinfo, requests, 200s, a 304 response, a
    revisit), and leaves to warcio a file cut short, an uncompressed one, and a member of two records."""
    import gzip
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from portalscraper.webarchive import warcfiles

    def warcio_scan(path: Path) -> list[object]:
        fast, warcfiles._scan_members = warcfiles._scan_members, lambda path: None  # type: ignore[assignment]
        try:
            return list(warcfiles._scan(path))
        finally:
            warcfiles._scan_members = fast

    path = tmp_path / "nato.warc.gz"
    _old_warc(path, "2012-09-08", (304, b""))
    with path.open("ab") as stream:
        writer = WARCWriter(stream, gzip=True)
        url = "http://127.0.0.1:9/cps/en/natolive/news_2.htm"
        writer.write_record(writer.create_warc_record(url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")))
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(b"<p>x</p>" * 30_000),
                                                      http_headers=http))
        revisit = writer.create_revisit_record(url, "sha1:AAAA", url, "2012-09-01T00:00:00Z", http_headers=http)
        writer.write_record(revisit)
    found = warcfiles._scan_members(path)
    assert found is not None and found == warcio_scan(path)
    captures = [c for c in found if isinstance(c, warcfiles.Capture)]
    assert [(c.uri.rsplit("/", 1)[1], c.revisit) for c in captures] == [
        ("robots.txt", False), ("index.htm", False), ("news_1.htm", True), ("news_2.htm", False),
        ("news_2.htm", True)]
    assert isinstance(found[0], dict) and found[0]["spider"] == "nato"

    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(path.read_bytes()[:-40])
    plain = tmp_path / "plain.warc"
    plain.write_bytes(gzip.decompress(path.read_bytes()))
    two = tmp_path / "two.warc.gz"
    two.write_bytes(gzip.compress(plain.read_bytes()))
    assert [warcfiles._scan_members(p) for p in (cut, plain, two)] == [None, None, None]
    # Which warcio reads: the cut file's whole records, at least.
    uris = [getattr(c, "uri", None) for c in found]
    assert [getattr(c, "uri", None) for c in warcfiles._scan(cut)] in (uris, uris[:-1])
