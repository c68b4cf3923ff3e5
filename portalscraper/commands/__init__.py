"""Scrapy commands of the project (COMMANDS_MODULE): `scrapy crawl` with one-line argument errors
and the crawl's verdict as its exit status."""
