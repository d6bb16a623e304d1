"""A conversation's readiness assessment in its answers (fast tier): once the conversation has one,
answers name its weak topics with the team's own words; before, and in other conversations, not."""

from __future__ import annotations

from advisor.auth import LOCAL_PRINCIPAL
from advisor.chat.model import Caller, ChatRequest
from tests.plugins.fast import FastContainer

CALLER = Caller(LOCAL_PRINCIPAL, "api")


def test_answers_in_an_assessed_conversation_use_its_weak_topics(fast_container: FastContainer) -> None:
    container = fast_container()
    chat = container.chat
    first = chat.ask(ChatRequest("We want our churn model live this quarter."), CALLER)
    before = chat.ask(ChatRequest("Where should we start?", first.conversation_id), CALLER)
    assert "readiness assessment" not in before.answer

    container.assessments.create(
        "churn model, data in three CRMs, two data scientists, no MLOps", {}, first.conversation_id, CALLER
    )
    after = chat.ask(ChatRequest("Where should we start?", first.conversation_id), CALLER)
    assert "Your readiness assessment rates **infrastructure** not ready (1 of 4)" in after.answer
    assert "because you said “no MLOps”" in after.answer
    assert after.citations  # still a cited answer

    other = chat.ask(ChatRequest("We want a fraud model."), CALLER)
    elsewhere = chat.ask(ChatRequest("Where should we start?", other.conversation_id), CALLER)
    assert "readiness assessment" not in elsewhere.answer
