"""`advisor serve` as a separate process over a copy of the indexed bundled corpus, for reliability
checks that must see what a deployment sees: its own thread pool, its own event loop, real sockets."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.plugins.advisor_app import KNOWLEDGE, free_port
from tests.plugins.processes import wait_for_http

ADVISOR = Path(sys.executable).with_name("advisor")


@contextmanager
def advisor_serve(indexed_data_dir: Path, workdir: Path, ready: str = "/readyz", **env: str) -> Iterator[str]:
    """Serve on a free loopback port until the block exits; yields the base URL once ``ready``
    answers 200 (/healthz for a database without an index). ``env`` adds ``ADVISOR_*`` settings.
    The process's output goes to ``workdir/serve.log``."""
    data_dir = workdir / "served-data"
    if not data_dir.exists():
        shutil.copytree(indexed_data_dir, data_dir)
    port = free_port()
    settings = {"ADVISOR_DATA_DIR": str(data_dir), "ADVISOR_KNOWLEDGE_DIR": str(KNOWLEDGE), **env}
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    log = (workdir / "serve.log").open("wb")
    process = subprocess.Popen(
        [str(ADVISOR), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**clean, "HF_HUB_OFFLINE": "1", **settings},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        problem = wait_for_http(process, f"{url}{ready}", 120, poll=0.2)
        if problem is not None:
            raise RuntimeError(f"advisor serve {problem}: {(workdir / 'serve.log').read_text()[-2000:]}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
