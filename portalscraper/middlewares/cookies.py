"""Scrapy's cookies without a download of the public-suffix list (OfflineCookiesMiddleware)."""

from __future__ import annotations

from scrapy.downloadermiddlewares import cookies as scrapy_cookies
from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from tldextract import TLDExtract


class OfflineCookiesMiddleware(CookiesMiddleware):
    """Scrapy's cookie handling, with the public-suffix list it needs read from the copy bundled
    with tldextract: Scrapy's own module-level extractor downloads the list from the internet the
    first time a site sets a cookie, and a crawl of a loopback portal must send nothing off the
    machine. (Scrapy offers no setting for it, hence the module attribute.)"""

    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        scrapy_cookies._split_domain = TLDExtract(suffix_list_urls=(), cache_dir=None,
                                                  include_psl_private_domains=True)
