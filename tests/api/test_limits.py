"""Request limits and error shapes: sizes, k, history, malformed bodies, wrong methods."""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy import text

from tests.api.helpers import (
    CHURN_QUESTION,
    assert_json_error,
    llm_settings,
    metric_sum,
    prompt_section,
    user_prompt,
)
from tests.fakes.openai_server import FakeOpenAIServer
from tests.plugins.fast import FastServer

LIMITS = {
    "limits": {"max_message_chars": 120, "max_initiative_chars": 80, "max_body_bytes": 2048, "max_k": 5}
}


def test_message_initiative_and_k_limits_are_422(fast_server: FastServer) -> None:
    with fast_server(**LIMITS) as server, server.client() as http:
        at_limit = "How do we deploy? " + "x" * (120 - len("How do we deploy? "))
        assert http.post("/v1/chat", json={"message": at_limit}).status_code == 200

        reason = assert_json_error(
            http.post("/v1/chat", json={"message": at_limit + "x"}), 422, "invalid_request"
        )
        assert "121" in reason and "120" in reason
        reason = assert_json_error(
            http.post("/v1/search", json={"query": at_limit + "x"}), 422, "invalid_request"
        )
        assert "120" in reason

        long_initiative = {"goal": "g" * 100}
        reply = http.post("/v1/chat", json={"message": CHURN_QUESTION, "initiative": long_initiative})
        assert "initiative" in assert_json_error(reply, 422, "invalid_request")
        reply = http.post("/v1/chat", json={"message": CHURN_QUESTION, "initiative": "i" * 100})
        assert "initiative" in assert_json_error(reply, 422, "invalid_request")

        assert http.post("/v1/search", json={"query": CHURN_QUESTION, "k": 5}).status_code == 200
        reason = assert_json_error(
            http.post("/v1/search", json={"query": "drift", "k": 6}), 422, "invalid_request"
        )
        assert "k is 6" in reason and "5" in reason
        reply = http.post("/v1/chat", json={"message": CHURN_QUESTION, "k": 6})
        assert "k is 6" in assert_json_error(reply, 422, "invalid_request")


def test_body_size_limit_is_enforced_with_and_without_content_length(fast_server: FastServer) -> None:
    with fast_server(**LIMITS) as server, server.client() as http:
        big = json.dumps({"query": "drift " * 500}).encode()
        assert len(big) > 2048
        reply = http.post("/v1/search", content=big, headers={"content-type": "application/json"})
        assert reply.request.headers["content-length"] == str(len(big))
        assert "2048" in assert_json_error(reply, 413, "payload_too_large")

        # No Content-Length: the limit must hold while the body is read, chunk by chunk.
        def chunks(total: int) -> Iterator[bytes]:
            body = json.dumps({"query": "drift " * (total // 6)}).encode()
            for start in range(0, len(body), 512):
                yield body[start : start + 512]

        chunked = http.post("/v1/search", content=chunks(8000), headers={"content-type": "application/json"})
        assert chunked.request.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in chunked.request.headers
        assert "2048" in assert_json_error(chunked, 413, "payload_too_large")

        # A chunked body under the limit is read and served normally, on the same connection.
        small = http.post("/v1/search", content=chunks(60), headers={"content-type": "application/json"})
        assert small.request.headers["transfer-encoding"] == "chunked"
        assert small.status_code == 200, small.text

        assert metric_sum(http.get("/metrics").text, "advisor_http_requests_total", status="413") == 2


def test_history_is_limited_to_max_history_messages(
    fast_server: FastServer, fake_openai: FakeOpenAIServer
) -> None:
    # The fake answers the rewrite and the answer alike, so the reply must also work as a question.
    fake_openai.reply_with("Monitor the model in production for drift and retrain it on a schedule [1].")
    settings = {"llm": llm_settings(fake_openai), "limits": {"max_history_messages": 2}}
    with fast_server(**settings) as server, server.client() as http:
        first = http.post("/v1/chat", json={"message": CHURN_QUESTION}).json()
        conversation = first["conversation_id"]
        for message in ("What about the second step?", "And the third one?"):
            reply = http.post("/v1/chat", json={"message": message, "conversation_id": conversation})
            assert reply.status_code == 200, reply.text

        rewrites = [user_prompt(r.messages) for r in fake_openai.chat_requests if not r.streamed]
        assert len(rewrites) == 2, rewrites
        second, third = (prompt_section(prompt, "history") for prompt in rewrites)
        # Turn 2 sees turn 1; turn 3 sees only the last two messages (turn 2), not the first question.
        assert "churn" in second
        assert "What about the second step?" in third
        assert "churn" not in third
        assert third.count("Team:") == 1 and third.count("Advisor:") == 1

        answers = [user_prompt(r.messages) for r in fake_openai.chat_requests if r.streamed]
        assert "churn" not in prompt_section(answers[-1], "history")
        # The stored conversation itself keeps everything.
        assert len(http.get(f"/v1/conversations/{conversation}").json()["messages"]) == 6


def test_malformed_bodies_are_422_json(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        for body in (b'{"message": ', b"not json", b'{"message": "hi",}'):
            reply = http.post("/v1/chat", content=body, headers={"content-type": "application/json"})
            assert "not valid JSON" in assert_json_error(reply, 422, "invalid_request")
        for body in (b'["a list"]', b'"a string"', b"null"):
            reply = http.post("/v1/chat", content=body, headers={"content-type": "application/json"})
            assert_json_error(reply, 422, "invalid_request")


def test_wrong_method_and_unknown_path_are_json(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        for method, path in (
            ("GET", "/v1/chat"),
            ("PUT", "/v1/search"),
            ("DELETE", "/healthz"),
            ("POST", "/metrics"),
        ):
            reply = http.request(method, path)
            assert_json_error(reply, 405, "method_not_allowed")
            assert reply.headers.get("allow"), (method, path)
        assert_json_error(http.get("/nothing-here"), 404, "not_found")  # unknown /v1/ paths: OpenAI's shape


def test_an_unexpected_failure_is_a_json_500_and_the_connection_survives(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        message_id = http.post("/v1/chat", json={"message": CHURN_QUESTION}).json()["message_id"]
        with server.container.engine.begin() as connection:
            connection.execute(text("DROP TABLE feedback"))

        reply = http.post("/v1/feedback", json={"message_id": message_id, "rating": "up"})
        reason = assert_json_error(reply, 500, "internal_error")
        assert "OperationalError" not in reason and "feedback" not in reason  # no internals leak
        # Same keep-alive connection: the next request is answered normally.
        assert http.get("/healthz").json() == {"status": "ok"}
        assert metric_sum(http.get("/metrics").text, "advisor_http_requests_total", status="500") == 1
