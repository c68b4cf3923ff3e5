"""Spiders: navigation only (which pages, which links); extraction lives in portalscraper.extract."""
