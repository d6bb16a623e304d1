"""The ingest tests' fakes: the real Indexer and store over the fast tier's component fakes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from advisor.components.embedder import Vector
from advisor.ingest.indexer import Indexer
from advisor.retrieval.retriever import Retriever
from advisor.settings import Settings
from advisor.store.db import create_db_engine, upgrade_database
from advisor.store.index_state import IndexRepository
from tests.fakes.embedding import RETRIEVAL_SETTINGS, HashingEmbedder
from tests.fakes.vector_store import InMemoryVectorStore
from tests.plugins.advisor_app import KNOWLEDGE, SettingsFactory


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        self.embedded = 0

    def embed_documents(self, texts: Sequence[str], show_progress: bool = False) -> Vector:
        self.embedded += len(texts)
        return super().embed_documents(texts, show_progress)


class Fakes:
    def __init__(self, settings: Settings, store: IndexRepository) -> None:
        self.settings = settings
        self.store = store
        self.embedder = CountingEmbedder()
        self.vectors = InMemoryVectorStore(settings.chroma.collection_prefix)
        self.indexer = Indexer(settings, self.embedder, self.vectors, store)

    def retriever(self) -> Retriever:
        """A freshly started service's retriever."""
        return Retriever(self.settings, self.embedder, self.vectors, self.store)


@pytest.fixture
def fakes(make_settings: SettingsFactory, tmp_path: Path) -> Iterator[Fakes]:
    corpus = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, corpus)
    settings = make_settings(knowledge_dir=corpus, retrieval=RETRIEVAL_SETTINGS)
    engine = create_db_engine(settings.database_url)
    upgrade_database(engine)
    try:
        yield Fakes(settings, IndexRepository(engine))
    finally:
        engine.dispose()
