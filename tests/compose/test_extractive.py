"""The extractive composer over passages really retrieved from the bundled corpus."""

from __future__ import annotations

import re

import pytest

from advisor.compose.extractive import Composition, compose_extractive
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
from tests.compose.corpus_passages import written_passage

ORDINARY_QUESTIONS = [NOTEBOOK_QUESTION, DRIFT_QUESTION, VALUE_QUESTION, HIRING_QUESTION, SECRETS_QUESTION]
HOW_TO_NOTEBOOK = "How do we get our churn model from a notebook into production?"
SIGNS_QUESTION = "What are the warning signs that our AI project is failing?"
_SYMPTOM_SECTION = re.compile(r"warning signs|\bsigns\b|pitfall|mistake|anti-pattern|symptom", re.IGNORECASE)


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


HOW_TO_QUESTIONS = [HOW_TO_NOTEBOOK, DRIFT_QUESTION, VALUE_QUESTION, HIRING_QUESTION, SECRETS_QUESTION]


@pytest.mark.parametrize("question", HOW_TO_QUESTIONS)
def test_opens_with_the_first_action_then_numbers_the_rest(
    extractive_container: Container, question: str
) -> None:
    composition = _compose(extractive_container, question)
    opening = composition.text.partition("\n\n")[0]
    assert "\n" not in opening and opening.startswith("Start here: **"), composition.text
    assert re.search(r"\[1\]$", opening), opening
    steps = _steps(composition)
    assert 2 <= len(steps) <= 6, composition.text
    assert [s[0] for s in steps] == list(range(2, len(steps) + 2))  # the opening is step 1
    # The opening's advice is not repeated as a step.
    first = re.match(r"Start here: \*\*(.+?)\*\*", opening).group(1).lower()
    assert all(s[1].lower() != first for s in steps)
    assert len(composition.text.split()) <= 250


@pytest.mark.parametrize("question", ORDINARY_QUESTIONS)
def test_every_recommendation_is_quoted_from_the_passage_it_cites(
    extractive_container: Container, question: str
) -> None:
    passages = retrieved(extractive_container, question)
    composition = compose_extractive(question, passages)
    # Cited passages are some of those retrieved, numbered 1..n in order of first citation.
    # (compared by chunk: a cited passage is the sanitised copy of one retrieved)
    retrieved_ids = {p.chunk_id for p in passages}
    assert composition.passages and all(p.chunk_id in retrieved_ids for p in composition.passages)
    assert cited_numbers(composition.text) == list(range(1, len(composition.passages) + 1))
    citations = build_citations(composition.text, composition.passages)
    assert [c.n for c in citations] == list(range(1, len(composition.passages) + 1))

    for _, headline, detail, numbers in _steps(composition):
        assert len(numbers) == 1
        source = _plain(composition.passages[numbers[0] - 1].text)
        # The headline may be completed with the first words of its detail, so compare a prefix.
        assert _plain(headline).rstrip(".:")[:40] in source, (headline, source)
        if detail:
            assert _plain(detail).rstrip(".…")[:60] in source, (detail, source)


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


def test_a_question_about_warning_signs_lists_them_but_never_as_steps(
    extractive_container: Container,
) -> None:
    # The control for the test above: asked for signs, the answer lists them, as signs.
    passages = retrieved(extractive_container, SIGNS_QUESTION)
    assert any(_SYMPTOM_SECTION.search(p.section) for p in passages)
    composition = compose_extractive(SIGNS_QUESTION, passages)
    assert composition.text.startswith("Warning signs to look for:"), composition.text
    bullets = [line for line in composition.text.splitlines() if line.startswith("- ")]
    cited = [composition.passages[cited_numbers(line)[0] - 1].section for line in bullets]
    assert any(_SYMPTOM_SECTION.search(s) for s in cited), composition.text
    steps = [composition.passages[s[3][0] - 1].section for s in _steps(composition)]
    assert steps and not [s for s in steps if _SYMPTOM_SECTION.search(s)], composition.text


