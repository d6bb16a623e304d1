"""/healthz, /readyz and /metrics: liveness, readiness after warm-up, counters that move."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from advisor.app import create_app
from advisor.components.embedder import Vector
from advisor.container import Container
from advisor.settings import Settings
from tests.api.helpers import (
    ABSTAIN_ON_UNKNOWN_NAMES,
    CHURN_QUESTION,
    UNKNOWN_NAME_QUESTION,
    assert_json_error,
    metric,
)
from tests.fakes.embedding import HashingEmbedder
from tests.plugins.advisor_app import free_port, serve_app
from tests.plugins.fast import FastContainer, FastIndex, FastServer


class SlowLoadingEmbedder:
    """The hashing embedder behind a model load that lasts until the test calls ``finish_loading``:
    what /readyz sees while the warm-up is still loading the real model."""

    def __init__(self, embedder: HashingEmbedder) -> None:
        self._embedder = embedder
        self._released = threading.Event()
        self._loaded = False

    @property
    def model_name(self) -> str:
        return self._embedder.model_name

    @property
    def dimension(self) -> int:
        return self._embedder.dimension

    @property
    def loaded(self) -> bool:
        return self._loaded

    def finish_loading(self) -> None:
        self._released.set()

    def load(self) -> None:
        if not self._released.wait(timeout=60):
            raise TimeoutError("the test never let the model finish loading")
        self._loaded = True

    def embed_documents(self, texts: Sequence[str], show_progress: bool = False) -> Vector:
        self.load()
        return self._embedder.embed_documents(texts, show_progress)

    def embed_query(self, text: str) -> Vector:
        self.load()
        return self._embedder.embed_query(text)


def _wait_ready(http: httpx.Client, timeout: float = 60.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        reply = http.get("/readyz")
        if reply.status_code == 200 or time.monotonic() > deadline:
            return reply
        assert_json_error(reply, 503, "not_ready")  # while loading, a proper JSON error
        time.sleep(0.05)


def test_healthz_is_ok(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        reply = http.get("/healthz")
        assert reply.status_code == 200
        assert reply.json() == {"status": "ok"}


def test_readyz_reaches_200_after_warm_up(
    fast_index: FastIndex, fast_settings: Callable[..., Settings]
) -> None:
    embedder = SlowLoadingEmbedder(fast_index.embedder)
    container = Container(fast_settings(), embedder=embedder, vectors=fast_index.vectors)
    try:
        with serve_app(create_app(container=container), free_port()) as server, server.client() as http:
            # While the warm-up is still loading the model: a JSON 503 naming what is missing.
            loading = http.get("/readyz")
            assert "model" in assert_json_error(loading, 503, "not_ready")
            assert loading.json()["checks"]["model"] is False
            assert http.get("/healthz").json() == {"status": "ok"}  # alive all the while

            embedder.finish_loading()
            reply = _wait_ready(http)
            assert reply.status_code == 200, reply.text
            assert reply.json() == {
                "status": "ready",
                "checks": {"model": True, "index": True, "database": True},
            }
    finally:
        embedder.finish_loading()  # never leave the warm-up waiting


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


def test_metrics_count_requests_abstentions_and_feedback(fast_server: FastServer) -> None:
    with fast_server(**ABSTAIN_ON_UNKNOWN_NAMES) as server, server.client() as http:
        before = http.get("/metrics")
        assert before.status_code == 200
        assert before.headers["content-type"].startswith("text/plain")

        answer = http.post("/v1/chat", json={"message": CHURN_QUESTION}).json()
        http.post("/v1/chat", json={"message": UNKNOWN_NAME_QUESTION})
        http.post("/v1/chat", json={"message": UNKNOWN_NAME_QUESTION})
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


def test_metrics_include_the_standard_process_series(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        text = http.get("/metrics").text
    for series in (
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "python_gc_objects_collected_total",
    ):
        assert f"\n{series}" in text, series


KEY = "health-test-key-0123456789abcdef"


def test_a_database_server_down_at_start_means_not_ready_never_a_crash_or_a_500(
    fast_index: FastIndex, fast_settings: Callable[..., Settings]
) -> None:
    """Nothing listens at the database's address (as when PostgreSQL starts after the replica):
    the service starts anyway, /readyz says why it is not ready, and a request gets a 503."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/advisor"
    settings = fast_settings(database={"url": url}, api={"keys": [KEY]})
    container = Container(settings, embedder=fast_index.embedder, vectors=fast_index.vectors)
    with serve_app(create_app(container=container), free_port()) as server, server.client() as http:
        deadline = time.monotonic() + 30
        while (ready := http.get("/readyz")).json()["checks"]["model"] is not True:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] is False
        assert "Connection refused" in ready.json()["reason"]
        searched = http.post(
            "/v1/search", json={"query": "drift"}, headers={"Authorization": f"Bearer {KEY}"}
        )
        assert "database does not answer" in assert_json_error(searched, 503, "not_ready")
        assert searched.headers["retry-after"] == "5"
        assert http.get("/healthz").status_code == 200
