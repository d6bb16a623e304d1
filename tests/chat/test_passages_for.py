"""What the composer works from, gathered around what retrieval found (real model and index)."""

from __future__ import annotations

from advisor.chat.pipeline import EXPANSION_PASSAGES, passages_for
from advisor.container import Container
from advisor.guidance.questions import read_question

CFO_QUESTION = "the CFO thinks the range between our low and high case is too wide. what now?"


def test_everyday_wording_brings_the_passages_of_the_corpus_words_it_stands_for(
    extractive_container: Container,
) -> None:
    """ "The CFO" stands for ROI and the business case: passages found for those words join the
    material, below everything retrieval found, and from documents it did not find."""
    reading = read_question(CFO_QUESTION, extractive_container.rules)
    assert "ROI" in reading.expansion
    found = extractive_container.retriever.retrieve_passages(CFO_QUESTION).passages
    plain = passages_for(extractive_container.retriever, found, (), reading.general)
    gathered = passages_for(extractive_container.retriever, found, (), reading.general, reading.expansion)
    assert gathered[: len(plain)] == plain
    added = gathered[len(plain) :]
    assert 1 <= len(added) <= EXPANSION_PASSAGES
    assert not {p.doc_id for p in added} & {p.doc_id for p in found}
    assert "estimating-value-and-roi" in {p.doc_id for p in added}, [p.doc_id for p in found]


def test_a_question_in_the_corpus_s_own_words_brings_nothing_more(extractive_container: Container) -> None:
    question = "How do we write acceptance criteria for a churn model?"
    reading = read_question(question, extractive_container.rules)
    found = extractive_container.retriever.retrieve_passages(question).passages
    gathered = passages_for(extractive_container.retriever, found, (), reading.general, reading.expansion)
    assert reading.expansion == ""
    assert gathered == passages_for(extractive_container.retriever, found, (), reading.general)
