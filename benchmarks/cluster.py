"""`python -m benchmarks.cluster` (`make bench-cluster`): searches per second through HAProxy with two
replicas and with one (the other disabled on the balancer's admin socket), at 16 and 64 clients,
driven by wrk; and a per-process profile (CPU seconds per request of each replica, Chroma and the
balancer) from which the ratio on a machine with more cores is projected. Writes
benchmarks/results/cluster.json and prints a table (docs/performance.md explains it)."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from deploy.cluster import REPO, ClusterPlan, LocalCluster, running, wait_until

HERE = Path(__file__).resolve().parent


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children that are still running (psutil)."""
    import psutil

    total = 0.0
    try:
        root = psutil.Process(pid)
        family = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    for process in family:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def measure(cluster: LocalCluster, clients: int, seconds: int) -> dict[str, object]:
    """One wrk run through the balancer: searches/s, latency and CPU per request of each part."""
    parts = {r.name: r for r in cluster.replicas} | {"chroma": cluster.chroma, "haproxy": cluster.balancer}
    pids = {name: part.process.pid for name, part in parts.items() if part.process is not None}
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    started = time.monotonic()
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(REPO / "deploy" / "search.lua"),
            cluster.url,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "ADVISOR_KEY": cluster.plan.api_key},
        timeout=seconds + 60,
        check=True,
    ).stdout
    elapsed = time.monotonic() - started
    used = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    rate = _number(r"Requests/sec:\s+([\d.]+)", out)
    requests = rate * seconds
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "clients": clients,
        "searches_per_second": round(rate, 1),
        "p50_ms": _latency(out, "50%"),
        "p99_ms": _latency(out, "99%"),
        "failed": int(errors.group(1)) if errors else 0,
        "cores_used": {name: round(cpu / elapsed, 2) for name, cpu in used.items()},
        "cpu_ms_per_search": {name: round(cpu / requests * 1000, 2) for name, cpu in used.items()},
    }


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    if found is None:
        raise RuntimeError(f"wrk printed no {pattern!r}: {text[-1000:]}")
    return float(found.group(1))


def _latency(text: str, percentile: str) -> float:
    found = re.search(rf"{re.escape(percentile)}\s+([\d.]+)(us|ms|s)", text)
    if found is None:
        return float("nan")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
    return round(float(found.group(1)) * scale, 1)


def projection(one: dict[str, object], cores: int) -> float:
    """Two replicas over one on ``cores`` cores, if each replica is held to one core by its GIL (as
    measured: ~1.0 core in use with one replica) and Chroma's share grows with the traffic."""
    per = one["cpu_ms_per_search"]
    assert isinstance(per, dict)
    replica = float(per["replica1"]) / 1000
    shared = (float(per.get("chroma", 0.0)) + float(per.get("haproxy", 0.0))) / 1000
    capacity = cores - 0.25  # the load generator's share, as measured here

    def rate(replicas: int) -> float:
        return min(replicas / replica, capacity / (replica + shared))

    return round(rate(2) / rate(1), 2)


def run(seconds: int, workdir: Path) -> dict[str, object]:
    plan = ClusterPlan(
        workdir=workdir, postgres_url=os.environ.get("ADVISOR_CLUSTER_POSTGRES_URL", ClusterPlan.postgres_url)
    )
    levels = []
    with running(plan) as cluster:
        for clients in (16, 64):
            two = measure(cluster, clients, seconds)
            cluster.admin("disable server replicas/replica2")
            try:
                one = measure(cluster, clients, seconds)
            finally:
                cluster.admin("enable server replicas/replica2")
            wait_until(lambda: len(cluster.up_replicas()) == 2, 15, "replica2 back in rotation")
            ratio = float(two["searches_per_second"]) / float(one["searches_per_second"])  # type: ignore[arg-type]
            levels.append({"clients": clients, "two": two, "one": one, "ratio": round(ratio, 2)})
    one_at_16 = levels[0]["one"]
    assert isinstance(one_at_16, dict)
    return {
        "cores": len(os.sched_getaffinity(0)),
        "seconds_per_run": seconds,
        "levels": levels,
        "projected_ratio": {str(c): projection(one_at_16, c) for c in (2, 4, 8)},
    }


def table(result: dict[str, object]) -> str:
    lines = [
        f"cluster on {result['cores']} cores (wrk, POST /v1/search through HAProxy, {result['seconds_per_run']} s per run)",
        "clients | 2 replicas/s | 1 replica/s | ratio | p99 ms (2 / 1) | CPU ms per search, 1 replica",
    ]
    for level in result["levels"]:  # type: ignore[attr-defined]
        two, one = level["two"], level["one"]
        lines.append(
            f"{level['clients']:>7} | {two['searches_per_second']:>12} | {one['searches_per_second']:>11} | "
            f"x{level['ratio']:<4} | {two['p99_ms']} / {one['p99_ms']} | {one['cpu_ms_per_search']}"
        )
    lines.append(f"projected two-over-one ratio by cores: {result['projected_ratio']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cluster", description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    for tool in ("haproxy", "wrk"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed: make cluster-tools", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="advisor-bench-cluster-") as scratch:
        result = run(args.seconds, Path(scratch))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cluster.json").write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
