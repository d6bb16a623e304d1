"""API keys: every /v1 endpoint needs a bearer key, conversations belong to the key that made them."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.helpers import CHURN_QUESTION, KEY_A, KEY_B, assert_json_error
from tests.plugins.fast import FastServer

KEYS = {"api": {"keys": [KEY_A, KEY_B]}}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _v1_requests(conversation_id: str, message_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("POST", "/v1/chat", {"message": CHURN_QUESTION}),
        ("POST", "/v1/chat", {"message": CHURN_QUESTION, "stream": True}),
        ("POST", "/v1/search", {"query": CHURN_QUESTION}),
        ("GET", f"/v1/conversations/{conversation_id}", None),
        ("POST", "/v1/feedback", {"message_id": message_id, "rating": "up"}),
    ]


def test_every_v1_endpoint_needs_a_valid_key(fast_server: FastServer) -> None:
    with fast_server(**KEYS) as server, server.client() as http:
        answer = http.post("/v1/chat", json={"message": CHURN_QUESTION}, headers=_bearer(KEY_A))
        assert answer.status_code == 200, answer.text
        ids = answer.json()["conversation_id"], answer.json()["message_id"]

        for method, path, payload in _v1_requests(*ids):
            for headers in (
                {},
                _bearer("not-a-configured-key-at-all"),
                _bearer(KEY_A + "x"),
                {"Authorization": f"Basic {KEY_A}"},
                {"Authorization": KEY_A},
            ):
                reply = http.request(method, path, json=payload, headers=headers)
                assert_json_error(reply, 401, "unauthorized")
                assert reply.headers["www-authenticate"] == "Bearer", (method, path, headers)
            ok = http.request(method, path, json=payload, headers=_bearer(KEY_A))
            assert ok.status_code in (200, 201), (method, path, ok.text)

        # Nothing was done on behalf of the rejected requests.
        assert server.container.conversations.feedback_for(ids[1])[0].rating == "up"
        assert len(server.container.conversations.feedback_for(ids[1])) == 1

        # Probes stay open; /metrics and the API description need a key (tests/api/test_openapi_doc.py).
        for path in ("/healthz", "/readyz"):
            assert http.get(path).status_code in (200, 503)
        for path in ("/metrics", "/openapi.json", "/docs"):
            assert_json_error(http.get(path), 401, "unauthorized")


def test_conversation_of_key_a_is_invisible_to_key_b(fast_server: FastServer) -> None:
    with fast_server(**KEYS) as server, server.client() as http:
        a = http.post("/v1/chat", json={"message": CHURN_QUESTION}, headers=_bearer(KEY_A)).json()
        conversation, message = a["conversation_id"], a["message_id"]

        assert http.get(f"/v1/conversations/{conversation}", headers=_bearer(KEY_A)).status_code == 200
        assert_json_error(
            http.get(f"/v1/conversations/{conversation}", headers=_bearer(KEY_B)), 404, "not_found"
        )
        continued = http.post(
            "/v1/chat",
            json={"message": "What about the second step?", "conversation_id": conversation},
            headers=_bearer(KEY_B),
        )
        assert_json_error(continued, 404, "not_found")
        feedback = http.post(
            "/v1/feedback", json={"message_id": message, "rating": "down"}, headers=_bearer(KEY_B)
        )
        assert_json_error(feedback, 404, "not_found")

        # Key B's attempts left key A's conversation untouched.
        messages = http.get(f"/v1/conversations/{conversation}", headers=_bearer(KEY_A)).json()["messages"]
        assert len(messages) == 2
        assert server.container.conversations.feedback_for(message) == []
        # And key A can carry on.
        more = http.post(
            "/v1/chat",
            json={"message": "What about the second step?", "conversation_id": conversation},
            headers=_bearer(KEY_A),
        )
        assert more.status_code == 200, more.text


def test_openapi_declares_bearer_auth_on_v1(fast_server: FastServer) -> None:
    with fast_server(**KEYS) as server, httpx.Client(base_url=server.url) as http:
        spec = http.get("/openapi.json", headers=_bearer(KEY_A)).json()  # with keys on, reading it needs one
        schemes = spec["components"]["securitySchemes"]
        bearer = [
            name for name, s in schemes.items() if s.get("type") == "http" and s.get("scheme") == "bearer"
        ]
        assert len(bearer) == 1, schemes
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                security = [next(iter(req)) for req in operation.get("security", [])]
                if path.startswith("/v1/") or path == "/metrics":  # /metrics: the metrics scope
                    assert security == bearer, (method, path, operation.get("security"))
                else:
                    assert not security, (method, path)
