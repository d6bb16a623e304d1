"""A document's `questions` (users' own wording, in its front matter) find the document, and are
never returned as passages: on the fakes, with the real Indexer and Retriever."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from advisor.corpus.loaders import LoaderError, load_document
from advisor.corpus.taxonomy import BUILTIN_TOPICS
from advisor.guidance.rules import load_rules
from advisor.ingest.indexer import Indexer
from advisor.retrieval.retriever import Retriever
from advisor.store.db import create_db_engine, upgrade_database
from advisor.store.index_state import IndexRepository
from advisor.types import QUESTIONS_SECTION
from tests.fakes.embedding import RETRIEVAL_SETTINGS, HashingEmbedder
from tests.fakes.vector_store import InMemoryVectorStore
from tests.plugins.advisor_app import SettingsFactory

ALERTS = """---
id: alert-fatigue
title: Alert fatigue on clinical decision support
topics: [change-management]
summary: Why clinicians dismiss automated alerts and how to make the alerts worth reading.
questions:
  - "Why do the nurses keep clicking past the pop-ups?"
  - "Staff on the wards ignore the warnings. What now?"
updated: 2026-11-30
---

Automated alerts lose their value when most of them turn out to be irrelevant.

## First steps

1. **Measure the override rate per alert type.** Retire the types most often overridden.
2. **Route each alert to the role that can act on it.** A message for a pharmacist is noise for others.
"""

SERVERS = """---
id: server-sizing
title: Sizing inference servers
topics: [scalability]
summary: How to choose instance sizes for serving models.
updated: 2026-11-30
---

Choose the smallest instance that meets the latency budget in a load test.

## First steps

1. **Load-test at the expected peak.** Record latency percentiles for each instance size.
"""


@pytest.fixture
def retriever(make_settings: SettingsFactory, tmp_path: Path) -> Iterator[Retriever]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "alert-fatigue.md").write_text(ALERTS)
    (corpus / "server-sizing.md").write_text(SERVERS)
    settings = make_settings(knowledge_dir=corpus, retrieval=RETRIEVAL_SETTINGS)
    engine = create_db_engine(settings.database_url)
    upgrade_database(engine)
    store = IndexRepository(engine)
    embedder, vectors = HashingEmbedder(), InMemoryVectorStore(settings.chroma.collection_prefix)
    report = Indexer(settings, embedder, vectors, store).ingest([corpus])
    assert report.chunks == 2 + 2  # each short document is one chunk, plus one chunk per question
    try:
        yield Retriever(settings, embedder, vectors, store, load_rules())
    finally:
        engine.dispose()


def test_a_stored_question_finds_its_document_but_is_never_a_passage(retriever: Retriever) -> None:
    found = retriever.retrieve_passages("nurses clicking past the pop-ups all day", k=4)
    assert found.passages and found.passages[0].doc_id == "alert-fatigue", found.passages
    assert all(p.section != QUESTIONS_SECTION for p in found.passages)
    # Its similarity counts for the document: the question is within reach of the floor.
    assert found.best_similarity > 0.5


def test_questions_must_be_a_list_of_lines(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_text(
        ALERTS.replace('questions:\n  - "Why', 'questions: "Why').replace('?"\n  - "Staff', "? Staff")
    )
    with pytest.raises(LoaderError, match=r"'questions' must be a list"):
        load_document(path, tmp_path, BUILTIN_TOPICS)
    good = tmp_path / "alert-fatigue.md"
    good.write_text(ALERTS)
    assert load_document(good, tmp_path, BUILTIN_TOPICS).questions == (
        "Why do the nurses keep clicking past the pop-ups?",
        "Staff on the wards ignore the warnings. What now?",
    )
