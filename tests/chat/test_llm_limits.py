"""Limits on the LLM path (issue 16, item 3), with the real langchain OpenAI client and the fake
OpenAI-protocol server: one deadline for all model calls of a turn, a bound on calls in flight beyond
which a turn answers from the guidance at once, and a circuit breaker that stops calling a failing
provider for a cool-down. Each shows in /metrics and the /readyz details."""

from __future__ import annotations

import threading
import time
from typing import Any

from advisor.chat.composing import FALLBACK_NOTE
from advisor.compose.llm import call_deadline
from advisor.container import Container
from tests.chat.helpers import DRIFT_QUESTION, NOTEBOOK_QUESTION, ask, llm_overrides
from tests.fakes.openai_server import FakeOpenAIServer
from tests.plugins.fast import FastContainer, FastServer

ANSWER = "Refactor the notebook into a tested package before tuning the model [1]."
ALL_K_PASSAGES = {"passage_floor_ratio": 0.0}


def settings(fake: FakeOpenAIServer, **llm: Any) -> dict[str, Any]:
    return {"llm": {**llm_overrides(fake), **llm}, "retrieval": ALL_K_PASSAGES}


def sample(container: Container, name: str, **labels: str) -> float:
    return float(container.metrics.registry.get_sample_value(name, labels or None) or 0.0)


def test_a_stalled_follow_up_falls_back_within_one_turn_deadline(
    fast_container: FastContainer, fake_openai: FakeOpenAIServer
) -> None:
    # Each call alone may take 3 s x 2 attempts (7.5 s with backoff): the rewrite and then the answer
    # took 15 s in series before the turn had one deadline for both.
    container = fast_container(**settings(fake_openai, timeout_seconds=3.0, turn_deadline_seconds=1.0))
    assert container.llm is not None and container.llm.deadline_seconds == call_deadline(3.0, 1)
    fake_openai.reply_with(ANSWER)
    first = ask(container, DRIFT_QUESTION)
    assert first["fallback"] is False
    fake_openai.reset()
    fake_openai.stall(30)

    started = time.monotonic()
    second = ask(container, "And who should own that?", conversation_id=first["conversation_id"])
    waited = time.monotonic() - started

    assert waited < 2.0, waited
    assert second["fallback"] is True and second["answer"].endswith(FALLBACK_NOTE)
    # The rewrite used up the turn: the answer was not even requested.
    assert [r.streamed for r in fake_openai.chat_requests] == [False]


def test_beyond_the_call_limit_a_turn_answers_from_the_guidance_at_once(
    fast_container: FastContainer, fake_openai: FakeOpenAIServer
) -> None:
    container = fast_container(**settings(fake_openai, timeout_seconds=10.0, max_concurrent_calls=1))
    fake_openai.reply_with(ANSWER)
    fake_openai.stall(20, times=1)
    stalled: dict[str, Any] = {}
    waiting = threading.Thread(target=lambda: stalled.update(ask(container, NOTEBOOK_QUESTION)))
    waiting.start()
    deadline = time.monotonic() + 10
    while not fake_openai.chat_requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(fake_openai.chat_requests) == 1
    assert sample(container, "advisor_llm_calls_in_flight") == 1

    started = time.monotonic()
    second = ask(container, NOTEBOOK_QUESTION)
    assert time.monotonic() - started < 1.0
    assert second["fallback"] is True
    assert len(fake_openai.chat_requests) == 1  # no second call was queued behind the first
    assert sample(container, "advisor_llm_calls_refused_total", reason="busy") == 1

    fake_openai.reset()  # releases the stalled response
    waiting.join(timeout=30)
    assert stalled["fallback"] is False and stalled["answer"] == ANSWER
    assert sample(container, "advisor_llm_calls_in_flight") == 0


def test_repeated_failures_open_the_breaker_then_a_trial_call_closes_it(
    fast_server: FastServer, fake_openai: FakeOpenAIServer
) -> None:
    # A cool-down of a few seconds: on a busy machine the two failed turns alone can take a second.
    cooldown = 4.0
    llm = {"timeout_seconds": 0.5, "breaker_failures": 2, "breaker_cooldown_seconds": cooldown}
    with fast_server(**settings(fake_openai, **llm)) as server, server.client() as http:
        fake_openai.fail(500)
        for _ in range(2):
            assert http.post("/v1/chat", json={"message": NOTEBOOK_QUESTION}).json()["fallback"] is True
        attempts = len(fake_openai.chat_requests)
        assert attempts == 4  # two turns, each an attempt and a retry

        ready = http.get("/readyz").json()
        assert ready["status"] == "ready" and ready["llm"]["breaker"] == "open", ready
        assert 0 < ready["llm"]["retry_in_seconds"] <= cooldown
        started = time.monotonic()
        body = http.post("/v1/chat", json={"message": NOTEBOOK_QUESTION}).json()
        assert time.monotonic() - started < 0.5
        assert body["fallback"] is True and len(fake_openai.chat_requests) == attempts
        metrics = http.get("/metrics").text
        assert 'advisor_llm_breaker_state{state="open"} 1.0' in metrics
        assert 'advisor_llm_calls_refused_total{reason="open"} 1.0' in metrics
        assert "advisor_llm_breaker_opened_total 1.0" in metrics

        time.sleep(ready["llm"]["retry_in_seconds"] + 0.05)  # the cool-down ends; the provider has recovered
        fake_openai.reset()
        fake_openai.reply_with(ANSWER)
        body = http.post("/v1/chat", json={"message": NOTEBOOK_QUESTION}).json()
        assert body["fallback"] is False and body["answer"] == ANSWER
        assert http.get("/readyz").json()["llm"]["breaker"] == "closed"


def test_readyz_without_an_llm_has_no_llm_details(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        body = http.get("/readyz").json()
        assert body["status"] == "ready" and "llm" not in body
        assert "advisor_llm_breaker_state" not in http.get("/metrics").text
