"""The scope rule: between the relevance floor and a clear match, a question must mention an AI,
model or data system; one person's own affairs are never in scope."""

from __future__ import annotations

import pytest

from advisor.guidance.questions import within_scope
from advisor.guidance.rules import load_rules

RULES = load_rules()
FLOOR = 0.38


@pytest.mark.parametrize(
    "question",
    [
        "The store managers overrule the replenishment tool's orders every Monday. Why?",
        "Our claims triage model flags too many cases for the handlers. What now?",
        "We piloted the chatbot in two branches; how do we roll it out?",
        "Half our sensor data is missing at night. Can we still predict breakdowns?",
    ],
)
def test_a_middling_match_that_names_a_system_is_in_scope(question: str) -> None:
    assert within_scope(question, 0.45, FLOOR, RULES)


@pytest.mark.parametrize(
    "question",
    [
        "How should we organise the office Christmas party?",
        "What is a fair notice period for a warehouse supervisor?",
    ],
)
def test_a_middling_match_without_a_system_is_not(question: str) -> None:
    assert not within_scope(question, 0.45, FLOOR, RULES)
    assert within_scope(question, RULES.scope.clear_similarity + 0.01, FLOOR, RULES)  # unless clear


def test_below_the_floor_nothing_is_in_scope() -> None:
    assert not within_scope("Our churn model keeps drifting", FLOOR - 0.01, FLOOR, RULES)


@pytest.mark.parametrize(
    "question",
    ["Can an AI app fix my holiday photos?", "How can I become a machine learning engineer at 40?"],
)
def test_one_person_s_own_affairs_are_out_of_scope_even_when_close(question: str) -> None:
    assert not within_scope(question, 0.7, FLOOR, RULES)


def test_a_team_question_is_not_personal() -> None:
    assert within_scope("How can I help my team become better at shipping models?", 0.45, FLOOR, RULES)
