"""Hybrid retrieval over the bundled corpus, indexed once per session with the real model.

Topic expectations come from the corpus itself: a document's primary topic is the first topic in
its front matter (knowledge/<doc_id>.md).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

import advisor.retrieval.retriever as retriever_module
from advisor.container import Container
from advisor.corpus.taxonomy import BUILTIN_TOPICS
from advisor.retrieval.retriever import Retriever
from advisor.settings import load_settings
from tests.plugins.advisor_app import KNOWLEDGE, SettingsFactory


@cache
def front_matter(doc_id: str) -> dict[str, Any]:
    text = (KNOWLEDGE / f"{doc_id}.md").read_text(encoding="utf-8")
    _, block, _ = text.split("---\n", 2)
    data = yaml.safe_load(block)
    assert isinstance(data, dict)
    return data


def primary_topic(doc_id: str) -> str:
    return str(front_matter(doc_id)["topics"][0])


@pytest.fixture(scope="module")
def container(indexed_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    """One container over a module-private copy of the session index, for the read-only tests."""
    data_dir = tmp_path_factory.mktemp("retriever") / "data"
    shutil.copytree(indexed_data_dir, data_dir)
    with pytest.MonkeyPatch.context() as env:  # the per-test environment isolation is not active yet
        for name in [n for n in os.environ if n.startswith("ADVISOR_") and not n.startswith("ADVISOR_TEST_")]:
            env.delenv(name)
        settings = load_settings(data_dir=data_dir, knowledge_dir=KNOWLEDGE)
    yield Container(settings)


@pytest.fixture(scope="module")
def retriever(container: Container) -> Retriever:
    return container.retriever


def with_retrieval(container: Container, **changes: Any) -> Retriever:
    """Another retriever over the same index with different retrieval settings."""
    settings = container.settings.model_copy(
        update={"retrieval": container.settings.retrieval.model_copy(update=changes)}
    )
    return Retriever(settings, container.embedder, container.vectors, container.index_repository)


def test_passages_carry_their_document_fields(retriever: Retriever) -> None:
    found = retriever.retrieve_passages("How do we roll back a canary release that misbehaves?")

    assert found.in_scope and found.strategy == "hybrid"
    assert 1 <= len(found.passages) <= 6
    assert found.passages[0].doc_id == "release-strategies"
    for p in found.passages:
        meta = front_matter(p.doc_id)
        body = (KNOWLEDGE / f"{p.doc_id}.md").read_text(encoding="utf-8")
        assert p.title == meta["title"]
        assert p.topics == tuple(meta["topics"])
        assert p.source == f"{p.doc_id}.md"
        heading = p.section.split(" > ")[0]
        assert heading == "Overview" or re.search(rf"^#+ {re.escape(heading)}\s*$", body, re.MULTILINE)
        assert p.text.splitlines()[0].strip() in body
        assert p.chunk_id and p.score > 0 and 0 < p.similarity <= 1


@pytest.mark.parametrize("topics", [["security-governance"], ["talent", "use-cases"]])
def test_topic_filter_returns_only_passages_with_those_topics(
    retriever: Retriever, topics: list[str]
) -> None:
    question = "How do we get our first model into production?"
    unfiltered = retriever.retrieve_passages(question).passages
    assert any(not set(p.topics) & set(topics) for p in unfiltered)  # so the filter has work to do

    found = retriever.retrieve_passages(question, topics=topics).passages

    assert found
    for p in found:
        assert set(p.topics) & set(topics), (p.doc_id, p.topics)


def test_unknown_topic_filter_returns_nothing(retriever: Retriever) -> None:
    found = retriever.retrieve_passages(
        "How do we get our first model into production?", topics=["astrology"]
    )
    assert found.passages == [] and not found.in_scope


# Queries naming a concept one document is about, with that document.
CLEAR_QUERIES = {
    "canary release rollback": "release-strategies",
    "blue-green deployment switch": "release-strategies",
    "feature store point-in-time correctness": "feature-engineering-and-feature-stores",
    "data contracts between producer and consumer teams": "data-contracts",
    "bus factor of a production model": "reducing-key-person-dependency",
    "adverse action notice for a declined loan": "transparency-to-users-and-regulators",
    "detecting data drift and retraining triggers": "drift-detection-and-retraining",
    "label quality and annotator agreement": "labelling-training-data",
    "cost per prediction at scale": "cost-control-at-scale",
}


def test_hybrid_finds_clear_queries_at_least_as_well_as_either_retriever_alone(retriever: Retriever) -> None:
    """Hits = queries whose document is among the first three passages (what an answer cites)."""
    hits: dict[str, list[str]] = {}
    for strategy in ("hybrid", "dense", "bm25"):
        hits[strategy] = [
            query
            for query, doc_id in CLEAR_QUERIES.items()
            if doc_id
            in [p.doc_id for p in retriever.retrieve_passages(query, strategy=strategy).passages[:3]]
        ]
    assert set(hits["hybrid"]) == set(CLEAR_QUERIES), hits
    assert len(hits["hybrid"]) >= len(hits["dense"]) and len(hits["hybrid"]) >= len(hits["bm25"]), hits


@pytest.mark.parametrize(
    "question",
    [
        "How do I get my first AI model into production?",
        "What are the biggest risks when taking a model to production?",
    ],
)
def test_mmr_spreads_a_broad_question_over_several_documents(container: Container, question: str) -> None:
    diverse = {p.doc_id for p in container.retriever.retrieve_passages(question).passages}
    relevance_only = {
        p.doc_id for p in with_retrieval(container, mmr_lambda=1.0).retrieve_passages(question).passages
    }

    assert len(diverse) > 1
    assert len(diverse) >= len(relevance_only)


@pytest.mark.parametrize("question", ["banana bread recipe", "best football team in 1998"])
def test_out_of_scope_questions_are_flagged(retriever: Retriever, question: str) -> None:
    found = retriever.retrieve_passages(question)
    assert not found.in_scope, found.best_similarity


@pytest.mark.parametrize(
    "question",
    [
        "How do we roll out a new model version without hurting users if it misbehaves?",
        "How can we tell when our model's accuracy is degrading in production?",
        "How do we keep customer personal data safe when training models?",
    ],
)
def test_in_scope_questions_are_recognised(retriever: Retriever, question: str) -> None:
    found = retriever.retrieve_passages(question)
    assert found.in_scope and found.passages, found.best_similarity


# One realistic question per taxonomy topic, in a user's words.
TOPIC_QUESTIONS = {
    "business-objectives": 'How do we turn our vague wish to "use AI" into a measurable business goal?',
    "data-quality": "Our customer records are full of duplicates and missing values. Can we still train a model?",
    "infrastructure": "Should we run our training on the cloud or on our own servers?",
    "scalability": "Our model API is getting slow as more customers use it. How do we scale it?",
    "deployment": "How do we roll out a new model version without hurting users if it misbehaves?",
    "testing-validation": "How do we know whether our model is good enough to go live?",
    "monitoring": "How can we tell when our model's accuracy is degrading in production?",
    "security-governance": "How do we protect our model and its API from attackers?",
    "change-management": "Frontline staff don't trust the new AI tool and keep ignoring it. What can we do?",
    "talent": "How do we hire and keep good data scientists when big tech pays more?",
    "strategy-roadmap": "How should we plan and budget an AI programme over the next two years?",
    "explainability": "Regulators want us to explain why the model rejected a loan application. How?",
    "use-cases": "What are good examples of AI being used successfully in hospitals?",
}


def assert_leading_topic(retriever: Retriever, question: str, topic: str) -> None:
    """The top passage's document has ``topic`` as its primary topic. (The rest of the top 3 is
    deliberately diverse, MMR, so it may lean to a neighbouring topic.)"""
    passages = retriever.retrieve_passages(question).passages
    leading = [primary_topic(p.doc_id) for p in passages[:3]]
    assert leading and leading[0] == topic, [(p.doc_id, p.section) for p in passages[:3]]


def test_topic_questions_cover_the_taxonomy() -> None:
    assert set(TOPIC_QUESTIONS) == set(BUILTIN_TOPICS)


@pytest.mark.parametrize(("topic", "question"), list(TOPIC_QUESTIONS.items()), ids=list(TOPIC_QUESTIONS))
def test_a_realistic_question_leads_to_its_topic(retriever: Retriever, topic: str, question: str) -> None:
    assert_leading_topic(retriever, question, topic)


def test_key_person_question_leads_to_talent(retriever: Retriever) -> None:
    question = "We lost our only ML engineer and nobody understands the model. How do we avoid this?"
    assert_leading_topic(retriever, question, "talent")


NEW_DOC = """---
id: ai-in-agriculture
title: AI in agriculture - crop yield forecasting
topics: [use-cases]
summary: Forecasting crop yields from satellite imagery and weather data.
---

