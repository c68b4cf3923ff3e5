"""Fault modes of the replica: what a portal does on a bad night, per URL share, reproducibly.

A URL is faulty when a seeded hash of it falls under `rate`; the same hash picks its mode among
those switched on. Failing modes (HTTP errors, slowness, dropped or truncated responses,
redirect trouble, oversize) hit a faulty URL's first `attempts` requests and then let it
through, as a struggling server would; shape modes (malformed HTML, wrong charsets) are how
that page always is. Only item pages and news archive pages are ever faulty: the homepage,
robots.txt and the sitemaps stay well.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

FAILING = ("500", "503", "429", "slow", "drop", "truncate", "redirect-chain", "redirect-loop", "offsite", "large")
SHAPES = ("malformed", "charset-cp1252", "charset-meta")
MODES = FAILING + SHAPES


class FaultError(ValueError):
    """A fault specification that does not make sense."""


@dataclass
class Faults:
    rate: float = 0.0
    modes: tuple[str, ...] = MODES
    seed: int = 2012
    attempts: int = 1  # a failing URL fails this many times, then answers
    slow_seconds: float = 3.0
    large_bytes: int = 17 * 1024 * 1024
    _seen: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def parse(cls, spec: str, **options: float | int) -> Faults:
        """`0.1` (every mode) or `0.1:500,503,slow` (those modes only)."""
        rate_text, _, modes_text = spec.partition(":")
        try:
            rate = float(rate_text)
        except ValueError:
            raise FaultError(f"a fault rate is a number from 0 to 1, not {rate_text!r}") from None
        if not 0 <= rate <= 1:
            raise FaultError(f"a fault rate is a number from 0 to 1, not {rate}")
        modes = tuple(m.strip() for m in modes_text.split(",") if m.strip()) or MODES
        unknown = [m for m in modes if m not in MODES]
        if unknown:
            raise FaultError(f"unknown fault mode {unknown[0]!r}; known: {', '.join(MODES)}")
        return cls(rate, modes, **options)  # type: ignore[arg-type]

    def mode(self, key: str) -> str | None:
        """The fault this URL has, if any (whether it still bites: see `bites`)."""
        if not self.rate or not self.modes:
            return None
        digest = hashlib.sha1(f"{self.seed}:{key}".encode()).digest()
        if int.from_bytes(digest[:4], "big") / 2**32 >= self.rate:
            return None
        return self.modes[int.from_bytes(digest[4:8], "big") % len(self.modes)]

    def bites(self, key: str, mode: str) -> bool:
        """True while a failing mode still fails this URL (counting its requests); shapes always."""
        if mode in SHAPES:
            return True
        with self._lock:
            seen = self._seen.get(key, 0)
            self._seen[key] = seen + 1
        return seen < self.attempts


def malformed(html: str) -> str:
    """The same page as a careless template writes it: no closing p or div tags, a stray
    </html> and </body> in the middle, an unclosed comment-like fragment of markup."""
    out = html.replace("</p>", "").replace("</div>", "")
    return out.replace("</h1>", "</h1></body></html><b>", 1)
