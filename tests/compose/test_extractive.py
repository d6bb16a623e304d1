"""The extractive composer over passages really retrieved from the bundled corpus."""

from __future__ import annotations

import re

import pytest

from advisor.compose.extractive import Composition, compose_extractive, topic_label
from advisor.compose.grounding import build_citations, cited_numbers
from advisor.container import Container
from advisor.types import Passage
from tests.chat.helpers import (
    DRIFT_QUESTION,
    HIRING_QUESTION,
    NOTEBOOK_QUESTION,
    NUMBERED_STEP,
    SECRETS_QUESTION,
    VALUE_QUESTION,
    ask,
    retrieved,
)

ORDINARY_QUESTIONS = [NOTEBOOK_QUESTION, DRIFT_QUESTION, VALUE_QUESTION, HIRING_QUESTION, SECRETS_QUESTION]
SIGNS_QUESTION = "What are the warning signs that our AI project is failing?"
_SYMPTOM_SECTION = re.compile(r"warning signs|\bsigns\b|pitfall|mistake|anti-pattern|symptom", re.IGNORECASE)
_HEADER = re.compile(r"^\*\*(.+)\*\*$")


def _compose(container: Container, question: str, initiative: str | None = None) -> Composition:
    return compose_extractive(question, retrieved(container, question), initiative)


def _plain(text: str) -> str:
    return " ".join(text.replace("**", "").split())


def _steps(composition: Composition) -> list[tuple[int, str, str, list[int]]]:
    """(number, headline, detail, cited numbers) of each numbered recommendation."""
    return [
        (int(m.group(1)), m.group(2), m.group(3).strip(), cited_numbers(m.group(4)))
        for m in NUMBERED_STEP.finditer(composition.text)
    ]


@pytest.mark.parametrize("question", ORDINARY_QUESTIONS)
def test_opens_directly_then_gives_three_to_six_cited_recommendations(
    extractive_container: Container, question: str
) -> None:
    composition = _compose(extractive_container, question)
    opening, _, rest = composition.text.partition("\n\n")
    assert "\n" not in opening and opening.startswith("Start here: "), composition.text
    assert re.search(r"\[1\]\.", opening), opening

    steps = _steps(composition)
    assert 3 <= len(steps) <= 6, composition.text
    assert [s[0] for s in steps] == list(range(1, len(steps) + 1))
    # Every numbered line is a recommendation that ends with its citations.
    numbered_lines = [line for line in rest.splitlines() if re.match(r"^\d+\. ", line)]
    assert len(numbered_lines) == len(steps), composition.text
    # The opening names the first recommendation.
    assert steps[0][1].rstrip(".").lower() in opening.lower()


@pytest.mark.parametrize("question", ORDINARY_QUESTIONS)
def test_every_recommendation_is_quoted_from_the_passage_it_cites(
    extractive_container: Container, question: str
) -> None:
    passages = retrieved(extractive_container, question)
    composition = compose_extractive(question, passages)
    # Cited passages are some of those retrieved, numbered 1..n in order of first citation.
    assert composition.passages and all(p in passages for p in composition.passages)
    assert cited_numbers(composition.text) == list(range(1, len(composition.passages) + 1))
    citations = build_citations(composition.text, composition.passages)
    assert [c.n for c in citations] == list(range(1, len(composition.passages) + 1))

    for _, headline, detail, numbers in _steps(composition):
        assert len(numbers) == 1
        source = _plain(composition.passages[numbers[0] - 1].text)
        # The headline may be completed with the first words of its detail, so compare a prefix.
        assert _plain(headline).rstrip(".")[:40] in source, (headline, source)
        if detail:
            assert _plain(detail).rstrip(".…")[:60] in source, (detail, source)


def test_recommendations_are_grouped_by_topic_when_there_are_several(extractive_container: Container) -> None:
    # Passages from two subjects, so the answer spans topics whatever the corpus's exact wording.
    drift = "How do we detect data drift and decide when to retrain?"
    passages = (
        retrieved(extractive_container, NOTEBOOK_QUESTION)[:3] + retrieved(extractive_container, drift)[:3]
    )
    composition = compose_extractive(f"{NOTEBOOK_QUESTION} {drift}", passages)
    lines = composition.text.splitlines()
    headers = [m.group(1) for line in lines if (m := _HEADER.match(line))]
    assert len(headers) >= 2, composition.text
    assert len(set(headers)) == len(headers)  # each topic is one contiguous group

    # Each step sits under the label of its cited passage's primary topic.
    current = ""
    for line in lines:
        if header := _HEADER.match(line):
            current = header.group(1)
        elif step := NUMBERED_STEP.match(line):
            passage = composition.passages[cited_numbers(step.group(4))[0] - 1]
            assert topic_label(passage.topics[0]) == current, (line, passage.topics)
    covers = lines[0].split(" covers ", 1)[1]
    assert all(header.lower() in covers for header in headers), (headers, lines[0])


