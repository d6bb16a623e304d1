"""Schemathesis over every operation of a real `advisor serve`, with every check, keyless and with a
key (issue 16, item 6): the OpenAPI document must describe what the service does.

Two generation settings, explained: no NUL characters and only UTF-8-encodable text. Advisor refuses
both on purpose (NUL breaks PostgreSQL text, a lone surrogate the tokenizer; the README's request
checks, tests/api/test_unusable_text.py), and JSON Schema has no way to say "a string without them"
that schemathesis would honour."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.served import advisor_serve

pytestmark = pytest.mark.slow

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
KEY = "schemathesis-bootstrap-key-0123456789"
EXAMPLES = 30  # per operation and phase: some 600 cases a run


def _run(url: str, workdir: Path, *headers: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--generation-deterministic",
        "--generation-allow-x00",
        "false",
        "--generation-codec",
        "utf-8",
        "--request-timeout",
        "60",
        *[arg for header in headers for arg in ("-H", header)],
    ]
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600)


def _summary(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stdout.splitlines() if "generated" in line or "API Operations" in line]
    return "; ".join(lines) or done.stdout[-300:]


@pytest.mark.parametrize("keys", [False, True], ids=["keyless", "with-a-key"])
def test_every_operation_behaves_as_documented(indexed_data_dir: Path, tmp_path: Path, keys: bool) -> None:
    env = {"ADVISOR_API__KEYS": f'["{KEY}"]'} if keys else {}
    with advisor_serve(indexed_data_dir, tmp_path, **env) as url:
        headers = (f"Authorization: Bearer {KEY}",) if keys else ()
        done = _run(url, tmp_path, *headers)
    print(_summary(done))
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Tested: 10" in done.stdout or "Tested:" in done.stdout
