"""The widget's server side over real HTTP: assets, the demo page, CORS, key scope and origin checks,
rate limits (memory and Redis storage) and the widget's message length limit."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from advisor.auth import api_key_id
from tests.api.helpers import CHURN_QUESTION, OFF_TOPIC_QUESTION, assert_json_error
from tests.plugins.fast import FastServer
from tests.widget.conftest import WIDGET_KEY

API_KEY = "test-api-key-never-in-a-page-0123"
API_CLIENT_ORIGIN = "https://api-client.example"
EVIL = "https://evil.example"


def widget_headers(origin: str | None, key: str = WIDGET_KEY) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"}
    if origin:
        headers["Origin"] = origin
    return headers


def preflight(http: httpx.Client, path: str, origin: str) -> httpx.Response:
    return http.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )


def test_assets_are_served_with_types_and_etags(widget_server: Any) -> None:
    with widget_server() as server, server.client() as http:
        for path, kind in (("/widget.js", "text/javascript"), ("/widget.css", "text/css")):
            reply = http.get(path)
            assert reply.status_code == 200 and reply.headers["content-type"].startswith(kind)
            etag = reply.headers["etag"]
            assert re.fullmatch(r'"[0-9a-f]{32}"', etag) and "max-age" in reply.headers["cache-control"]
            assert reply.headers["cross-origin-resource-policy"] == "cross-origin"
            again = http.get(path, headers={"If-None-Match": etag})
            assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
            assert http.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200
        # No innerHTML anywhere in the widget: text is only ever set as text.
        assert "innerHTML" not in http.get("/widget.js").text


def test_demo_page_embeds_a_widget_key_and_never_an_api_key(widget_server: Any) -> None:
    with widget_server(api={"keys": [API_KEY]}) as server, server.client() as http:
        page = http.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert f'src="{server.url}/widget.js"' in page.text
        assert f'data-widget-key="{WIDGET_KEY}"' in page.text
        assert API_KEY not in page.text and "No widget key" not in page.text


def test_demo_page_without_keys_and_with_no_matching_key(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        page = http.get("/").text  # local mode: the widget talks to the loopback service keylessly
        assert "data-widget-key" not in page and "No widget key" not in page
        assert http.post("/v1/chat", json={"message": OFF_TOPIC_QUESTION}).status_code == 200
    foreign = {
        "name": "intranet",
        "key": "wk_only-for-the-intranet-0123",
        "origins": ["https://intranet.example"],
    }
    with fast_server(widget={"keys": [foreign]}) as server, server.client() as http:
        page = http.get("/").text
        assert "data-widget-key" not in page and "No widget key for this page" in page
        assert "advisor widget create-key --origin http://127.0.0.1:" in page
    with fast_server(widget={"demo_page": False}) as server, server.client() as http:
        assert_json_error(http.get("/"), 404, "not_found")


def test_cors_answers_only_allowed_origins_on_widget_paths(widget_server: Any) -> None:
    with widget_server(api={"keys": [API_KEY], "cors_origins": [API_CLIENT_ORIGIN]}) as server:
        own = server.url
        with server.client() as http:
            for path in ("/v1/chat", "/v1/feedback", "/v1/conversations/abc"):
                ok = preflight(http, path, own)
                assert ok.status_code == 204, (path, ok.text)
                assert ok.headers["access-control-allow-origin"] == own
                assert "authorization" in ok.headers["access-control-allow-headers"].lower()
            refused = preflight(http, "/v1/chat", EVIL)
            assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
            # The widget's origin is not a CORS origin for the rest of the API ...
            search = preflight(http, "/v1/search", own)
            assert search.status_code == 403 and "access-control-allow-origin" not in search.headers
            # ... while api.cors_origins still is, on every /v1 path.
            assert preflight(http, "/v1/search", API_CLIENT_ORIGIN).status_code == 204

            chat = http.post("/v1/chat", json={"message": OFF_TOPIC_QUESTION}, headers=widget_headers(own))
            assert chat.status_code == 200, chat.text
            assert chat.headers["access-control-allow-origin"] == own and "Origin" in chat.headers["vary"]
            assert "retry-after" in chat.headers["access-control-expose-headers"].lower()

            # A foreign page: 403 from the key check, and no CORS header so the browser hides it too.
            evil = http.post("/v1/chat", json={"message": OFF_TOPIC_QUESTION}, headers=widget_headers(EVIL))
            assert "not allowed" in assert_json_error(evil, 403, "forbidden")
            assert "access-control-allow-origin" not in evil.headers


def test_widget_key_reaches_only_chat_feedback_and_conversations(widget_server: Any) -> None:
    closed_key = "wk_closed-key-no-origins-0123"
    closed = {"name": "closed", "key": closed_key, "origins": []}
    with widget_server(api={"keys": [API_KEY]}, extra_keys=[closed]) as server, server.client() as http:
        own = server.url
        search = http.post("/v1/search", json={"query": "canary release"}, headers=widget_headers(own))
        assert "may only call" in assert_json_error(search, 403, "forbidden")
        assert "access-control-allow-origin" not in search.headers
        # The OpenAI-compatible routes are for servers: a widget key is refused there too, in
        # OpenAI's error shape, whatever the request (no limit on those routes can be bypassed).
        completion = {"model": "advisor", "messages": [{"role": "user", "content": CHURN_QUESTION}]}
        for method, path, body in [
            ("POST", "/v1/chat/completions", completion),
            ("POST", "/v1/chat/completions", {**completion, "stream": True}),
            ("GET", "/v1/models", None),
            ("GET", "/v1/models/advisor", None),
        ]:
            refused = http.request(method, path, json=body, headers=widget_headers(own))
            assert refused.status_code == 403, (path, refused.text)
            error = refused.json()["error"]
            assert error["type"] == "permission_error" and "may only call" in error["message"]

        answer = http.post("/v1/chat", json={"message": CHURN_QUESTION}, headers=widget_headers(own))
        assert answer.status_code == 200, answer.text
        done = answer.json()
        conversation = f"/v1/conversations/{done['conversation_id']}"
        # Server-side callers send no Origin: a widget key is refused there.
        no_origin = http.post("/v1/chat", json={"message": CHURN_QUESTION}, headers=widget_headers(None))
        assert "web page" in assert_json_error(no_origin, 403, "forbidden")
        # A same-origin GET from the service's own page carries no Origin, only Sec-Fetch-Site.
        same_site = {**widget_headers(None), "Sec-Fetch-Site": "same-origin"}
        restored = http.get(conversation, headers=same_site)
        assert restored.status_code == 200 and restored.json()["messages"][-1]["id"] == done["message_id"]
        cross_site = {**widget_headers(None), "Sec-Fetch-Site": "cross-site"}
        assert_json_error(http.get(conversation, headers=cross_site), 403, "forbidden")

        feedback = {"message_id": done["message_id"], "rating": "up", "comment": "clear"}
        stored = http.post("/v1/feedback", json=feedback, headers=widget_headers(own))
        assert stored.status_code == 201, stored.text
        (record,) = server.container.conversations.feedback_for(done["message_id"])
        assert record.rating == "up" and record.comment == "clear"

        # A key with an empty allow-list is refused from every origin.
        closed_reply = http.post(
            "/v1/chat", json={"message": CHURN_QUESTION}, headers=widget_headers(own, closed_key)
        )
        assert "allows no origins" in assert_json_error(closed_reply, 403, "forbidden")
        # The widget's own message limit (1000 by default) is below the API's.
        long = http.post("/v1/chat", json={"message": "x" * 1001}, headers=widget_headers(own))
        assert (
            assert_json_error(long, 422, "invalid_request") == "message is 1001 characters; the limit is 1000"
        )
        api_long = http.post(
            "/v1/chat", json={"message": "x" * 1001}, headers={"Authorization": f"Bearer {API_KEY}"}
        )
        assert api_long.status_code != 422


@pytest.mark.parametrize("storage", ["memory://", "redis://127.0.0.1:6379"])
def test_rate_limits_answer_429_with_retry_after(widget_server: Any, storage: str) -> None:
    key = f"wk_rate-{uuid.uuid4().hex}"  # fresh counters, also in a shared Redis
    limits = {
        "rate_limit_storage": storage,
        "rate_limit_per_ip": "4/minute",
        "rate_limit_per_conversation": "2/minute",
        "feedback_rate_limit_per_ip": "2/minute",
    }
    with widget_server(key=key, widget=limits) as server, server.client() as http:
        headers = widget_headers(server.url, key)
        first = http.post("/v1/chat", json={"message": OFF_TOPIC_QUESTION}, headers=headers)
        assert first.status_code == 200, first.text
        follow_up = {"message": OFF_TOPIC_QUESTION, "conversation_id": first.json()["conversation_id"]}
        assert [http.post("/v1/chat", json=follow_up, headers=headers).status_code for _ in range(2)] == [
            200,
            200,
        ]
        limited = http.post("/v1/chat", json=follow_up, headers=headers)  # third turn of one conversation
        assert "2 per 1 minute" in assert_json_error(limited, 429, "rate_limited")
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.headers["access-control-allow-origin"] == server.url  # readable by the widget
        # A new conversation from the same IP: the per-IP limit (4/minute) is spent now.
        per_ip = http.post("/v1/chat", json={"message": OFF_TOPIC_QUESTION}, headers=headers)
        assert "4 per 1 minute" in assert_json_error(per_ip, 429, "rate_limited")
        assert 1 <= int(per_ip.headers["retry-after"]) <= 60

        message_id = first.json()["message_id"]
        rating = {"message_id": message_id, "rating": "down"}
        statuses = [http.post("/v1/feedback", json=rating, headers=headers).status_code for _ in range(3)]
        assert statuses == [201, 201, 429]
        assert len(server.container.conversations.feedback_for(message_id)) == 2

    if storage.startswith("redis"):
        import redis

        client = redis.Redis.from_url(storage)
        stored = [k.decode() for k in client.scan_iter(f"*{api_key_id(key)}*")]
        assert any("chat-ip" in k for k in stored) and any("chat-conversation" in k for k in stored), stored
        client.delete(*stored)


def test_a_widget_opens_documents_from_its_origin_within_its_limit(widget_server: Any) -> None:
    with widget_server(widget={"read_rate_limit_per_ip": "2/minute"}) as server, server.client() as http:
        own = server.url
        headers = {"Authorization": f"Bearer {WIDGET_KEY}", "Origin": own}
        first = http.get("/v1/documents/drift-detection-and-retraining", headers=headers)
        assert first.status_code == 200, first.text
        assert first.headers["access-control-allow-origin"] == own
        assert http.get("/v1/documents/drift-detection-and-retraining", headers=headers).status_code == 200
        assert_json_error(
            http.get("/v1/documents/drift-detection-and-retraining", headers=headers), 429, "rate_limited"
        )
        foreign = http.get(
            "/v1/documents/drift-detection-and-retraining",
            headers={**headers, "Origin": "https://evil.example"},
        )
        assert foreign.status_code == 403


def test_the_assembled_script_is_valid_javascript(widget_server: Any, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    with widget_server() as server, server.client() as http:
        script = tmp_path / "widget.js"
        script.write_bytes(http.get("/widget.js").content)
    checked = subprocess.run([node, "--check", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    text = script.read_text()
    assert text.count('"use strict"') == 1 and text.rstrip().endswith("})();")  # one scope for all parts
