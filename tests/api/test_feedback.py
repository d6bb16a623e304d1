"""POST /v1/feedback: stored against the answer, 404 for unknown messages, validated."""

from __future__ import annotations

from tests.api.helpers import CHURN_QUESTION, assert_json_error
from tests.plugins.fast import FastServer


def test_feedback_is_stored_against_the_answer(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        answer = http.post("/v1/chat", json={"message": CHURN_QUESTION}).json()
        message_id = answer["message_id"]

        up = http.post(
            "/v1/feedback", json={"message_id": message_id, "rating": "up", "comment": "Clear steps."}
        )
        assert up.status_code == 201, up.text
        assert up.json()["status"] == "stored"
        down = http.post("/v1/feedback", json={"message_id": message_id, "rating": "down"})
        assert down.status_code == 201, down.text
        assert down.json()["id"] != up.json()["id"]

        stored = server.container.conversations.feedback_for(message_id)
        assert [(f.id, f.rating, f.comment) for f in stored] == [
            (up.json()["id"], "up", "Clear steps."),
            (down.json()["id"], "down", None),
        ]


def test_feedback_for_an_unknown_message_is_404(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        reply = http.post("/v1/feedback", json={"message_id": "no-such-message", "rating": "up"})
        assert_json_error(reply, 404, "not_found")
        assert server.container.conversations.feedback_for("no-such-message") == []


def test_feedback_is_validated(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        message_id = http.post("/v1/chat", json={"message": CHURN_QUESTION}).json()["message_id"]
        for payload, field in [
            ({"message_id": message_id, "rating": "meh"}, "rating"),
            ({"message_id": message_id}, "rating"),
            ({"rating": "up"}, "message_id"),
            ({"message_id": message_id, "rating": "up", "comment": "x" * 2001}, "comment"),
        ]:
            reason = assert_json_error(http.post("/v1/feedback", json=payload), 422, "invalid_request")
            assert field in reason, (payload, reason)
        assert server.container.conversations.feedback_for(message_id) == []
