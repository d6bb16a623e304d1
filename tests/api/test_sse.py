"""POST /v1/chat with stream=true: Server-Sent Events in order, deltas adding up to the answer."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import (
    ABSTAIN_ON_UNKNOWN_NAMES,
    CHAT_KEYS,
    CHURN_QUESTION,
    UNKNOWN_NAME_QUESTION,
    SSEEvent,
    assert_cites_consistently,
    llm_settings,
    metric,
    stream_chat,
)
from tests.fakes.openai_server import FakeOpenAIServer
from tests.plugins.fast import FastServer


def _assert_well_ordered(events: list[SSEEvent]) -> dict[str, Any]:
    """delta/reset events, then exactly one citations event, then done last; returns done's data
    after checking that the deltas since the last reset add up to its answer."""
    kinds = [e.event for e in events]
    assert kinds[-2:] == ["citations", "done"], kinds
    assert kinds.count("citations") == 1 and kinds.count("done") == 1 and "error" not in kinds, kinds
    assert set(kinds[:-2]) <= {"delta", "reset"}, kinds
    assert "delta" in kinds, kinds
    last_reset = max((i for i, k in enumerate(kinds) if k == "reset"), default=-1)
    text = "".join(e.data["text"] for e in events[last_reset + 1 : -2] if e.event == "delta")
    done: dict[str, Any] = events[-1].data
    assert set(done) >= CHAT_KEYS, done
    assert text.strip() == done["answer"].strip()
    assert done["citations"] == events[-2].data["citations"]
    return done


def test_stream_sends_deltas_then_citations_then_done(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        reply, events = stream_chat(http, {"message": CHURN_QUESTION})
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        assert sum(e.event == "delta" for e in events) > 1, "the answer should arrive in several deltas"
        done = _assert_well_ordered(events)
        assert "".join(e.data["text"] for e in events if e.event == "delta") == done["answer"]
        assert done["grounded"] and not done["abstained"] and not done["fallback"]
        assert_cites_consistently(done)

        # The streamed turn is stored exactly as the done event describes it.
        stored = http.get(f"/v1/conversations/{done['conversation_id']}").json()
        assistant = stored["messages"][-1]
        assert assistant["id"] == done["message_id"]
        assert assistant["content"] == done["answer"]
        assert assistant["citations"] == done["citations"]

        # The same question as JSON gets the same final object (ids aside).
        plain = http.post("/v1/chat", json={"message": CHURN_QUESTION}).json()
        for key in ("answer", "citations", "grounded", "abstained", "fallback"):
            assert plain[key] == done[key], key


def test_stream_of_an_abstention_is_well_ordered_too(fast_server: FastServer) -> None:
    with fast_server(**ABSTAIN_ON_UNKNOWN_NAMES) as server, server.client() as http:
        _, events = stream_chat(http, {"message": UNKNOWN_NAME_QUESTION})
        done = _assert_well_ordered(events)
        assert done["abstained"] is True and done["citations"] == []


def test_stream_continues_a_conversation(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        first = http.post("/v1/chat", json={"message": CHURN_QUESTION}).json()
        _, events = stream_chat(
            http, {"message": "What about the second step?", "conversation_id": first["conversation_id"]}
        )
        done = _assert_well_ordered(events)
        assert done["conversation_id"] == first["conversation_id"]
        assert "churn" in done["standalone_question"].lower()
        assert_cites_consistently(done)


def test_stream_of_a_real_model_answer(fast_server: FastServer, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.reply_with(
        "Package the notebook code and ship a minimal version end to end [1]. "
        "Then add monitoring before go-live [2]."
    )
    with fast_server(llm=llm_settings(fake_openai)) as server, server.client() as http:
        _, events = stream_chat(http, {"message": CHURN_QUESTION})
        done = _assert_well_ordered(events)
        assert "reset" not in [e.event for e in events]
        assert done["answer"].startswith("Package the notebook code")
        assert not done["fallback"] and done["grounded"]
        assert [c["n"] for c in done["citations"]] == [1, 2]


def test_model_failing_mid_stream_resets_and_falls_back(
    fast_server: FastServer, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply_with("Package the notebook code, then ship a minimal version end to end [1].")
    fake_openai.stall(30, after_chunks=6)  # a clause and a word, then silence until the client times out
    with fast_server(llm=llm_settings(fake_openai, timeout=1.0)) as server, server.client() as http:
        _, events = stream_chat(http, {"message": CHURN_QUESTION})
        kinds = [e.event for e in events]
        assert "reset" in kinds, kinds
        before_reset = "".join(e.data["text"] for e in events[: kinds.index("reset")] if e.event == "delta")
        assert before_reset.startswith("Package the notebook"), before_reset
        done = _assert_well_ordered(events)  # only the text after the reset counts
        assert done["fallback"] is True and not done["answer"].startswith("Package the notebook")
        assert "language model was unavailable" in done["answer"]
        assert_cites_consistently(done)
        assert metric(http.get("/metrics").text, "advisor_llm_fallbacks_total") == 1.0


def test_a_failure_mid_stream_is_an_error_event(own_index_server: FastServer) -> None:
    with own_index_server() as server, server.client() as http:
        assert http.post("/v1/chat", json={"message": CHURN_QUESTION}).status_code == 200  # index loaded
        state = server.container.index_repository.get_index_state()
        assert state is not None
        server.container.vectors.delete_collection(state.collection)

        reply, events = stream_chat(http, {"message": CHURN_QUESTION})
        assert reply.status_code == 200  # the stream had started
        assert [e.event for e in events][-1] == "error"
        assert "done" not in [e.event for e in events]
        assert events[-1].data["reason"].startswith("answer failed")
        # The connection is still good for the next request.
        assert http.get("/healthz").status_code == 200
