"""GET /v1/conversations/{id}: the stored turns, in order, with the initiative."""

from __future__ import annotations

from tests.api.helpers import CHURN_QUESTION, assert_json_error
from tests.plugins.fast import FastServer


def test_conversation_lists_every_turn_in_order(fast_server: FastServer) -> None:
    initiative = {"goal": "reduce churn", "industry": "telecom"}
    with fast_server() as server, server.client() as http:
        first = http.post("/v1/chat", json={"message": CHURN_QUESTION, "initiative": initiative}).json()
        conversation = first["conversation_id"]
        second = http.post(
            "/v1/chat", json={"message": "What about the second step?", "conversation_id": conversation}
        ).json()

        reply = http.get(f"/v1/conversations/{conversation}")
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["id"] == conversation
        assert body["initiative"] == initiative
        assert body["created_at"]
        messages = body["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
        assert [m["content"] for m in messages] == [
            CHURN_QUESTION,
            first["answer"],
            "What about the second step?",
            second["answer"],
        ]
        assert [messages[1]["id"], messages[3]["id"]] == [first["message_id"], second["message_id"]]
        assert messages[3]["citations"] == second["citations"]
        assert all(m["created_at"] for m in messages)
        assert messages[0]["created_at"] <= messages[3]["created_at"]
        for m in messages:
            assert {"grounded", "abstained", "fallback"} <= set(m)


def test_unknown_conversation_is_404(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        assert_json_error(http.get("/v1/conversations/no-such-conversation"), 404, "not_found")
        assert_json_error(http.get("/v1/conversations/" + "x" * 300), 404, "not_found")
