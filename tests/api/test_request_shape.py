"""What the JSON API's bodies and probes promise: a field a body does not define is refused, `stream`
is a JSON boolean, and the health probes answer HEAD as load balancers send it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import CHURN_QUESTION, assert_json_error
from tests.plugins.fast import FastServer


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/chat", {"message": CHURN_QUESTION, "stream_mode": True}, "stream_mode"),
        ("/v1/search", {"query": "canary", "topic": "deployment"}, "topic"),
        ("/v1/feedback", {"message_id": "m1", "rating": "up", "score": 5}, "score"),
    ],
)
def test_a_field_the_api_does_not_define_is_refused_not_ignored(
    fast_server: FastServer, path: str, body: dict[str, Any], field: str
) -> None:
    with fast_server() as server, server.client() as http:
        reason = assert_json_error(http.post(path, json=body), 422, "invalid_request")
        assert reason.startswith(field) and "Extra inputs are not permitted" in reason, reason


@pytest.mark.parametrize("stream", [0, 1, "true", "yes"])
def test_stream_must_be_a_json_boolean(fast_server: FastServer, stream: object) -> None:
    with fast_server() as server, server.client() as http:
        reply = http.post("/v1/chat", json={"message": CHURN_QUESTION, "stream": stream})
        assert assert_json_error(reply, 422, "invalid_request").startswith("stream"), reply.text


def test_health_and_readiness_answer_head_as_load_balancers_probe(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        for path in ("/healthz", "/readyz"):
            reply = http.head(path)
            assert reply.status_code == 200 and reply.content == b"", (path, reply.status_code)
        assert "head" not in http.get("/openapi.json").json()["paths"]["/healthz"]
