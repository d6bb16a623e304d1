"""The API's description matches its behaviour, and the operations endpoints are guarded
(issue 16, items 6 and 8): every error status a route gives is documented with its JSON shape, `k`
carries the deployment's limit and `topics` the index's topics, keyless local mode declares no key,
and with keys on /openapi.json, /docs and /metrics need one unless the settings open them."""

from __future__ import annotations

import httpx
import pytest

from tests.api.helpers import KEY_A, assert_json_error
from tests.plugins.advisor_app import free_port
from tests.plugins.fast import FastServer

KEYS = {"api": {"keys": [KEY_A]}}
V1_STATUSES = {"401", "403", "413", "429", "503"}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_every_error_status_is_documented_with_its_shape(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        doc = http.get("/openapi.json").json()
    for path, operations in doc["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            assert set(responses) >= V1_STATUSES, (method, path, sorted(responses))
            openai = path.startswith(("/v1/chat/completions", "/v1/models"))
            schema = "OpenAIErrorOut" if openai else "ErrorOut"
            for status in V1_STATUSES:
                ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith(f"/{schema}"), (method, path, status)
            # The OpenAI route answers malformed requests with 400, the JSON API with 422.
            assert ("422" in responses) != openai and ("400" in responses) == openai, (method, path)


def test_k_and_topics_carry_this_deployments_limits(fast_server: FastServer) -> None:
    with fast_server(limits={"max_k": 7}) as server, server.client() as http:
        doc = http.get("/openapi.json").json()
        topics = sorted(server.container.retriever.known_topics())
    assert topics
    for name in ("ChatIn", "SearchIn"):
        properties = doc["components"]["schemas"][name]["properties"]
        (k,) = [b for b in properties["k"]["anyOf"] if b.get("type") == "integer"]
        assert (k["minimum"], k["maximum"]) == (1, 7)
        (listed,) = [b for b in properties["topics"]["anyOf"] if b.get("type") == "array"]
        assert listed["items"]["enum"] == topics


def test_keyless_local_mode_declares_no_key(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        doc = http.get("/openapi.json").json()
        assert http.get("/docs").status_code == 200
    assert not [p for p, ops in doc["paths"].items() for op in ops.values() if "security" in op]


def test_with_keys_on_the_description_needs_a_key_unless_public(fast_server: FastServer) -> None:
    with fast_server(**KEYS) as server, server.client() as http:
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert_json_error(http.get(path), 401, "unauthorized")
            assert http.get(path, headers=_bearer(KEY_A)).status_code == 200
        doc = http.get("/openapi.json", headers=_bearer(KEY_A)).json()
        assert doc["paths"]["/v1/chat"]["post"]["security"] == [{"HTTPBearer": []}]
    with fast_server(api={"keys": [KEY_A], "public_docs": True}) as server, server.client() as http:
        assert http.get("/openapi.json").status_code == 200 and http.get("/docs").status_code == 200


def test_with_keys_on_metrics_need_the_metrics_scope(fast_server: FastServer) -> None:
    with fast_server(**KEYS) as server, server.client() as http:
        chat_only = server.container.api_keys.create(("chat",), name="portal").key
        scraper = server.container.api_keys.create(("metrics",), name="prometheus").key
        assert_json_error(http.get("/metrics"), 401, "unauthorized")
        assert_json_error(http.get("/metrics", headers=_bearer(chat_only)), 403, "forbidden")
        scraped = http.get("/metrics", headers=_bearer(scraper))
        assert scraped.status_code == 200 and "advisor_http_requests_total" in scraped.text
        assert http.get("/metrics", headers=_bearer(KEY_A)).status_code == 200  # bootstrap keys: every scope
        # A metrics key is no chat key.
        assert http.post("/v1/chat", json={"message": "x"}, headers=_bearer(scraper)).status_code == 403
    with fast_server(api={"keys": [KEY_A], "public_metrics": True}) as server, server.client() as http:
        assert http.get("/metrics").status_code == 200


def test_metrics_on_a_separate_port_need_no_key(fast_server: FastServer) -> None:
    port = free_port()
    with fast_server(api={"keys": [KEY_A], "metrics_port": port}) as server, server.client() as http:
        assert_json_error(http.get("/metrics"), 401, "unauthorized")
        http.get("/healthz")
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert scraped.status_code == 200 and "advisor_http_requests_total" in scraped.text
    with pytest.raises(httpx.ConnectError):  # closed with the app
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"message": "caf\xe9 \xff"}', "request body is not valid UTF-8 (byte 16)"),
        (b'{"message": "x", "initiative": ' + b"[" * 3000 + b"]" * 3000 + b"}", "nested too deeply"),
    ],
)
def test_a_body_json_cannot_read_is_a_422_with_the_reason(
    fast_server: FastServer, body: bytes, reason: str
) -> None:
    headers = {"content-type": "application/json"}
    with fast_server() as server, server.client() as http:
        reply = http.post("/v1/chat", content=body, headers=headers)
        assert_json_error(reply, 422, "invalid_request")
        assert reason in reply.json()["reason"]
        openai = http.post("/v1/chat/completions", content=body, headers=headers)
        assert openai.status_code == 400 and reason in openai.json()["error"]["message"]
