"""The replica portal in a child process, for the demo, the tests and the benchmarks."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator, Sequence


class ReplicaError(Exception):
    """The replica could not start or be configured; the message is one line."""


class ReplicaProcess:
    """The replica portal serving on 127.0.0.1 in a child process (`python -m portalscraper.replica`);
    `base_url` once it listens. `options` are the replica command's own (`--faults 0.1`, `--quirks`)."""

    def __init__(self, items: int = 200, *options: str, port: int = 0, cwd: str | None = None) -> None:
        command = [sys.executable, "-m", "portalscraper.replica", "--port", str(port), "--items", str(items),
                   *options]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=cwd)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the server announces its address once it listens
        if "listening on http://" not in line:
            self.stop()
            raise ReplicaError(f"the replica portal did not start: {line.strip() or 'no output'}")
        self.base_url = line.strip().rsplit(" ", 1)[-1]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@contextlib.contextmanager
def replica_process(items: int, port: int = 0, changes: str | None = None,
                    log_requests: str | None = None, options: Sequence[str] = ()) -> Iterator[str]:
    """Start the replica portal in a child process; yield its base URL; stop it afterwards.
    `options` are the replica command's own (`--news-sized-pages`)."""
    options = [*(["--changes", changes] if changes else []),
               *(["--log-requests", log_requests] if log_requests else []), *options]
    replica = ReplicaProcess(items, *options, port=port)
    try:
        yield replica.base_url
    finally:
        replica.stop()
