"""Deploy portalscraper to a Scrapyd server: build the project's egg and upload it (addversion.json).

    python deploy/scrapyd_deploy.py [--url http://127.0.0.1:6800] [--project portalscraper] [--version V]

The egg is built from a copy of the package in a temporary folder (nothing is written into the
working tree), with the project's package data (profiles, replica data, schema) and the
`scrapy` entry point Scrapyd reads the settings module from. The Scrapyd host needs the
runtime dependencies installed (`pip install -r requirements.txt scrapyd`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("portalscraper", "pyproject.toml", "README.md", "scrapy.cfg")


def build_egg(out_dir: Path) -> Path:
    """Build the egg with setuptools from the project's pyproject.toml; return its path."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in COPIED:
            path = ROOT / name
            if path.is_dir():
                shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(path, src / name)
        result = subprocess.run(
            [sys.executable, "-c", "from setuptools import setup; setup()", "bdist_egg", "--dist-dir", str(out_dir)],
            cwd=src, capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise SystemExit(f"Error: building the egg failed: {result.stderr.strip().splitlines()[-1:]}")
    eggs = sorted(out_dir.glob("portalscraper-*.egg"))
    if not eggs:
        raise SystemExit(f"Error: no egg was built in {out_dir}")
    return eggs[-1]


def upload(url: str, project: str, version: str, egg: Path) -> dict[str, object]:
    """POST the egg to Scrapyd's addversion.json as multipart/form-data."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in (("project", project), ("version", version)):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="egg"; filename="{egg.name}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n".encode() + egg.read_bytes() + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    request = urllib.request.Request(url.rstrip("/") + "/addversion.json", data=b"".join(parts), method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            answer: dict[str, object] = json.loads(response.read())
    except (urllib.error.URLError, OSError) as exc:
        raise SystemExit(f"Error: cannot reach Scrapyd at {url}: {exc}") from None
    if answer.get("status") != "ok":
        raise SystemExit(f"Error: Scrapyd refused the egg: {answer.get('message', answer)}")
    return answer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:6800", help="Scrapyd's address")
    parser.add_argument("--project", default="portalscraper")
    parser.add_argument("--version", default=str(int(time.time())), help="default: the current Unix time")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as out:
        egg = build_egg(Path(out))
        answer = upload(args.url, args.project, args.version, egg)
    print(f"Deployed {args.project} {args.version} to {args.url}: spiders {answer.get('spiders')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
