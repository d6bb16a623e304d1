"""/healthz, /readyz and /metrics: liveness, readiness after warm-up, counters that move."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from advisor.app import create_app
from tests.api.helpers import CHURN_QUESTION, OFF_TOPIC_QUESTION, assert_json_error, metric
from tests.plugins.advisor_app import free_port, serve_app
from tests.plugins.fast import FastContainer


def _wait_ready(http: httpx.Client, timeout: float = 60.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        reply = http.get("/readyz")
        if reply.status_code == 200 or time.monotonic() > deadline:
            return reply
        assert_json_error(reply, 503, "not_ready")  # while loading, a proper JSON error
        time.sleep(0.05)


def test_healthz_is_ok(live_server: Any) -> None:
    with live_server() as server, server.client() as http:
        reply = http.get("/healthz")
        assert reply.status_code == 200
        assert reply.json() == {"status": "ok"}


def test_readyz_reaches_200_after_warm_up(live_server: Any) -> None:
    with live_server() as server, server.client() as http:
        reply = _wait_ready(http)
        assert reply.status_code == 200, reply.text
        assert reply.json() == {"status": "ready", "checks": {"model": True, "index": True, "database": True}}


def test_readyz_stays_503_without_an_index(fast_container: FastContainer, tmp_path: Path) -> None:
    empty = fast_container(fresh_vectors=True, data_dir=tmp_path / "empty")
    with serve_app(create_app(container=empty), free_port()) as server, server.client() as http:
        deadline = time.monotonic() + 60
        while not server.container.embedder.loaded and time.monotonic() < deadline:
            time.sleep(0.05)  # let the warm-up load the model, so only the index is missing
        reason = assert_json_error(http.get("/readyz"), 503, "not_ready")
        body = http.get("/readyz").json()
        assert body["checks"] == {"model": True, "index": False, "database": True}
        assert "index" in reason


def test_metrics_count_requests_abstentions_and_feedback(live_server: Any) -> None:
    with live_server() as server, server.client() as http:
        before = http.get("/metrics")
        assert before.status_code == 200
        assert before.headers["content-type"].startswith("text/plain")

        answer = http.post("/v1/chat", json={"message": CHURN_QUESTION}).json()
        http.post("/v1/chat", json={"message": OFF_TOPIC_QUESTION})
        http.post("/v1/chat", json={"message": OFF_TOPIC_QUESTION})
        http.post("/v1/feedback", json={"message_id": answer["message_id"], "rating": "up"})
        http.post("/v1/feedback", json={"message_id": answer["message_id"], "rating": "down"})
        http.post("/v1/feedback", json={"message_id": answer["message_id"], "rating": "down"})
        http.get(f"/v1/conversations/{answer['conversation_id']}")
        http.get("/v1/conversations/unknown-id")
        after = http.get("/metrics").text

        def moved(name: str, **labels: str) -> float:
            return metric(after, name, **labels) - metric(before.text, name, **labels)

        requests = "advisor_http_requests_total"
        assert moved(requests, method="POST", route="/v1/chat", status="200") == 3
        assert moved(requests, method="POST", route="/v1/feedback", status="201") == 3
        # Routes are labelled by template, never by the raw id.
        assert moved(requests, method="GET", route="/v1/conversations/{conversation_id}", status="200") == 1
        assert moved(requests, method="GET", route="/v1/conversations/{conversation_id}", status="404") == 1
        assert "unknown-id" not in after
        assert moved("advisor_abstentions_total", reason="out_of_scope") == 2
        assert moved("advisor_answers_total", composer="extractive") == 3
        assert moved("advisor_feedback_total", rating="up") == 1
        assert moved("advisor_feedback_total", rating="down") == 2
        assert moved("advisor_http_request_seconds_count", method="POST", route="/v1/chat") == 3
