"""The benchmark harness end to end at a tiny size: every measurement lands in the JSON.

No timing assertions (CI machines are noisy); this guards against the harness rotting.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Runs the whole harness in a subprocess with the real model: the full tier.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]

INGEST_KEYS = {
    "chunks",
    "bare_encode_chunks_per_s",
    "advisor_chunks_per_s",
    "advisor_vs_bare",
    "reingest_seconds",
    "reingest_vs_full",
    "recipe_seconds",
    "recipe_chunks",
}
INPROCESS_KEYS = {
    "bare_embed",
    "retrieve",
    "search",
    "chat",
    "recipe_similarity_search",
    "search_cached_query",
}
SERVER_KEYS = {
    "ready_seconds",
    "bare_model_load_seconds",
    "bare_embed",
    "bare_embed_rps",
    "search",
    "chat",
    "chat_stream_first_delta",
    "load",
    "peak_rss_mb",
}
LLM_KEYS = {"advisor_first_delta", "advisor_total", "server_alone_first_token", "server_alone_total"}


@pytest.mark.timeout(600)
def test_benchmark_harness_writes_every_measurement(tmp_path: Path) -> None:
    out = tmp_path / "results"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    env.update({"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)})
    command = [
        sys.executable,
        "-m",
        "benchmarks",
        "--sizes",
        "tiny",
        "--queries",
        "6",
        "--load-requests",
        "4",
    ]
    command += ["--data-dir", str(tmp_path / "data"), "--out", str(out)]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=580)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ingest throughput vs bare encode (warm)" in done.stdout  # the table was printed
    assert (out / "latest.md").is_file()

    result = json.loads((out / "latest.json").read_text())
    assert (out / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["cli"]["advisor_help_s"] > 0
    tiny = result["sizes"]["tiny"]
    assert 80 <= tiny["chunks"] <= 130
    assert set(tiny["ingest"]) >= INGEST_KEYS
    assert tiny["ingest"]["chunks"] == tiny["chunks"]
    assert set(tiny["inprocess"]) >= INPROCESS_KEYS
    assert all(tiny["inprocess"][k]["n"] > 0 for k in INPROCESS_KEYS)
    assert set(tiny["server"]) >= SERVER_KEYS
    assert [level["concurrency"] for level in tiny["server"]["load"]] == [1, 4, 16, 64]
    assert all(level["requests"] == 4 and "errors" in level for level in tiny["server"]["load"])
    assert tiny["server"]["peak_rss_mb"] > 0
    assert set(tiny["llm"]) >= LLM_KEYS
    assert tiny["llm"]["completed"] == tiny["llm"]["advisor_total"]["n"] > 0
    names = {t["name"] for t in result["targets"]}
    assert "ingest throughput vs bare encode (warm)" in names
    assert "LLM path overhead on first token" in names
    measured = [t for t in result["targets"] if t["met"] is not None]
    assert all(t["value"] is not None and t["target"] for t in measured)
