"""Runs every measurement for the chosen corpus sizes and returns one JSON-ready result."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.components.embedder import SentenceTransformerEmbedder
from advisor.settings import load_settings
from benchmarks.corpus import SIZES, generate_corpus, query_pool
from benchmarks.ingest import build_with_block_vectors, measure_ingest
from benchmarks.measure import stats
from benchmarks.processes import ADVISOR, cores
from benchmarks.serving import measure_inprocess, measure_llm_path, measure_server

LOAD_LEVELS = (1, 4, 16, 64)


@dataclass
class Plan:
    sizes: list[str]
    data_dir: Path
    seed: int = 7
    queries: int = 100
    load_requests: int = 200
    ingest_sizes: set[str] = field(default_factory=lambda: {"tiny", "1k"})
    log: Any = print
    on_size: Any = None

    @property
    def load_size(self) -> str:
        return "1k" if "1k" in self.sizes else self.sizes[0]


def help_seconds(runs: int = 7) -> dict[str, float]:
    """`advisor --help` wall time, beside an empty interpreter start (the floor)."""

    def wall(command: list[str]) -> float:
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        return time.perf_counter() - started

    wall([str(ADVISOR), "--help"])  # warm the file cache
    help_runs = sorted(wall([str(ADVISOR), "--help"]) for _ in range(runs))
    bare_runs = sorted(wall([sys.executable, "-c", "pass"]) for _ in range(runs))
    return {
        "advisor_help_s": round(help_runs[runs // 2], 3),
        "python_startup_s": round(bare_runs[runs // 2], 3),
    }


def run(plan: Plan) -> dict[str, Any]:
    server_cores, generator_cores = cores()
    os.sched_setaffinity(0, generator_cores)  # this process is the load generator
    import torch

    torch.set_num_threads(len(generator_cores))
    log = plan.log
    settings = load_settings()
    embedder = SentenceTransformerEmbedder(settings.embedding)
    model = embedder.load()
    work = plan.data_dir
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    needed = plan.queries + len(LOAD_LEVELS) * plan.load_requests
    pool = query_pool(plan.seed, needed)
    queries = pool[: plan.queries]
    rest = iter(pool[plan.queries :])
    load_bodies = {c: [next(rest) for _ in range(plan.load_requests)] for c in LOAD_LEVELS}

    result: dict[str, Any] = {
        "meta": {
            "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": "python -m benchmarks " + " ".join(sys.argv[1:]),
            "seed": plan.seed,
            "queries_per_size": plan.queries,
            "load_requests_per_level": plan.load_requests,
            "cpu_count": os.cpu_count(),
            "server_cores": sorted(server_cores),
            "generator_cores": sorted(generator_cores),
            "load_average_at_start": list(os.getloadavg()),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "model": embedder.model_name,
        },
        "sizes": {},
    }
    log("advisor --help ...")
    result["cli"] = help_seconds()
    for size in plan.sizes:
        corpus = generate_corpus(SIZES[size], plan.seed, work / "corpora" / f"{size}-seed{plan.seed}")
        log(f"[{size}] corpus: {corpus.documents} documents, {corpus.chunks} chunks")
        entry: dict[str, Any] = {"documents": corpus.documents, "chunks": corpus.chunks}
        data_dir = work / "indexes" / f"{size}-seed{plan.seed}"
        recipe = None
        if size in plan.ingest_sizes:
            log(f"[{size}] ingest: bare encode, Advisor full + re-ingest, bare encode, LangChain recipe ...")
            entry["ingest"], recipe = measure_ingest(corpus.path, data_dir, model, work / f"recipe-{size}")
        else:
            log(f"[{size}] building the index with cached block vectors ...")
            entry["index_build"] = build_with_block_vectors(
                corpus.path, data_dir, work / f"block-vectors-seed{plan.seed}"
            )
        log(f"[{size}] in-process latency ...")
        entry["inprocess"] = measure_inprocess(data_dir, corpus.path, model, queries, recipe)
        log(
            f"[{size}] server: cold start, HTTP latency"
            + (", load" if size == plan.load_size else "")
            + " ..."
        )
        entry["server"] = measure_server(
            data_dir,
            corpus.path,
            queries,
            logs=logs,
            server_cores=server_cores,
            model_path=settings.embedding.resolved_model_path(),
            load_bodies=load_bodies if size == plan.load_size else None,
            stream_ttft=size == plan.load_size,
        )
        if size == plan.load_size:
            log(f"[{size}] LLM path with a fixed-latency server ...")
            answered = entry["server"].pop("answered_queries")
            entry["llm"] = measure_llm_path(
                data_dir, corpus.path, answered, logs=logs, server_cores=server_cores
            )
        result["sizes"][size] = entry
        if plan.on_size is not None:
            plan.on_size(result)  # figures so far survive a later size failing
    result["meta"]["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    result["meta"]["load_average_at_end"] = list(os.getloadavg())
    return result


__all__ = ["LOAD_LEVELS", "Plan", "run", "stats"]
