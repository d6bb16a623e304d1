"""POST /v1/chat as JSON: answer shape, follow-ups rewritten from history, the initiative kept."""

from __future__ import annotations

from pathlib import Path

from advisor.app import create_app
from tests.api.helpers import (
    ABSTAIN_ON_UNKNOWN_NAMES,
    CHAT_KEYS,
    CHURN_QUESTION,
    UNKNOWN_NAME_QUESTION,
    assert_cites_consistently,
    assert_json_error,
    llm_settings,
    numbered_steps,
    prompt_section,
    user_prompt,
)
from tests.fakes.openai_server import FakeOpenAIServer
from tests.plugins.advisor_app import free_port, serve_app
from tests.plugins.fast import FastContainer, FastServer


def test_json_chat_returns_a_grounded_cited_answer_that_is_stored(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        reply = http.post("/v1/chat", json={"message": CHURN_QUESTION})
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"].startswith("application/json")
        body = reply.json()
        assert set(body) >= CHAT_KEYS, body
        assert body["grounded"] is True and body["abstained"] is False and body["fallback"] is False
        assert body["conversation_id"] and body["message_id"]
        assert_cites_consistently(body)
        assert {"deployment", "infrastructure"} & {t for c in body["citations"] for t in c["topics"]}

        stored = http.get(f"/v1/conversations/{body['conversation_id']}").json()
        user, assistant = stored["messages"]
        assert (user["role"], user["content"]) == ("user", CHURN_QUESTION)
        assert assistant["id"] == body["message_id"] and assistant["role"] == "assistant"
        assert assistant["content"] == body["answer"]
        assert assistant["citations"] == body["citations"]


def test_off_topic_question_abstains_without_citations(fast_server: FastServer) -> None:
    # The real model's abstention on the banana bread question: tests/api/test_smoke.py.
    with fast_server(**ABSTAIN_ON_UNKNOWN_NAMES) as server, server.client() as http:
        body = http.post("/v1/chat", json={"message": UNKNOWN_NAME_QUESTION}).json()
        assert body["abstained"] is True
        assert body["citations"] == []
        assert "won't guess" in body["answer"]


def test_follow_ups_are_rewritten_from_the_conversation_and_still_cite(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        first = http.post("/v1/chat", json={"message": CHURN_QUESTION}).json()
        second_step = numbered_steps(first["answer"]).get(2)
        assert second_step, f"the first answer should list steps: {first['answer']}"
        conversation = first["conversation_id"]

        followup = http.post(
            "/v1/chat", json={"message": "What about the second step?", "conversation_id": conversation}
        ).json()
        assert followup["conversation_id"] == conversation
        standalone = followup["standalone_question"]
        assert standalone != "What about the second step?"
        assert "churn" in standalone.lower()  # the earlier subject
        assert second_step in standalone  # and the step it refers to
        assert not followup["abstained"]
        assert_cites_consistently(followup)

        # A reference to the previous turn keeps being resolved further down the conversation.
        third = http.post(
            "/v1/chat", json={"message": "How do we staff that?", "conversation_id": conversation}
        ).json()
        assert third["standalone_question"] != "How do we staff that?"
        assert "second step" in third["standalone_question"]
        assert not third["abstained"]
        assert_cites_consistently(third)

        # Directly after the first question, "that" is the churn model's path to production.
        other = http.post("/v1/chat", json={"message": CHURN_QUESTION}).json()
        staffing = http.post(
            "/v1/chat", json={"message": "How do we staff that?", "conversation_id": other["conversation_id"]}
        ).json()
        assert staffing["standalone_question"] != "How do we staff that?"
        assert "churn" in staffing["standalone_question"].lower()
        assert not staffing["abstained"]
        assert_cites_consistently(staffing)

        # The same question without history is left alone.
        fresh = http.post("/v1/chat", json={"message": "How do we staff that?"}).json()
        assert fresh["standalone_question"] == "How do we staff that?"


def test_initiative_is_stored_with_the_conversation_and_reused_on_later_turns(
    fast_server: FastServer, fake_openai: FakeOpenAIServer
) -> None:
    # The fake answers the rewrite and the answer alike, so the reply must also work as a question.
    reply = "Monitor the churn model in production for drift and retrain it on a schedule [1]."
    fake_openai.reply_with(reply)
    initiative = {
        "goal": "reduce churn",
        "industry": "telecom",
        "stage": "pilot",
        "team": "3 data scientists",
    }
    with fast_server(llm=llm_settings(fake_openai)) as server, server.client() as http:
        first = http.post("/v1/chat", json={"message": CHURN_QUESTION, "initiative": initiative})
        assert first.status_code == 200, first.text
        conversation = first.json()["conversation_id"]
        assert http.get(f"/v1/conversations/{conversation}").json()["initiative"] == initiative

        # A later turn that does not repeat the initiative is still answered for it.
        fake_openai.reset()
        fake_openai.reply_with(reply)
        later = http.post(
            "/v1/chat", json={"message": "What about monitoring?", "conversation_id": conversation}
        )
        assert later.status_code == 200, later.text
        answers = [r for r in fake_openai.chat_requests if r.streamed]
        assert len(answers) == 1, later.json()
        sent = prompt_section(user_prompt(answers[0].messages), "initiative")
        for value in initiative.values():
            assert value in sent, sent

        # A new initiative on a later turn replaces the stored one, and free text is kept as text.
        fake_openai.reset()
        fake_openai.reply_with(reply)
        replaced = http.post(
            "/v1/chat",
            json={
                "message": "And testing?",
                "conversation_id": conversation,
                "initiative": "Retail demand forecasting",
            },
        )
        assert replaced.status_code == 200, replaced.text
        assert (
            http.get(f"/v1/conversations/{conversation}").json()["initiative"] == "Retail demand forecasting"
        )
        answers = [r for r in fake_openai.chat_requests if r.streamed]
        sent = prompt_section(user_prompt(answers[0].messages), "initiative")
        assert "Retail demand forecasting" in sent and "telecom" not in sent


def test_chat_on_an_unknown_conversation_is_404(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        reply = http.post(
            "/v1/chat", json={"message": CHURN_QUESTION, "conversation_id": "no-such-conversation"}
        )
        assert_json_error(reply, 404, "not_found")
        streamed = http.post(
            "/v1/chat",
            json={"message": CHURN_QUESTION, "conversation_id": "no-such-conversation", "stream": True},
        )
        assert_json_error(streamed, 404, "not_found")


def test_chat_request_validation_errors_are_json(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        for payload, field in [
            ({}, "message"),
            ({"message": ""}, "message"),
            ({"message": "hi", "initiative": {"goal": "x", "budget": "1M"}}, "initiative"),
            ({"message": "hi", "initiative": 42}, "initiative"),
            ({"message": "hi", "k": 0}, "k"),
            ({"message": "hi", "stream": "sometimes"}, "stream"),
        ]:
            reason = assert_json_error(http.post("/v1/chat", json=payload), 422, "invalid_request")
            assert field in reason, (payload, reason)


def test_chat_without_an_index_is_503_not_500(fast_container: FastContainer, tmp_path: Path) -> None:
    empty = fast_container(fresh_vectors=True, data_dir=tmp_path / "empty")
    with serve_app(create_app(container=empty), free_port()) as server, server.client() as http:
        for stream in (False, True):
            reply = http.post("/v1/chat", json={"message": CHURN_QUESTION, "stream": stream})
            assert "advisor ingest" in assert_json_error(reply, 503, "not_ready")
        assert "advisor ingest" in assert_json_error(
            http.post("/v1/search", json={"query": "x"}), 503, "not_ready"
        )


def test_a_failing_vector_store_is_a_json_503(own_index_server: FastServer) -> None:
    with own_index_server() as server, server.client() as http:
        assert http.post("/v1/chat", json={"message": CHURN_QUESTION}).status_code == 200
        state = server.container.index_repository.get_index_state()
        assert state is not None
        server.container.vectors.delete_collection(state.collection)

        reason = assert_json_error(http.post("/v1/chat", json={"message": CHURN_QUESTION}), 503, "not_ready")
        assert "answer failed" in reason
        reason = assert_json_error(http.post("/v1/search", json={"query": CHURN_QUESTION}), 503, "not_ready")
        assert "search failed" in reason