def test_the_initiative_s_facts_each_get_a_line_in_the_team_s_words(extractive_container: Container) -> None:
    initiative = "Telecom churn model, data in three CRMs, two data scientists, no MLOps yet"
    passages = retrieved(extractive_container, "Where do we start?", said=[initiative])
    composition = compose_extractive("Where do we start?", passages, initiative)
    situation = composition.text.split("**For your situation:**", 1)[1]
    for said in ("data in three CRMs", "two data scientists", "no MLOps yet"):
        line = next(line for line in situation.splitlines() if said in line)
        assert re.search(r"\*\*You mentioned .+?:\*\* \S.+ \[\d+\]$", line), line
    # The opening does not just echo the initiative back.
    assert initiative not in composition.text
    long = "churn " * 60 + ", data in three CRMs"
    text = _compose(extractive_container, "Where do we start?", long).text
    assert "churn churn churn churn" not in text


def test_a_fact_s_line_bears_on_the_question_asked(extractive_container: Container) -> None:
    """A stated fact gets a line only with advice on what was asked: "regulated bank" under a
    question about monitoring is not answered with an acceptable-use policy for AI tools."""
    initiative = "Fraud detection, real-time scoring, regulated bank"
    question = "What should our monitoring cover?"
    passages = retrieved(extractive_container, question, said=[initiative])
    composition = compose_extractive(question, passages, initiative)
    situation = composition.text.partition("**For your situation:**")[2].partition("\n\n")[0]
    for line in filter(None, situation.splitlines()):
        advice = line.partition(":**")[2].lower()
        assert re.search(r"monitor|alert|latenc|drift|fallback|circuit|timeout", advice), composition.text


def test_what_a_practice_should_cover_is_answered_with_the_parts_the_guidance_lists(
    extractive_container: Container,
) -> None:
    """Retrieval finds "The four layers to monitor" by its introduction; the answer lists the layers
    (its numbered subsections), each named and cited, not generic first steps from other documents."""
    question = "What should our monitoring cover?"
    composition = _compose(extractive_container, question)
    checks = composition.text.partition("\n\n")[0]
    assert checks.startswith("Check each of these"), composition.text
    layers = ("Service health", "Input data", "Predictions", "Outcomes and business KPIs")
    for layer in layers:
        assert re.search(rf"^- \*\*{layer}:\*\* .+ \[\d+\]$", checks, re.MULTILINE), composition.text
    # In the guidance's order, whichever the choice took first.
    assert sorted(layers, key=checks.index) == list(layers), composition.text
    cited_sections = {p.section for p in composition.passages}
    assert "The four layers to monitor > 2. Input data" in cited_sections, cited_sections


def test_no_passages_compose_nothing() -> None:
    assert compose_extractive(NOTEBOOK_QUESTION, []) == Composition("", [])


def _prose(doc_id: str, text: str, score: float) -> Passage:
    return written_passage("Overview", text, doc_id, score)


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
    lines = [line for line in composition.text.splitlines() if re.search(r"\[\d+\]$", line)]
    assert 3 <= len(lines) <= 4, composition.text
    assert composition.passages == passages  # both cited, the more relevant first
    assert "This document" not in composition.text
    for line in lines:
        number = int(re.search(r"\[(\d+)\]$", line).group(1))
        sentence = re.sub(r"^(?:Start here: |- |\d+\. )", "", line).rsplit(" [", 1)[0].replace("**", "")
        assert sentence.rstrip(".")[1:] in passages[number - 1].text, line


def test_the_service_answers_with_the_composition(extractive_container: Container) -> None:
    result = ask(extractive_container, NOTEBOOK_QUESTION)
    composition = _compose(extractive_container, NOTEBOOK_QUESTION)
    assert result["answer"] == composition.text
    assert (result["grounded"], result["abstained"], result["fallback"]) == (True, False, False)
    assert [(c["n"], c["title"], c["section"]) for c in result["citations"]] == [
        (n, p.title, p.section) for n, p in enumerate(composition.passages, start=1)
    ]