def test_a_single_topic_answer_has_no_group_headers(extractive_container: Container) -> None:
    composition = _compose(extractive_container, "How do we monitor drift?")
    topics = {composition.passages[s[3][0] - 1].topics[0] for s in _steps(composition)}
    assert topics == {"monitoring"}, composition.text
    assert not any(_HEADER.match(line) for line in composition.text.splitlines())
    assert "covers monitoring." in composition.text.splitlines()[0]


@pytest.mark.parametrize("question", [NOTEBOOK_QUESTION, HIRING_QUESTION])
def test_the_same_input_gives_the_same_text(extractive_container: Container, question: str) -> None:
    first = _compose(extractive_container, question)
    again = _compose(extractive_container, question)  # retrieved afresh
    assert again.text == first.text and again.passages == first.passages
    passages = retrieved(extractive_container, question)
    assert compose_extractive(question, passages).text == compose_extractive(question, list(passages)).text


@pytest.mark.parametrize("question", ORDINARY_QUESTIONS)
def test_an_ordinary_question_gets_no_warning_signs(extractive_container: Container, question: str) -> None:
    composition = _compose(extractive_container, question)
    sections = [composition.passages[s[3][0] - 1].section for s in _steps(composition)]
    assert not [s for s in sections if _SYMPTOM_SECTION.search(s)], sections


def test_a_question_about_warning_signs_may_get_them(extractive_container: Container) -> None:
    # The control for the test above: the symptom filter depends on the question.
    passages = retrieved(extractive_container, SIGNS_QUESTION)
    assert any(_SYMPTOM_SECTION.search(p.section) for p in passages)
    composition = compose_extractive(SIGNS_QUESTION, passages)
    sections = [composition.passages[s[3][0] - 1].section for s in _steps(composition)]
    assert any(_SYMPTOM_SECTION.search(s) for s in sections), composition.text


def test_an_initiative_leads_the_opening(extractive_container: Container) -> None:
    initiative = "A churn model for a telecom, two data scientists, no MLOps yet"
    composition = _compose(extractive_container, NOTEBOOK_QUESTION, initiative)
    assert composition.text.startswith(f"For your initiative ({initiative}), start here: ")
    long = "churn " * 60
    opening = _compose(extractive_container, NOTEBOOK_QUESTION, long).text.splitlines()[0]
    assert "…), start here: " in opening and len(opening) < 400


def test_no_passages_compose_nothing() -> None:
    assert compose_extractive(NOTEBOOK_QUESTION, []) == Composition("", [])


def _prose(doc_id: str, text: str, score: float) -> Passage:
    return Passage(
        chunk_id=f"{doc_id}-1",
        doc_id=doc_id,
        title=doc_id.capitalize(),
        section="Overview",
        topics=("deployment",),
        text=text,
        source=f"{doc_id}.md",
        score=score,
        similarity=score,
    )


def test_prose_passages_still_give_cited_sentences() -> None:
    passages = [
        _prose(
            "release",
            "Teams should agree a release checklist before the first deployment of any model. "
            "A shadow deployment lets the new model score live traffic without affecting customers. "
            "This document explains the deployment process in more detail for new readers.",
            0.6,
        ),
        _prose(
            "rollback",
            "Rollback plans must be rehearsed so that a failed deployment can be undone within minutes. "
            "Canary releases expose a new model to a small share of traffic before everyone sees it.",
            0.5,
        ),
    ]
    composition = compose_extractive("How should we deploy a model safely?", passages)
    steps = _steps(composition)
    assert 3 <= len(steps) <= 4, composition.text
    assert composition.passages == passages  # both cited, the more relevant first
    assert "This document" not in composition.text
    for _, headline, _, numbers in steps:
        assert headline.rstrip(".") in passages[numbers[0] - 1].text


def test_the_service_answers_with_the_composition(extractive_container: Container) -> None:
    result = ask(extractive_container, NOTEBOOK_QUESTION)
    composition = _compose(extractive_container, NOTEBOOK_QUESTION)
    assert result["answer"] == composition.text
    assert (result["grounded"], result["abstained"], result["fallback"]) == (True, False, False)
    assert [(c["n"], c["title"], c["section"]) for c in result["citations"]] == [
        (n, p.title, p.section) for n, p in enumerate(composition.passages, start=1)
    ]
