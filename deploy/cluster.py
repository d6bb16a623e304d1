"""A local Advisor cluster made of real processes on this machine: a `chroma run` server, the local
PostgreSQL and Redis (already running), two `advisor serve` replicas and HAProxy in front of them,
checking each replica's /readyz (deploy/haproxy.cfg, the same file docker-compose.yml uses).

`make cluster` runs it until Ctrl-C (`python -m deploy.cluster --help`); tests/cluster and the
cluster benchmark drive it from Python: kill a replica, stop Chroma, ingest while serving.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HAPROXY_CONFIG = REPO / "deploy" / "haproxy.cfg"
REPLICAS = ("replica1", "replica2")  # the servers deploy/haproxy.cfg declares


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _schema_url(base_url: str, schema: str) -> str:
    """``base_url`` with every connection's search_path set to ``schema`` (libpq ``options``)."""
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def _database_admin(base_url: str, statement: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


@dataclass
class ClusterPlan:
    """What the cluster is made of. ``schema`` is created in ``postgres_url``'s database; a
    throwaway cluster drops it when it stops."""

    workdir: Path
    postgres_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    redis_url: str = "redis://127.0.0.1:6379/0"
    schema: str = field(default_factory=lambda: f"advisor_cluster_{secrets.token_hex(4)}")
    api_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    knowledge: tuple[Path, ...] = (REPO / "knowledge",)
    lb_port: int = field(default_factory=free_port)
    throwaway: bool = True
    # Settings every replica (and the ingest) gets on top of the cluster's own, e.g. widget keys.
    extra_env: dict[str, str] = field(default_factory=dict)


class Managed:
    """One child process with its log file; start() again after a stop or a kill."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.command, self.env, self.log = name, command, env, log
        self.process: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        self._out = self.log.open("ab")
        self.process = subprocess.Popen(
            self.command, env=self.env, stdout=self._out, stderr=subprocess.STDOUT, cwd=REPO
        )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.alive:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._out is not None:
            self._out.close()

    def tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def wait_until(check: Callable[[], bool], seconds: float, what: str, poll: float = 0.2) -> float:
    """Seconds until ``check()`` held; TimeoutError naming ``what`` after ``seconds``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > seconds:
            raise TimeoutError(f"{what}: not within {seconds:.0f} s")
        time.sleep(poll)
    return time.monotonic() - started


def answers(url: str, status: int = 200) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == status
    except httpx.HTTPError:
        return False


class LocalCluster:
    def __init__(self, plan: ClusterPlan) -> None:
        self.plan = plan
        plan.workdir.mkdir(parents=True, exist_ok=True)
        self.url = f"http://127.0.0.1:{plan.lb_port}"
        self.database_url = _schema_url(plan.postgres_url, plan.schema)
        self.chroma_port = free_port()
        self.admin_socket = plan.workdir / "haproxy.sock"
        self.chroma = Managed(
            "chroma",
            [
                str(BIN / "chroma"),
                "run",
                "--path",
                str(plan.workdir / "chroma"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.chroma_port),
            ],
            self._base_env(),
            plan.workdir / "chroma.log",
        )
        self.replicas = [self._replica(i) for i in range(len(REPLICAS))]
        self.balancer = Managed(
            "haproxy",
            [shutil.which("haproxy") or "haproxy", "-db", "-f", str(HAPROXY_CONFIG)],
            {
                **os.environ,
                "ADVISOR_LB_BIND": f"127.0.0.1:{plan.lb_port}",
                "ADVISOR_LB_ADMIN": str(self.admin_socket),
                **{f"ADVISOR_REPLICA_{i + 1}": f"127.0.0.1:{r.port}" for i, r in enumerate(self.replicas)},
            },
            plan.workdir / "haproxy.log",
        )

    # -- the pieces --------------------------------------------------------------------------------

    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
        return {**env, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}

    def advisor_env(self, data_dir: Path, **overrides: str) -> dict[str, str]:
        """The settings every replica and the ingest share: the Chroma server, PostgreSQL, Redis."""
        return {
            **self._base_env(),
            # One core's worth of threads per replica: two replicas on two cores do not fight.
            "OMP_NUM_THREADS": "1",
            "ADVISOR_DATA_DIR": str(data_dir),
            "ADVISOR_API__KEYS": f'["{self.plan.api_key}"]',
            "ADVISOR_CHROMA__MODE": "http",
            "ADVISOR_CHROMA__HOST": "127.0.0.1",
            "ADVISOR_CHROMA__PORT": str(self.chroma_port),
            "ADVISOR_DATABASE__URL": self.database_url,
            "ADVISOR_WIDGET__RATE_LIMIT_STORAGE": self.plan.redis_url,
            **self.plan.extra_env,
            **overrides,
        }

    def _replica(self, index: int, **overrides: str) -> ReplicaProcess:
        name = REPLICAS[index] if index < len(REPLICAS) else f"extra{index}"
        data_dir = self.plan.workdir / name
        return ReplicaProcess(name, free_port(), self.advisor_env(data_dir, **overrides), self.plan.workdir)

    def extra_replica(self, **overrides: str) -> ReplicaProcess:
        """A replica outside the balancer (e.g. started with a setting pointing somewhere else)."""
        return self._replica(len(REPLICAS) + 1, **overrides)

    def start_chroma(self) -> None:
        self.chroma.start()
        heartbeat = f"http://127.0.0.1:{self.chroma_port}/api/v2/heartbeat"
        try:
            wait_until(lambda: answers(heartbeat) or not self.chroma.alive, 60, "chroma run")
        except TimeoutError:
            raise RuntimeError(f"chroma run did not answer: {self.chroma.tail()}") from None
        if not self.chroma.alive:
            raise RuntimeError(f"chroma run exited: {self.chroma.tail()}")

    def ingest(self, *folders: Path) -> subprocess.CompletedProcess[str]:
        """`advisor ingest` from its own place (data dir), as an operator would run it."""
        sources = [str(f) for f in (folders or self.plan.knowledge)]
        return subprocess.run(
            [str(BIN / "advisor"), "ingest", *sources],
            env=self.advisor_env(self.plan.workdir / "ingest"),
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=600,
        )

    def admin(self, command: str) -> str:
        """One HAProxy admin-socket command ("show stat", "disable server replicas/replica2")."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.admin_socket))
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def servers(self) -> dict[str, dict[str, str]]:
        """The balancer's view of each replica: status (UP, DOWN, MAINT...), scur (requests in
        flight), stot (requests sent), check_desc."""
        lines = self.admin("show stat").lstrip("# ").splitlines()
        header = lines[0].split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
        return {r["svname"]: r for r in rows if r.get("pxname") == "replicas" and r["svname"] in REPLICAS}

    def up_replicas(self) -> list[str]:
        return [name for name, row in self.servers().items() if row["status"] == "UP"]

    # -- the whole -------------------------------------------------------------------------------

    def start(self) -> None:
        _database_admin(self.plan.postgres_url, f'CREATE SCHEMA IF NOT EXISTS "{self.plan.schema}"')
        self.start_chroma()
        done = self.ingest()
        if done.returncode != 0:
            raise RuntimeError(f"advisor ingest failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
        for replica in self.replicas:
            replica.start()
        for replica in self.replicas:
            replica.wait_ready(300)
        self.admin_socket.unlink(missing_ok=True)  # a stale one from an earlier run answers nothing
        self.balancer.start()
        wait_until(lambda: self.admin_socket.exists(), 30, "haproxy admin socket")
        wait_until(lambda: len(self.up_replicas()) == len(REPLICAS), 30, "both replicas UP in haproxy")

    def stop(self) -> None:
        for part in (self.balancer, *self.replicas, self.chroma):
            part.stop()
        if self.plan.throwaway:
            _database_admin(self.plan.postgres_url, f'DROP SCHEMA IF EXISTS "{self.plan.schema}" CASCADE')


class ReplicaProcess(Managed):
    def __init__(self, name: str, port: int, env: dict[str, str], workdir: Path) -> None:
        command = [str(BIN / "advisor"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        super().__init__(name, command, env, workdir / f"{name}.log")
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def readiness(self) -> tuple[int, dict[str, object]]:
        """/readyz's status code and body (0 and {} when the replica does not answer)."""
        try:
            got = httpx.get(f"{self.url}/readyz", timeout=5)
        except httpx.HTTPError:
            return 0, {}
        return got.status_code, got.json()

    def wait_ready(self, seconds: float) -> float:
        try:
            return wait_until(lambda: not self.alive or self.readiness()[0] == 200, seconds, self.name)
        finally:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited: {self.tail()}")


