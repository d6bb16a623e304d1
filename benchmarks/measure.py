"""Timing primitives: percentiles, sequential HTTP latency, SSE time to first token, bounded load."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
import numpy as np


def stats(samples: Sequence[float]) -> dict[str, float]:
    """Percentiles in milliseconds."""
    if not samples:
        return {"n": 0}
    ms = np.asarray(samples) * 1000.0
    return {
        "n": len(samples),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "mean_ms": round(float(ms.mean()), 2),
    }


def interleaved(
    calls: Mapping[str, Callable[[str], object]], queries: Sequence[str]
) -> dict[str, list[float]]:
    """Each query through every call in turn, so drift on a shared machine hits all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for query in queries:
        for name, call in calls.items():
            started = time.perf_counter()
            call(query)
            samples[name].append(time.perf_counter() - started)
    return samples


def post_json(client: httpx.Client, url: str, body: dict[str, Any]) -> None:
    response = client.post(url, json=body)
    if response.status_code != 200:
        raise RuntimeError(f"POST {url} -> {response.status_code}: {response.text[:200]}")


def stream_chat(client: httpx.Client, url: str, body: dict[str, Any]) -> tuple[float, float, dict[str, Any]]:
    """(time to the first delta event, total time, the `done` event's data) of a streamed chat."""
    started = time.perf_counter()
    first: float | None = None
    event = ""
    done: dict[str, Any] = {}
    with client.stream("POST", url, json={**body, "stream": True}) as response:
        if response.status_code != 200:
            raise RuntimeError(f"stream {url} -> {response.status_code}")
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "delta" and first is None:
                first = time.perf_counter() - started
            elif line.startswith("data:") and event == "done":
                done = json.loads(line[5:])
    total = time.perf_counter() - started
    if not done:
        raise RuntimeError(f"stream {url} ended without a done event")
    return (first if first is not None else total), total, done


def stream_openai(client: httpx.Client, base_url: str) -> tuple[float, float]:
    """(time to first token, total) of the LLM server alone, with the same client library stack."""
    body = {"model": "fixed", "stream": True, "messages": [{"role": "user", "content": "hello"}]}
    started = time.perf_counter()
    first: float | None = None
    with client.stream("POST", f"{base_url}/v1/chat/completions", json=body) as response:
        for line in response.iter_lines():
            if first is None and '"content"' in line:
                first = time.perf_counter() - started
    total = time.perf_counter() - started
    return (first if first is not None else total), total


async def _load(
    url: str, bodies: Sequence[dict[str, Any]], concurrency: int, timeout: float
) -> dict[str, Any]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter()
                try:
                    response = await client.post(url, json=body)
                    if response.status_code != 200:
                        errors.append(f"HTTP {response.status_code}")
                        continue
                except httpx.HTTPError as exc:
                    errors.append(type(exc).__name__)
                    continue
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "requests": len(bodies),
        "seconds": round(seconds, 3),
        "throughput_rps": round(len(latencies) / seconds, 2),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        **stats(latencies),
    }


def load(
    url: str, bodies: Sequence[dict[str, Any]], concurrency: int, timeout: float = 60.0
) -> dict[str, Any]:
    """A fixed number of requests through ``concurrency`` clients; throughput counts successes only."""
    return asyncio.run(_load(url, bodies, concurrency, timeout))
