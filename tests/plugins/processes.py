"""Waiting for a server process started by a test to answer over HTTP."""

from __future__ import annotations

import subprocess
import time

import httpx


def wait_for_http(
    process: subprocess.Popen[bytes], url: str, seconds: float, poll: float = 0.1
) -> str | None:
    """None once ``url`` answers 200; else why not (the process exited, or ``seconds`` passed)."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            return f"exited with code {process.returncode}"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return None
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            return f"did not answer {url} within {seconds:.0f} s"
        time.sleep(poll)
