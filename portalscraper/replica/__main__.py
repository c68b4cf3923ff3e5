"""`python -m portalscraper.replica`: the same as `portalscraper replica`."""

import sys

from portalscraper.cli import main

sys.exit(main(["replica", *sys.argv[1:]]))