Use this when a farm cooperative wants to forecast crop yields per field from satellite images.

## Lessons

Yield models trained on one region's satellite imagery and soil data rarely transfer to another
region; validate per region and per crop before promising forecasts to growers.
"""


@pytest.mark.parametrize(
    "refresh_seconds", [0.0, 3600.0], ids=["pointer-check-due", "collection-dropped-before-the-check"]
)
def test_retriever_follows_the_active_collection_after_another_ingest(
    indexed_settings: SettingsFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refresh_seconds: float
) -> None:
    """A long-running retriever sees another process's ingest: when its pointer check comes due,
    and also before that, once the ingest has dropped the collection it was reading."""
    monkeypatch.setattr(retriever_module, "_REFRESH_SECONDS", refresh_seconds)
    settings = indexed_settings()
    service = Container(settings)
    retriever = service.retriever
    state = service.index_repository.get_index_state()
    assert state is not None
    documents_before = len(service.index_repository.indexed_documents(state.collection))
    question = "Can AI forecast crop yields per field from satellite images?"
    chunks_before = retriever.chunk_count()
    assert "ai-in-agriculture" not in {p.doc_id for p in retriever.retrieve_passages(question).passages}

    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "ai-in-agriculture.md").write_text(NEW_DOC, encoding="utf-8")
    report = Container(settings).indexer.ingest([KNOWLEDGE, extra])
    assert report.switched and report.added == 1 and report.unchanged == documents_before

    found = retriever.retrieve_passages(question)
    assert found.passages[0].doc_id == "ai-in-agriculture"
    assert retriever.chunk_count() == chunks_before + report.embedded_chunks


def _mmr_by_definition(pool: list[Any], k: int, lam: float) -> list[Any]:
    """MMR as written in its definition, one candidate and one chosen passage at a time."""
    top = max(c.fused for c in pool)
    remaining = sorted(pool, key=lambda c: c.fused, reverse=True)
    chosen: list[Any] = []
    while remaining and len(chosen) < k:

        def gain(c: Any) -> float:
            pairs = [
                float(c.vector @ s.vector) for s in chosen if c.vector is not None and s.vector is not None
            ]
            return float(lam * (c.fused / top) - (1 - lam) * max(pairs, default=0.0))

        best = max(remaining, key=gain)
        chosen.append(best)
        remaining.remove(best)
    return chosen


def test_mmr_skips_a_near_duplicate_and_matches_its_definition() -> None:
    import numpy as np

    from advisor.retrieval.ranking import Candidate, mmr

    a = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    near_a = np.array([0.99, 0.141, 0.0], dtype=np.float32)
    other = np.array([0.0, 0.0, 1.0], dtype=np.float32)
    pool = [Candidate("a", {}, 0.03, vector=a), Candidate("a2", {}, 0.029, vector=near_a)]
    pool.append(Candidate("b", {}, 0.02, vector=other))
    assert [c.chunk_id for c in mmr(pool, 2, 0.7)] == ["a", "b"]
    assert [c.chunk_id for c in mmr(pool, 2, 1.0)] == ["a", "a2"]  # relevance only

    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(1, 30))
        vectors = rng.normal(size=(n, 16)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        pool = [
            Candidate(f"c{i}", {}, float(rng.integers(1, 12)) / 100, vector=None if rng.random() < 0.1 else v)
            for i, v in enumerate(vectors)
        ]
        k, lam = int(rng.integers(1, 8)), float(rng.choice([0.5, 0.7, 0.9]))
        assert [c.chunk_id for c in mmr(pool, k, lam)] == [
            c.chunk_id for c in _mmr_by_definition(pool, k, lam)
        ]
