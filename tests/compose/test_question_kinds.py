"""Each kind of question gets the matching kind of material: a checklist question gets checklist
items, a symptom gets warning signs and remedies (never a sign as a step), a choice gets trade-offs,
an estimate gets figures, a definition opens with the definition. The passages are cut from the
bundled corpus as ingest cuts them, so these run without an index."""

from __future__ import annotations

import re

import pytest

from advisor.compose.extractive import Composition, compose_extractive
from advisor.compose.items import extract_items, is_imperative
from advisor.guidance.questions import section_material
from advisor.guidance.rules import GuidanceRules, load_rules
from advisor.types import Passage
from tests.compose.corpus_passages import corpus_passages

RULES = load_rules()
_CITED_LINE = re.compile(r"^(?P<lead>- |\d+\. )?(?P<body>.+?) \[(?P<n>\d+)\]$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _lines(composition: Composition) -> list[tuple[str, str, Passage]]:
    """(list marker, text, cited passage) of every cited line."""
    found = []
    for line in composition.text.splitlines():
        match = _CITED_LINE.match(line.strip())
        if match:
            found.append((match["lead"] or "", match["body"], composition.passages[int(match["n"]) - 1]))
    return found


def _body(composition: Composition) -> Composition:
    """The note without its closing "Worth knowing" points (further material of any kind)."""
    return Composition(composition.text.split("**Worth knowing:**", 1)[0], composition.passages)


def _material(passage: Passage, rules: GuidanceRules = RULES) -> str:
    return section_material(passage.section, rules)


def _words(composition: Composition) -> int:
    return len(composition.text.split())


def test_a_checklist_question_gets_checklist_items_across_its_sections() -> None:
    passages = corpus_passages("production-readiness-checklist", "release-strategies")
    answer = compose_extractive(
        "We launch the claims triage model next month. What do we need to tick off before go-live?", passages
    )
    bullets = [(text, p) for lead, text, p in _lines(answer) if lead == "- "]
    assert len(bullets) >= 5, answer.text
    assert all(_material(p) in ("checklist", "good") for _, p in bullets), answer.text
    # Breadth: the items come from several parts of the checklist, not one.
    assert len({p.section for _, p in bullets}) >= 4, answer.text
    assert "warning sign" not in answer.text.lower()
    assert _words(answer) <= 250


def test_a_bold_lead_that_ends_its_sentence_stays_a_headline() -> None:
    passages = corpus_passages(
        "production-readiness-checklist", sections=("go-live checklist > scalability",)
    )
    items = {item.headline: item for item in extract_items(passages, RULES)}
    # A short lead is kept as a label for its point ("Latency target met: p95 ..."), never merged.
    assert "Latency target met:" in items, list(items)
    assert items["Latency target met:"].detail.startswith("p95 or p99 latency"), items
    assert not any(h.startswith("Latency target met p95") for h in items)


def test_a_symptom_gets_the_matching_sign_and_actions_never_a_sign_as_a_step() -> None:
    passages = corpus_passages("driving-user-adoption", "stakeholder-engagement")
    answer = compose_extractive(
        "Six months after rollout the dispatchers still keep their own spreadsheets instead of using the "
        "routing tool. What's going wrong?",
        passages,
    )
    lines = _lines(answer)
    steps = [(text, p) for lead, text, p in lines if lead[:1].isdigit()]
    assert steps, answer.text
    assert all(_material(p) != "symptom" for _, p in steps), answer.text
    assert all(is_imperative(_BOLD.match(text).group(1)) for text, _ in steps if _BOLD.match(text)), (
        answer.text
    )
    signs = [text for lead, text, p in lines if _material(p) == "symptom"]
    assert signs and "spreadsheet" in signs[0].lower(), answer.text


def test_a_choice_opens_with_a_trade_off_and_weighs_the_options() -> None:
    passages = corpus_passages("build-versus-buy", "working-with-vendors")
    answer = compose_extractive(
        "Should we build our own invoice-reading model or buy one of the vendor products?", passages
    )
    lines = _lines(answer)
    opening = lines[0]
    assert opening[0] == "" and _material(opening[2]) != "action", answer.text
    assert "**Weigh:**" in answer.text, answer.text
    weighed = [p for lead, _, p in _lines(_body(answer)) if lead == "- "]
    assert weighed and all(_material(p) in ("tradeoff", "good", "other", "cost") for p in weighed)


def test_an_estimate_is_built_on_figures() -> None:
    passages = corpus_passages(
        "building-an-ai-roadmap-and-budget", "cost-control-at-scale", "estimating-value-and-roi"
    )
    answer = compose_extractive(
        "Ballpark, what should we budget each year to keep a model running once it's live?", passages
    )
    assert answer.text.startswith("Figures from the guidance"), answer.text
    figures = [text for lead, text, _ in _lines(_body(answer)) if lead == "- "]
    assert len(figures) >= 2 and all(re.search(r"\d", text) for text in figures), answer.text
    steps = [text for lead, text, _ in _lines(_body(answer)) if lead[:1].isdigit()]
    assert all(is_imperative(_BOLD.match(t).group(1)) for t in steps if _BOLD.match(t)), answer.text


@pytest.mark.parametrize(
    ("question", "doc", "opening"),
    [
        (
            "what's a feature store, and do we actually need one?",
            "feature-engineering-and-feature-stores",
            "A feature store is",
        ),
        ("sorry, newbie here - what is MLOps?", "mlops-maturity-stages", "MLOps is"),
        ("What does a data contract mean in practice?", "data-contracts", "A data contract is"),
    ],
)
def test_a_definition_question_opens_with_the_definition(question: str, doc: str, opening: str) -> None:
    answer = compose_extractive(question, corpus_passages(doc))
    assert answer.text.startswith(opening), answer.text


def test_a_how_to_question_gets_actions_first() -> None:
    passages = corpus_passages("from-notebook-to-production", "mlops-maturity-stages")
    answer = compose_extractive(
        "How do we get our pricing model from Jupyter into something the shop can call?", passages
    )
    assert answer.text.startswith("Start here: "), answer.text
    steps = [(text, p) for lead, text, p in _lines(answer) if lead != "- "]
    assert len(steps) >= 4, answer.text
    for text, passage in steps:
        headline = _BOLD.search(text)
        assert headline, text
        # Advice outside a steps section counts only when it opens with an advice verb.
        assert is_imperative(headline.group(1), strict=_material(passage) != "action"), text
        assert not headline.group(1).lower().startswith("from "), text
    assert "**Worth knowing:**" in answer.text, answer.text


def test_a_risk_question_lists_risks_then_how_to_reduce_them() -> None:
    passages = corpus_passages("securing-ai-systems", "ai-governance-and-risk-management")
    answer = compose_extractive(
        "What could go wrong security-wise if we put an LLM chatbot on our website?", passages
    )
    assert answer.text.startswith("The main risks to watch:"), answer.text
    assert "**How to reduce them:**" in answer.text, answer.text


def test_an_examples_question_gets_examples() -> None:
    passages = corpus_passages("ai-in-retail", "lessons-from-industry-examples")
    answer = compose_extractive(
        "Has any retailer actually made demand forecasting work? Examples please", passages
    )
    assert answer.text.startswith("Examples from the guidance:"), answer.text


@pytest.mark.parametrize(
    "question",
    [
        "We launch the claims triage model next month. What do we need to tick off before go-live?",
        "How do we get our pricing model from Jupyter into something the shop can call?",
        "Six months after rollout the dispatchers still ignore the routing tool. Why?",
        "Should we build our own invoice-reading model or buy one?",
    ],
)
def test_no_advice_repeats_and_the_note_stays_short(question: str) -> None:
    passages = corpus_passages(
        "production-readiness-checklist",
        "from-notebook-to-production",
        "driving-user-adoption",
        "build-versus-buy",
    )
    answer = compose_extractive(question, passages)
    headlines = [h.lower().rstrip(".") for h in _BOLD.findall(answer.text) if not h.endswith(":")]
    assert len(headlines) == len(set(headlines)), answer.text
    assert _words(answer) <= 250, _words(answer)
