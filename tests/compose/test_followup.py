"""Follow-ups without an LLM: the heuristic rewrite, alone and through the answer service.

The plumbing through the service (rewrite, retrieval with the rewrite, storage) runs on a fast
container (tests/plugins/fast.py); that the rewrite leads the real model's retrieval to the step's
document, and that the bare follow-up is out of scope for it, is the full tier's (extractive_container).
"""

from __future__ import annotations

import pytest

from advisor.compose.extractive import compose_extractive
from advisor.compose.followup import needs_context, rewrite_followup
from advisor.container import Container
from advisor.types import Turn
from tests.chat.helpers import NOTEBOOK_QUESTION, NUMBERED_STEP, ask, retrieved
from tests.plugins.fast import FastContainer

ANSWER = (
    "Start here: refactor notebook logic into a tested package [1].\n\n"
    "1. **Refactor notebook logic into a tested package.** Separate the modules. [1]\n"
    "2. **Ship a minimal version through the full path.** A simple model end to end. [1]\n"
    "3. **Add a model registry.** Record every release. [2]"
)
HISTORY = [Turn("user", NOTEBOOK_QUESTION), Turn("assistant", ANSWER)]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Tell me more", True),
        ("How long does that usually take for a team of five people?", True),
        ("What about the second step?", True),
        ("How do we choose metrics for a fraud detection model before building anything?", False),
    ],
)
def test_needs_context(question: str, expected: bool) -> None:
    assert needs_context(question) is expected


def test_a_first_question_is_left_alone() -> None:
    assert rewrite_followup("What about the second step?", []) == "What about the second step?"


def test_a_standalone_question_is_left_alone() -> None:
    question = "How do we choose metrics for a fraud detection model before building anything?"
    assert rewrite_followup(question, HISTORY) == question


def test_a_vague_follow_up_gets_the_previous_question() -> None:
    assert rewrite_followup("How long does that take?", HISTORY) == (
        f"How long does that take? (context: {NOTEBOOK_QUESTION})"
    )


@pytest.mark.parametrize(
    "question",
    ["What about the second step?", "Tell me more about step 2", "Expand on #2", "And number 2?"],
)
def test_a_step_reference_gets_that_steps_headline(question: str) -> None:
    assert rewrite_followup(question, HISTORY) == (
        f"{question} (about: Ship a minimal version through the full path.) (context: {NOTEBOOK_QUESTION})"
    )


def test_a_reference_to_a_step_that_does_not_exist_gets_only_the_context() -> None:
    assert rewrite_followup("What about the sixth step?", HISTORY) == (
        f"What about the sixth step? (context: {NOTEBOOK_QUESTION})"
    )


def test_the_latest_exchange_is_the_context() -> None:
    history = [*HISTORY, Turn("user", "How do we hire ML engineers?"), Turn("assistant", "Hire well [1].")]
    assert (
        rewrite_followup("And then what?", history)
        == "And then what? (context: How do we hire ML engineers?)"
    )


def test_a_follow_up_through_the_service_is_rewritten_about_the_step_it_names(
    fast_container: FastContainer,
) -> None:
    container = fast_container()
    first = ask(container, NOTEBOOK_QUESTION)
    steps = {int(m.group(1)): m.group(2) for m in NUMBERED_STEP.finditer(first["answer"])}
    follow_up = "Tell me more about the second step"

    second = ask(container, follow_up, conversation_id=first["conversation_id"])
    standalone = f"{follow_up} (about: {steps[2]}) (context: {NOTEBOOK_QUESTION})"
    assert second["standalone_question"] == standalone
    assert second["conversation_id"] == first["conversation_id"]
    # Retrieval used the rewrite (which finds other passages than the bare follow-up); the composer
    # works from the passages found for it.
    bare, rewritten = (container.retriever.retrieve_passages(q).passages for q in (follow_up, standalone))
    assert [p.chunk_id for p in bare] != [p.chunk_id for p in rewritten]
    passages = retrieved(container, standalone, said=[NOTEBOOK_QUESTION], asked=follow_up)
    composed = compose_extractive(follow_up, passages, said=[NOTEBOOK_QUESTION], standalone=standalone)
    assert second["answer"] == composed.text
    assert [c["doc_id"] for c in second["citations"]] == [p.doc_id for p in composed.passages]
    stored = container.conversations.list_messages(first["conversation_id"])
    assert [(m.role, m.content) for m in stored] == [
        ("user", NOTEBOOK_QUESTION),
        ("assistant", first["answer"]),
        ("user", follow_up),  # the team's own words are stored, the rewrite beside the answer
        ("assistant", second["answer"]),
    ]
    assert stored[-1].standalone_question == standalone


def test_a_follow_up_through_the_service_is_answered_about_the_step_it_names(
    extractive_container: Container,
) -> None:
    first = ask(extractive_container, NOTEBOOK_QUESTION)
    steps = {int(m.group(1)): (m.group(2), m.group(4)) for m in NUMBERED_STEP.finditer(first["answer"])}
    _, markers = steps[2]

    second = ask(
        extractive_container, "Tell me more about the second step", conversation_id=first["conversation_id"]
    )
    assert second["abstained"] is False and second["citations"], second
    # The answer draws on the document behind step 2 of the first answer.
    step_doc = next(c["doc_id"] for c in first["citations"] if f"[{c['n']}]" in markers)
    assert step_doc in {c["doc_id"] for c in second["citations"]}


def test_the_same_follow_up_without_a_conversation_is_out_of_scope(extractive_container: Container) -> None:
    # The control for the test above: it is the rewrite that makes the follow-up answerable.
    result = ask(extractive_container, "Tell me more about the second step")
    assert result["abstained"] is True
    assert result["standalone_question"] == "Tell me more about the second step"
