"""`python -m portalscraper.replica`: the same as `portalscraper replica`."""

import sys

from portalscraper.replica.command import main

sys.exit(main(sys.argv[1:]))
