"""Write requirements.lock: every dependency of the image (`.[postgres,redis]`) pinned to the version
pip resolves now, torch excepted (the Dockerfile takes it from the CPU wheel index first).

Run with `make lock` after changing the dependencies in pyproject.toml."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"
HEADER = """\
# The image's dependencies, pinned (Dockerfile: pip install --no-deps -r requirements.lock).
# torch is installed before these from the CPU wheel index. Regenerate after a change to the
# dependencies in pyproject.toml with `make lock`.
"""
NOT_PINNED = {"advisor", "torch"}


def resolved() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--dry-run",
                "--ignore-installed",
                "--quiet",
                "--report",
                str(report),
                ".[postgres,redis]",
                "torch==2.13.0",
            ],
            cwd=REPO,
            check=True,
        )
        installs = json.loads(report.read_text())["install"]
    # Names normalised as PyPI does (PEP 503): prometheus_client -> prometheus-client.
    return sorted(
        (re.sub(r"[-_.]+", "-", i["metadata"]["name"]).lower(), i["metadata"]["version"]) for i in installs
    )


def main() -> None:
    pins = [f"{name}=={version}" for name, version in resolved() if name not in NOT_PINNED]
    LOCK.write_text(HEADER + "\n" + "\n".join(pins) + "\n")
    print(f"{LOCK.name}: {len(pins)} pinned")


if __name__ == "__main__":
    main()
