"""Query-time measurements: in-process (ASGI, no network) and over HTTP against `advisor serve`."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from benchmarks.fake_llm import FixedLatencyLLM
from benchmarks.ingest import index_settings
from benchmarks.inprocess import InProcessClient
from benchmarks.measure import interleaved, load, post_json, stats, stream_chat, stream_openai
from benchmarks.processes import AdvisorServer, BareEmbedWorker

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from benchmarks.recipe import RecipeIndex

COLD_STARTS = 3

# Every query is new to the server: the cache would otherwise hide the embedding cost.
NO_QUERY_CACHE = {"ADVISOR_EMBEDDING__QUERY_CACHE_SIZE": "0"}


def measure_inprocess(
    data_dir: Path, corpus: Path, model: SentenceTransformer, queries: list[str], recipe: RecipeIndex | None
) -> dict[str, Any]:
    from advisor.app import create_app

    settings = index_settings(data_dir, corpus, embedding={"query_cache_size": 0})
    app = create_app(settings)
    with InProcessClient(app) as client:
        _wait_ready(client)
        retriever = app.state.container.retriever
        calls: dict[str, Callable[[str], object]] = {
            "bare_embed": lambda q: model.encode([q], normalize_embeddings=True, convert_to_numpy=True),
            "retrieve": lambda q: retriever.retrieve_passages(q),
            "search": lambda q: _ok(client.post("/v1/search", json={"query": q})),
            "chat": lambda q: _ok(client.post("/v1/chat", json={"message": q})),
        }
        if recipe is not None:
            calls["recipe_similarity_search"] = lambda q: recipe.store.similarity_search(q, k=6)
        for query in queries[:3]:  # first calls pay one-off costs (allocations, SQL compilation)
            for call in calls.values():
                call(query)
        samples = interleaved(calls, queries)
    cached = _cached_search(data_dir, corpus, queries[0])
    return {name: stats(values) for name, values in samples.items()} | {"search_cached_query": cached}


def _cached_search(data_dir: Path, corpus: Path, query: str) -> dict[str, float]:
    """The same question asked again: the query embedding must come from the cache."""
    from advisor.app import create_app

    app = create_app(index_settings(data_dir, corpus))
    with InProcessClient(app) as client:
        _wait_ready(client)
        _ok(client.post("/v1/search", json={"query": query}))
        samples = []
        for _ in range(30):
            started = time.perf_counter()
            _ok(client.post("/v1/search", json={"query": query}))
            samples.append(time.perf_counter() - started)
    return stats(samples)


def _ok(response: Any) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.url} -> {response.status_code}: {response.text[:200]}")


def _wait_ready(client: Any, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/readyz").status_code != 200:
        if time.monotonic() > deadline:
            raise TimeoutError("in-process app never became ready")
        time.sleep(0.05)


def measure_server(
    data_dir: Path,
    corpus: Path,
    queries: list[str],
    *,
    logs: Path,
    server_cores: set[int],
    model_path: str,
    load_bodies: dict[int, list[str]] | None,
    stream_ttft: bool,
) -> dict[str, Any]:
    """One pinned server per size: cold start, sequential HTTP latency, optional load, peak RSS."""
    env = {**NO_QUERY_CACHE, "ADVISOR_KNOWLEDGE_DIR": str(corpus)}
    result: dict[str, Any] = {}
    log_path = logs / f"serve-{data_dir.name}.log"
    # Cold start, taken as the median of three starts, each beside a bare model load on the same
    # core: one start on a shared machine varied by a third from run to run.
    ready_runs: list[float] = []
    bare_runs: list[float] = []
    for _ in range(COLD_STARTS - 1):
        with BareEmbedWorker(server_cores, model_path) as probe:
            bare_runs.append(probe.load_seconds)
        with AdvisorServer(data_dir, log_path, env, server_cores) as starting:
            ready_runs.append(starting.wait_ready())
    with AdvisorServer(data_dir, log_path, env, server_cores) as server:
        ready_runs.append(server.wait_ready())
        # The physical limit on the server's own core: a fresh process's model load (the cold-start
        # reference), then each question embedded alone, interleaved with the server's requests.
        bare = BareEmbedWorker(server_cores, model_path)
        bare_runs.append(bare.load_seconds)
        result["ready_seconds"] = round(statistics.median(ready_runs), 3)
        result["bare_model_load_seconds"] = round(statistics.median(bare_runs), 3)
        result["ready_runs"] = [round(r, 3) for r in ready_runs]
        result["bare_model_load_runs"] = [round(r, 3) for r in bare_runs]
        result["bare_torch_threads"] = bare.torch_threads
        with bare, httpx.Client(base_url=server.url, timeout=60.0) as client:
            bare_seconds: list[float] = []
            calls: dict[str, Callable[[str], object]] = {
                "bare_embed": lambda q: bare_seconds.append(bare.embed(q)),
                "search": lambda q: post_json(client, "/v1/search", {"query": q}),
                "chat": lambda q: abstained.append(post_chat(client, q)["abstained"]),
            }
            abstained: list[bool] = []
            for query in queries[:3]:
                for call in calls.values():
                    call(query)
            del abstained[:], bare_seconds[:]
            samples = interleaved(calls, queries)
            samples["bare_embed"] = bare_seconds  # the worker's own time, without the pipe
            result.update({name: stats(values) for name, values in samples.items()})
            # A bare embed loop's throughput: one query after another, nothing else.
            result["bare_embed_rps"] = round(len(bare_seconds) / sum(bare_seconds), 2)
            result["chat_answered_share"] = round(1 - sum(abstained) / len(abstained), 3)
            if stream_ttft:
                # Questions the corpus answers: the LLM path is compared on these (an abstention
                # never reaches the model).
                streams = [(q, stream_chat(client, "/v1/chat", {"message": q})) for q in queries]
                grounded = [(q, s) for q, s in streams if not s[2]["abstained"]]
                result["chat_stream_first_delta"] = stats([s[0] for _, s in grounded])
                result["answered_queries"] = [q for q, _ in grounded]
        if load_bodies is not None:
            levels = []
            for concurrency, level_queries in load_bodies.items():
                bodies = [{"query": q} for q in level_queries]
                levels.append(load(f"{server.url}/v1/search", bodies, concurrency))
            result["load"] = levels
        result["peak_rss_mb"] = round(server.peak_rss() / 2**20, 1)
    return result


def post_chat(client: httpx.Client, message: str) -> dict[str, Any]:
    response = client.post("/v1/chat", json={"message": message})
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def measure_llm_path(
    data_dir: Path, corpus: Path, queries: list[str], *, logs: Path, server_cores: set[int]
) -> dict[str, Any]:
    """Streamed /v1/chat through a fixed-latency OpenAI-protocol server, and that server alone."""
    with FixedLatencyLLM() as llm:
        env = {
            **NO_QUERY_CACHE,
            "ADVISOR_KNOWLEDGE_DIR": str(corpus),
            "ADVISOR_LLM__PROVIDER": "openai",
            "ADVISOR_LLM__MODEL": "fixed-latency",
            "ADVISOR_LLM__BASE_URL": f"{llm.url}/v1",
        }
        with AdvisorServer(data_dir, logs / f"serve-llm-{data_dir.name}.log", env, server_cores) as server:
            server.wait_ready()
            with httpx.Client(base_url=server.url, timeout=60.0) as client:
                for query in queries[:3]:
                    stream_chat(client, "/v1/chat", {"message": query})
                runs = [stream_chat(client, "/v1/chat", {"message": q}) for q in queries]
            with httpx.Client(timeout=60.0) as direct:
                alone = [stream_openai(direct, llm.url) for _ in queries]
        return {
            "server_first_token_s": llm.first_token_seconds,
            "server_total_s": round(llm.total_seconds, 3),
            "advisor_first_delta": stats([r[0] for r in runs]),
            "advisor_total": stats([r[1] for r in runs]),
            "completed": sum(bool(r[2]) for r in runs),
            "fallbacks": sum(bool(r[2].get("fallback")) for r in runs),
            "server_alone_first_token": stats([a[0] for a in alone]),
            "server_alone_total": stats([a[1] for a in alone]),
        }
