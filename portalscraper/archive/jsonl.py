"""The JSON Lines archive, written as records stream: one record per line, UTF-8."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from portalscraper import settings as defaults
from portalscraper.archive.schema import ArchiveError


def dumps(row: Mapping[str, Any]) -> str:
    """One record as one line of JSON: UTF-8 text, not ASCII-escaped."""
    return json.dumps(dict(row), ensure_ascii=False, separators=(",", ":"))


class JsonLinesWriter:
    """Appends records to a JSON Lines file as they stream; written through at each flush."""

    def __init__(self, path: str | Path, batch_size: int = defaults.ARCHIVE_BATCH_SIZE) -> None:
        self.path = Path(path)
        self.batch_size = max(1, batch_size)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file: IO[str] = self.path.open("w", encoding="utf-8")
        except OSError as exc:
            raise ArchiveError(f"cannot write the JSON Lines archive {self.path}: {exc.strerror}") from None
        self._pending: list[str] = []
        self.count = 0

    def write(self, row: Mapping[str, Any]) -> None:
        self._pending.append(dumps(row) + "\n")
        if len(self._pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._file.writelines(self._pending)
            self.count += len(self._pending)
            self._pending = []
        self._file.flush()

    def close(self) -> None:
        self.flush()
        self._file.close()
