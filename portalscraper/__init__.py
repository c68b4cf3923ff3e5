"""portalscraper: crawl institutional web portals into structured, queryable archives."""

__version__ = "0.1.0"
