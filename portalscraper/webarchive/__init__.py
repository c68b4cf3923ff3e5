"""Web archives: Wayback CDX and replay URLs (wayback), WARC files written and replayed (warc), and
WARC files read back (warcfiles)."""
