"""Reading a question: its kind, the term a definition asks about, and the corpus words its everyday
wording stands for. The questions are written as users write them."""

from __future__ import annotations

import pytest

from advisor.guidance.questions import read_question, section_material
from advisor.guidance.rules import load_rules

RULES = load_rules()


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("what is a model registry?", "definition"),
        ("ok so what's MLOps, in plain words", "definition"),
        ("What does 'shadow mode' mean?", "definition"),
        ("What's a 'feature store' anyway?", "definition"),
        ("What's the 'right' way to split our training data?", "how_to"),
        ("Can you give me a checklist for taking the pricing model live?", "checklist"),
        ("What should our monitoring cover?", "checklist"),
        ("Our churn scores keep drifting and the team doesn't trust them anymore", "symptom"),
        ("why is nobody in the call centre using the next-best-offer screen?", "symptom"),
        ("Should we build the OCR ourselves or buy a product?", "choice"),
        ("SageMaker vs our own Kubernetes for serving, which one?", "choice"),
        ("random split or time based split for our sales forecast?", "choice"),
        ("our scoring API times out every month-end. scale up or scale out?", "choice"),
        ("Should our fraud model be judged on recall or on money saved?", "choice"),
        ("Shadow, canary or blue-green: which should we use first?", "choice"),
        ("even with more replicas, what should the app do when the model is down or slow?", "how_to"),
        ("How much should we budget for the first year of a fraud model?", "estimate"),
        ("roughly how long until a pilot is live?", "estimate"),
        ("Has any hospital actually made readmission prediction work? examples?", "examples"),
        ("What could go wrong if we let the model auto-approve small claims?", "risks"),
        ("We plan to quantise the model to cut serving costs. What could go wrong?", "risks"),
        ("and how do we keep the cost from exploding as traffic grows?", "how_to"),
        ("How can we cut our GPU bill without slowing the API down?", "how_to"),
        ("How do we get our churn model out of the notebook and into production?", "how_to"),
        ("What is the best way to version training data?", "how_to"),
    ],
)
def test_the_kind_of_question(question: str, kind: str) -> None:
    assert read_question(question, RULES).kind == kind


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("what is a model registry?", "model registry"),
        ("sorry, newbie here - what is MLOps?", "MLOps"),
        ("what's a feature store, and do we need one?", "feature store"),
        ("What does data drift mean for a forecast?", "data drift"),
        # Quoted words are the term, not whoever said them.
        ("our chief nurse keeps saying 'automation bias'. what does she mean?", "automation bias"),
        ("What does “data poisoning” actually mean for a marketplace?", "data poisoning"),
        ("What's a 'feature store' anyway?", "feature store"),
    ],
)
def test_a_definition_names_its_term(question: str, term: str) -> None:
    assert read_question(question, RULES).term == term


def test_everyday_words_bring_the_corpus_words() -> None:
    assert "auto-scaling" in read_question("Traffic triples every Black Friday, help", RULES).expansion
    assert "drift" in read_question("the forecast quietly got less accurate over the year", RULES).expansion
    assert read_question("How do we write acceptance criteria?", RULES).expansion == ""


def test_where_to_start_questions_are_general() -> None:
    assert read_question("What should we do first?", RULES).general
    assert read_question("given our setup, where do we begin?", RULES).general
    assert not read_question("How do we choose a drift threshold for the PSI alert?", RULES).general


@pytest.mark.parametrize(
    ("section", "material"),
    [
        ("Warning signs", "symptom"),
        ("Threats specific to AI", "symptom"),
        ("Go-live checklist > Monitoring", "checklist"),
        ("First steps", "action"),
        ("Trade-offs", "tradeoff"),
        ("What good looks like", "good"),
        ("Related guidance", "related"),
        ("Overview", "other"),
    ],
)
def test_the_material_a_section_holds(section: str, material: str) -> None:
    assert section_material(section, RULES) == material
