"""Admission's rules on their own: each limit, its reason, and which callers it applies to."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.auth import LOCAL_PRINCIPAL, Principal
from advisor.chat.errors import InvalidRequest, NotReady, RateLimited
from advisor.chat.model import Caller, ChatRequest, SearchRequest
from tests.plugins.fast import FastContainer

API = Caller(Principal("key_api", "api", frozenset({"chat", "search"})), "api", "10.0.0.1")
WIDGET = Caller(Principal("key_widget", "widget", frozenset({"chat", "feedback"})), "widget", "10.0.0.2")
LOCAL = Caller(LOCAL_PRINCIPAL, "cli")


def refusal(call: object) -> str:
    assert callable(call)
    with pytest.raises(InvalidRequest) as refused:
        call()
    return refused.value.reason


def test_question_limits_depend_on_the_caller(fast_container: FastContainer) -> None:
    admission = fast_container(
        limits={"max_message_chars": 50}, widget={"max_message_chars": 20}
    ).chat.admission
    assert admission.chat(ChatRequest("  How do we start?  "), API).message == "How do we start?"
    assert refusal(lambda: admission.chat(ChatRequest(" " * 3), API)) == "message is empty"
    assert (
        refusal(lambda: admission.chat(ChatRequest("x" * 51), API))
        == "message is 51 characters; the limit is 50"
    )
    # A widget key gets the smaller of the two limits; the same text passes for other callers.
    assert refusal(lambda: admission.chat(ChatRequest("x" * 21), WIDGET)) == (
        "message is 21 characters; the limit is 20"
    )
    assert admission.chat(ChatRequest("x" * 21), API).message == "x" * 21
    assert refusal(lambda: admission.search(SearchRequest("y" * 51), LOCAL)) == (
        "query is 51 characters; the limit is 50"
    )


def test_initiatives_are_checked_in_one_way(fast_container: FastContainer) -> None:
    admission = fast_container(limits={"max_initiative_chars": 30}).chat.admission
    assert admission.initiative("  churn model  ") == "churn model"
    assert admission.initiative("   ") is None
    assert admission.initiative({"goal": "churn", "team": None}) == {"goal": "churn"}
    # The length is that of the text the composers see ("goal: ...; team: ..."), whatever the form.
    assert refusal(lambda: admission.initiative({"goal": "g" * 14, "team": "t" * 3})) == (
        "initiative is 31 characters; the limit is 30"
    )
    assert refusal(lambda: admission.initiative("i" * 31)) == "initiative is 31 characters; the limit is 30"
    assert refusal(lambda: admission.initiative({"goal": "churn", "budget": "1M"})) == (
        "initiative has unknown fields: budget; use goal, industry, stage, data, team, constraints"
    )
    assert refusal(lambda: admission.initiative({"goal": 3})) == "initiative fields must be text"  # type: ignore[dict-item]


def test_k_and_topics(fast_container: FastContainer) -> None:
    admission = fast_container(limits={"max_k": 8}).chat.admission
    assert admission.chat(ChatRequest("How do we start?", k=8, topics=("deployment",)), API).k == 8
    assert refusal(lambda: admission.k(9)) == "k is 9; the limit is 8"
    assert refusal(lambda: admission.k(0)) == "k is 0; it must be at least 1"
    assert refusal(lambda: admission.topics(["deployment", "zzz", "aaa"])) == "unknown topics: aaa, zzz"
    # Unsent k is the configured default, capped by the limit.
    assert admission.search(SearchRequest("canary"), LOCAL)[1] == 6


def test_no_index_is_not_ready(fast_container: FastContainer, tmp_path: Path) -> None:
    chat = fast_container(fresh_vectors=True, data_dir=tmp_path / "empty").chat
    with pytest.raises(NotReady) as refused:
        chat.start_turn(ChatRequest("How do we start?"), API)
    assert refused.value.reason == "no index yet: run `advisor ingest` first"


def test_widget_callers_are_rate_limited_per_address_and_conversation(fast_container: FastContainer) -> None:
    widget = {"rate_limit_per_ip": "3/minute", "rate_limit_per_conversation": "2/minute"}
    admission = fast_container(widget=widget).chat.admission
    admission.chat(ChatRequest("one", conversation_id="c1"), WIDGET)
    admission.chat(ChatRequest("two", conversation_id="c1"), WIDGET)
    with pytest.raises(RateLimited) as per_conversation:
        admission.chat(ChatRequest("three", conversation_id="c1"), WIDGET)
    assert per_conversation.value.reason.startswith("too many requests (2 per 1 minute); retry in ")
    assert 1 <= per_conversation.value.retry_after <= 60
    with pytest.raises(RateLimited, match=r"\(3 per 1 minute\)"):  # that address has used its three
        admission.chat(ChatRequest("four", conversation_id="c2"), WIDGET)
    other_address = Caller(WIDGET.principal, "widget", "10.0.0.99")
    admission.chat(ChatRequest("five"), other_address)
    for _ in range(10):  # keys other than widget keys have no rate limit
        admission.chat(ChatRequest("six", conversation_id="c1"), API)
