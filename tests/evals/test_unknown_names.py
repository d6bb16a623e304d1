"""The in-scope rule the evaluation led to: a question naming something the corpus never mentions
(a product, a place, a law) is out of scope unless retrieval matches it closely."""

from __future__ import annotations

from typing import Any

from advisor.container import Container
from advisor.retrieval.retriever import unknown_names

VOCABULARY = sorted({"erp", "european", "gdpr", "model", "the", "how", "data", "netflix"})


def test_unknown_names_ignores_known_words_figures_and_sentence_starts() -> None:
    assert unknown_names("How much does AWS SageMaker charge?", VOCABULARY) == ["AWS", "SageMaker"]
    assert unknown_names("Does GDPR apply in Europe? We have two ERPs.", VOCABULARY) == []
    assert unknown_names("What is Brazil's LGPD fine for GPT-4 in 2023?", VOCABULARY) == ["Brazil's", "LGPD"]
    assert unknown_names("How many data scientists did Netflix employ?", VOCABULARY) == []
    assert unknown_names("Quick question. Model drift?", VOCABULARY) == []


def test_named_but_unknown_subjects_are_out_of_scope(indexed_settings: Any) -> None:
    retriever = Container(indexed_settings()).retriever
    vendor = retriever.retrieve_passages("What does Databricks charge per DBU for model serving?")
    assert not vendor.in_scope and vendor.best_similarity >= indexed_settings().retrieval.min_similarity
    # A known subject with the same shape of question stays in scope.
    assert retriever.retrieve_passages("What does a feature store cost to run for model serving?").in_scope
