"""The replica portal: a 2012-style www.nato.int served from data on 127.0.0.1."""

from portalscraper.replica.content import ChangeError, Item, Portal

__all__ = ["ChangeError", "Item", "Portal"]
