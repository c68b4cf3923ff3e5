"""One crawl's life, in one direction: its arguments parsed once (args), what it may ask for (scope),
Scrapy run with the archive's session (runner), and the verdict judged once (verdict)."""
