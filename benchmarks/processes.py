"""Separate processes the benchmark starts: `advisor serve` and a bare-embedding worker, both pinned
to one core when the machine has two, so the load generator (this process) has the other."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
ADVISOR = Path(sys.executable).parent / "advisor"


def cores() -> tuple[set[int], set[int]]:
    """(server cores, generator cores): one each when there are two or more, else shared."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) >= 2:
        return {available[0]}, {available[1]}
    return set(available), set(available)


def pinned(command: list[str], server_cores: set[int]) -> list[str]:
    if shutil.which("taskset") and len(os.sched_getaffinity(0)) >= 2:
        return ["taskset", "-c", ",".join(map(str, sorted(server_cores))), *command]
    return command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_bytes(pid: int) -> int:
    """Peak resident set size (VmHWM) of a live process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def _base_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"})
    env.update(extra)
    return env


class AdvisorServer:
    """`advisor serve` over a data directory; the time from spawn to a 200 from /readyz is its cold start."""

    def __init__(self, data_dir: Path, log_path: Path, env: dict[str, str], server_cores: set[int]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = _base_env({"ADVISOR_DATA_DIR": str(data_dir), **env})
        command = [str(ADVISOR), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self._log = log_path.open("w")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            pinned(command, server_cores), env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO
        )
        self.ready_seconds: float | None = None

    def wait_ready(self, timeout: float = 600.0) -> float:
        deadline = self.started + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.perf_counter() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"advisor serve exited with {self.process.returncode}; see {self._log.name}"
                    )
                try:
                    if client.get(f"{self.url}/readyz").status_code == 200:
                        self.ready_seconds = time.perf_counter() - self.started
                        return self.ready_seconds
                except httpx.TransportError:
                    pass
                # Every probe costs the loading server a request on its one core: ask ten times a
                # second (an orchestrator asks every few seconds), which bounds the error to 0.1 s.
                time.sleep(0.1)
        raise TimeoutError(f"advisor serve not ready after {timeout:.0f} s; see {self._log.name}")

    def peak_rss(self) -> int:
        return peak_rss_bytes(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log.close()

    def __enter__(self) -> AdvisorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class BareEmbedWorker:
    """A fresh process on the server's core: its model load time from spawn is the cold-start
    reference, then it embeds one query per call, interleaved with requests to the server."""

    def __init__(self, server_cores: set[int], model_path: str) -> None:
        command = [sys.executable, "-m", "benchmarks.bare_embed", model_path]
        started = time.perf_counter()
        self._process = subprocess.Popen(
            pinned(command, server_cores),
            env=_base_env({"PYTHONPATH": str(REPO)}),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._stdin, self._stdout = self._process.stdin, self._process.stdout
        self.torch_threads = int(json.loads(self._stdout.readline())["torch_threads"])
        self.load_seconds = time.perf_counter() - started

    def embed(self, query: str) -> float:
        """The seconds the worker spent embedding ``query`` alone."""
        self._stdin.write(json.dumps(query) + "\n")
        self._stdin.flush()
        return float(json.loads(self._stdout.readline()))

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait(timeout=15)

    def __enter__(self) -> BareEmbedWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
