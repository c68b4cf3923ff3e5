"""Downloader middlewares, one module each: retries that back off (retry), encodings repaired
(encoding), only the portal asked (origin, offsite), replayed redirects kept in the archive
(wayback), cookies offline (cookies), robots.txt as RFC 9309 reads it (robotstxt).

Enabled in settings.py (DOWNLOADER_MIDDLEWARES); each reads its settings in from_crawler.
"""