@contextmanager
def running(plan: ClusterPlan) -> Iterator[LocalCluster]:
    cluster = LocalCluster(plan)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.cluster",
        description="Run Advisor as a local cluster: chroma run, PostgreSQL, Redis, two replicas "
        "behind HAProxy. Stops everything on Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=8080, help="the balancer's port (default 8080)")
    parser.add_argument(
        "--workdir", type=Path, default=REPO / "data" / "cluster", help="logs and Chroma's files"
    )
    parser.add_argument(
        "--postgres", default=os.environ.get("ADVISOR_CLUSTER_POSTGRES_URL", ClusterPlan.postgres_url)
    )
    parser.add_argument("--redis", default=os.environ.get("ADVISOR_CLUSTER_REDIS_URL", ClusterPlan.redis_url))
    args = parser.parse_args(argv)
    if shutil.which("haproxy") is None:
        print("haproxy is not installed: apt-get install haproxy", file=sys.stderr)
        return 2
    key = os.environ.get("ADVISOR_CLUSTER_API_KEY") or secrets.token_urlsafe(24)
    plan = ClusterPlan(
        workdir=args.workdir,
        postgres_url=args.postgres,
        redis_url=args.redis,
        schema="advisor_cluster",
        api_key=key,
        lb_port=args.port,
        throwaway=False,
    )
    print(f"starting chroma run, ingesting, two replicas and haproxy (logs in {args.workdir})", flush=True)
    try:
        with running(plan) as cluster:
            print(f"Advisor on {cluster.url} (API key: {key})", flush=True)
            for replica in cluster.replicas:
                print(f"  {replica.name}: {replica.url}", flush=True)
            print(f"  chroma: http://127.0.0.1:{cluster.chroma_port}; PostgreSQL schema {plan.schema}")
            print("Ctrl-C stops everything", flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    except (RuntimeError, TimeoutError) as exc:
        print(f"cluster: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
