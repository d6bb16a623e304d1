"""The scale-out topology run end to end on this machine (deploy/cluster.py): `chroma run`, the local
PostgreSQL and Redis, two `advisor serve` replicas behind HAProxy checking /readyz. Each test prints
its figures. Tests that break a part (a killed replica, Chroma stopped) restore it before they end."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from benchmarks.cluster import measure
from deploy.cluster import BIN, REPO, ClusterPlan, LocalCluster, free_port, running, wait_until
from deploy.load import SearchLoad
from tests.cluster.relay import TcpRelay
from tests.plugins.databases import POSTGRES_URL_ENV

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ORIGIN = "https://intranet.example"
WIDGET_KEY = f"cluster-widget-{secrets.token_hex(8)}"  # its own Redis counters per run
PER_IP_LIMIT = 6


def _redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=2).ping())
    except Exception:
        return False


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    postgres = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not postgres:
        pytest.skip(f"set {POSTGRES_URL_ENV} to run the cluster")
    if shutil.which("haproxy") is None:
        pytest.skip("haproxy is not installed (make cluster-tools)")
    if not _redis_answers():
        pytest.skip("no Redis on 127.0.0.1:6379")
    widget = [{"name": "cluster", "key": WIDGET_KEY, "origins": [ORIGIN]}]
    plan = ClusterPlan(
        workdir=tmp_path_factory.mktemp("cluster"),
        postgres_url=postgres,
        extra_env={
            "ADVISOR_WIDGET__KEYS": json.dumps(widget),
            "ADVISOR_WIDGET__RATE_LIMIT_PER_IP": f"{PER_IP_LIMIT}/minute",
        },
    )
    with running(plan) as started:
        yield started


def _auth(cluster: LocalCluster) -> dict[str, str]:
    return {"Authorization": f"Bearer {cluster.plan.api_key}"}


def test_two_replicas_serve_more_than_one(cluster: LocalCluster) -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (make cluster-tools)")
    ratios = {}
    for clients in (16, 64):
        two = measure(cluster, clients, 4)
        cluster.admin("disable server replicas/replica2")
        try:
            one = measure(cluster, clients, 4)
        finally:
            cluster.admin("enable server replicas/replica2")
        wait_until(lambda: len(cluster.up_replicas()) == 2, 10, "replica2 back")
        assert two["failed"] == one["failed"] == 0
        rate_two, rate_one = float(two["searches_per_second"]), float(one["searches_per_second"])  # type: ignore[arg-type]
        ratios[clients] = rate_two / rate_one
        print(
            f"\n{clients} clients: two replicas {rate_two:.1f} searches/s, one {rate_one:.1f}: x{ratios[clients]:.2f}"
        )
        print(f"  CPU ms per search, one replica: {one['cpu_ms_per_search']}")
    served = {name: int(row["stot"]) for name, row in cluster.servers().items()}
    print(f"requests per replica: {served}")
    assert min(served.values()) > 100
    # On two cores the replicas, Chroma and the load generator share the machine (docs/performance.md).
    assert ratios[64] > 1.1, ratios


def test_rate_limits_hold_across_replicas(cluster: LocalCluster) -> None:
    """Per-IP widget limits are counted in Redis: the balancer spreads the requests over both
    replicas, and together they admit exactly the limit."""
    headers = {"Authorization": f"Bearer {WIDGET_KEY}", "Origin": ORIGIN}
    got = []
    with httpx.Client(base_url=cluster.url, timeout=60) as client:
        for i in range(PER_IP_LIMIT * 2):
            reply = client.post(
                "/v1/chat", json={"message": f"how do we get buy-in from sales? ({i})"}, headers=headers
            )
            got.append((reply.status_code, reply.headers.get("x-served-by")))
    print(f"\nwidget chat over the balancer: {Counter(got)}")
    assert [s for s, _ in got].count(200) == PER_IP_LIMIT
    assert [s for s, _ in got].count(429) == PER_IP_LIMIT
    assert {by for s, by in got if s == 200} == {"replica1", "replica2"}


def _keys(cluster: LocalCluster, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "advisor"), "keys", *args],
        env=cluster.advisor_env(cluster.plan.workdir / "ingest"),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_a_revoked_key_fails_on_every_replica(cluster: LocalCluster) -> None:
    issued = json.loads(_keys(cluster, "create", "--scope", "search", "--name", "portal", "--json"))
    body = {"query": "who owns the model after launch?"}
    headers = {"Authorization": f"Bearer {issued['key']}"}
    assert all(
        httpx.post(f"{r.url}/v1/search", json=body, headers=headers, timeout=30).status_code == 200
        for r in cluster.replicas
    )
    _keys(cluster, "revoke", issued["id"])
    after = [
        httpx.post(f"{r.url}/v1/search", json=body, headers=headers, timeout=30) for r in cluster.replicas
    ]
    print(f"\nafter revoking: {[(r.status_code, r.json()['reason']) for r in after]}")
    assert [r.status_code for r in after] == [401, 401]


def test_killing_a_replica_under_load(cluster: LocalCluster) -> None:
    victim, clients = cluster.replicas[1], 16
    try:
        with SearchLoad(cluster.url, cluster.plan.api_key, clients=clients) as load:
            time.sleep(3)
            in_flight = int(cluster.servers()[victim.name]["scur"])
            killed_at = load.elapsed()
            victim.kill(signal.SIGKILL)
            down = wait_until(lambda: victim.name not in cluster.up_replicas(), 15, "haproxy marks it down")
            time.sleep(2)
            outcomes = load.stop()
        failed = [o for o in outcomes if o.status != 200]
        after = [o for o in outcomes if o.at > killed_at]
        late = [o for o in failed if o.at > killed_at + down + 0.5]
        print(
            f"\nkill -9 with {in_flight} requests in flight on {victim.name} (by HAProxy's count just before): "
            f"{len(failed)} of {len(outcomes)} failed ({Counter(o.status for o in failed)}); marked down after "
            f"{down:.1f} s; {len(after)} requests after the kill"
        )
        # Only requests already sent to the killed replica fail (HAProxy never replays one that reached
        # a replica, and sends again one that could not connect): each client has at most one
        # outstanding, and none was sent after the balancer took the replica out.
        assert len(failed) <= clients
        assert late == [], late
        assert len([o for o in after if o.status == 200]) > 50
    finally:
        if not victim.alive:
            victim.start()
    rejoined = wait_until(lambda: victim.name in cluster.up_replicas(), 120, "replica rejoins")
    print(f"restarted: back in rotation after {rejoined:.1f} s")
    assert httpx.get(f"{cluster.url}/readyz", timeout=10).status_code == 200


def test_an_ingest_switches_every_replica_without_a_failed_request(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "cold-chain-sensors.md").write_text(
        "---\nid: cold-chain-sensors\ntitle: Cold-chain sensor models\ntopics: [monitoring]\n"
        "summary: Watching the temperature models of refrigerated trucks.\nupdated: 2026-12-04\n---\n\n"
        "Refrigerated trucks report temperatures every minute; a model flags zorblat excursions.\n\n"
        "## First steps\n1. **Name the zorblat threshold.** Agree the temperature band with quality.\n"
    )
    word = {"query": "zorblat excursions in refrigerated trucks", "k": 3}

    def has_new_doc(url: str) -> bool:
        reply = httpx.post(f"{url}/v1/search", json=word, headers=_auth(cluster), timeout=30)
        return any(p["doc_id"] == "cold-chain-sensors" for p in reply.json()["results"])

    assert not any(has_new_doc(r.url) for r in cluster.replicas)
    with SearchLoad(cluster.url, cluster.plan.api_key, clients=8) as load:
        started = time.monotonic()
        done = cluster.ingest(REPO / "knowledge", extra)
        ingest_seconds = time.monotonic() - started
        assert done.returncode == 0, done.stderr
        switched = [
            wait_until(lambda u=r.url: has_new_doc(u), 30, f"{r.name} switches") for r in cluster.replicas
        ]
        time.sleep(1)
        outcomes = load.stop()
    failed = [o for o in outcomes if o.status != 200]
    print(
        f"\ningest took {ingest_seconds:.1f} s under load; replicas found the new document "
        f"{', '.join(f'{s:.1f}' for s in switched)} s after it finished; {len(failed)} of {len(outcomes)} "
        "searches failed"
    )
    assert failed == []
    assert max(switched) <= 5.0  # the replicas look at the index pointer every 2 s


def test_a_replica_waits_for_its_database(cluster: LocalCluster) -> None:
    relay = TcpRelay(free_port(), ("127.0.0.1", 5432))
    moved = re.sub(r"@127\.0\.0\.1:5432/", f"@127.0.0.1:{relay.port}/", cluster.database_url)
    assert moved != cluster.database_url
    replica = cluster.extra_replica(ADVISOR_DATABASE__URL=moved)
    replica.start()
    try:
        # Past the model's load, /readyz names what is missing.
        wait_until(lambda: replica.readiness()[1].get("checks", {}).get("model") is True, 120, "model loaded")
        status, body = replica.readiness()
        print(f"\ndatabase down: /readyz {status} {body['reason']!r} {body['checks']}")
        assert body["checks"]["database"] is False and body["reason"]
        asked = httpx.post(
            f"{replica.url}/v1/search", json={"query": "drift"}, headers=_auth(cluster), timeout=30
        )
        print(f"a search sent to it directly: {asked.status_code} {asked.json()['reason']!r}")
        assert asked.status_code == 503
        relay.open()
        took = replica.wait_ready(60)
        print(f"database back: ready after {took:.1f} s")
    finally:
        replica.stop()
        relay.close()


def test_a_replica_waits_for_chroma(cluster: LocalCluster) -> None:
    cluster.chroma.stop()
    replica = cluster.extra_replica()
    replica.start()
    try:
        wait_until(lambda: replica.readiness()[0] == 503, 120, "not ready without Chroma")
        time.sleep(4)  # past its first attempt to load the index
        status, body = replica.readiness()
        print(f"\nchroma down: /readyz {status} {body['reason']!r} {body['checks']}")
        assert body["checks"]["index"] is False and body["reason"]
        cluster.start_chroma()
        took = replica.wait_ready(60)
        print(f"chroma back: ready after {took:.1f} s")
        reply = httpx.post(
            f"{replica.url}/v1/search", json={"query": "drift"}, headers=_auth(cluster), timeout=30
        )
        assert reply.status_code == 200
    finally:
        replica.stop()
    wait_until(lambda: len(cluster.up_replicas()) == 2, 30, "the cluster serves again")
