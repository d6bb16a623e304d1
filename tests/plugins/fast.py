"""The fast tier's components: the bundled corpus indexed once per session with the deterministic
hashing embedder into an in-memory vector store (about half a second), then containers and live
servers over private copies of its database. Everything else is real: SQLite, the chat core, HTTP
over loopback with uvicorn.

Tests that ingest on their own get a fresh in-memory store (``fresh_vectors=True``): an ingest drops
collections it does not know, which would pull the shared index from under other tests.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from advisor.app import create_app
from advisor.container import Container
from advisor.settings import Settings
from tests.fakes.embedding import RETRIEVAL_SETTINGS, HashingEmbedder
from tests.fakes.vector_store import InMemoryVectorStore
from tests.plugins.advisor_app import KNOWLEDGE, LiveServer, free_port, serve_app
from tests.plugins.containers import clean_settings


@dataclass(frozen=True)
class FastIndex:
    data_dir: Path
    embedder: HashingEmbedder
    vectors: InMemoryVectorStore


FastContainer = Callable[..., Container]
FastServer = Callable[..., AbstractContextManager[LiveServer]]


@pytest.fixture(scope="session")
def fast_index(tmp_path_factory: pytest.TempPathFactory) -> FastIndex:
    """The bundled corpus, indexed with the fakes (read-only for tests: containers copy its database)."""
    data_dir = tmp_path_factory.mktemp("fast-index") / "data"
    index = FastIndex(data_dir, HashingEmbedder(), InMemoryVectorStore())
    settings = clean_settings(data_dir, retrieval=RETRIEVAL_SETTINGS)
    container = Container(settings, embedder=index.embedder, vectors=index.vectors)
    report = container.indexer.ingest([KNOWLEDGE])
    assert report.chunks > 0 and not report.skipped, report.summary()
    container.engine.dispose()  # the copies below are of a quiet database
    return index


@pytest.fixture
def fast_settings(fast_index: FastIndex, tmp_path: Path) -> Callable[..., Settings]:
    """Settings over a private copy of the fast index's database (overrides as in Settings(**...))."""

    def factory(**overrides: Any) -> Settings:
        data_dir = tmp_path / "fast-data"
        if not data_dir.exists():
            shutil.copytree(fast_index.data_dir, data_dir, ignore=shutil.ignore_patterns("ingest.lock"))
        overrides.setdefault("data_dir", data_dir)
        overrides.setdefault("knowledge_dir", KNOWLEDGE)
        # The relevance floors are calibrated on the sentence model; hashing similarities run lower.
        overrides["retrieval"] = {**RETRIEVAL_SETTINGS, **overrides.get("retrieval", {})}
        return clean_settings(**overrides)

    return factory


@pytest.fixture
def fast_container(fast_index: FastIndex, fast_settings: Callable[..., Settings]) -> FastContainer:
    """fast_container(**setting_overrides) -> a Container over the fast index (fakes, real SQLite)."""

    def build(*, fresh_vectors: bool = False, **overrides: Any) -> Container:
        vectors = InMemoryVectorStore() if fresh_vectors else fast_index.vectors
        return Container(fast_settings(**overrides), embedder=fast_index.embedder, vectors=vectors)

    return build


@pytest.fixture
def fast_server(fast_container: FastContainer) -> Iterator[FastServer]:
    """fast_server(**setting_overrides) -> a context manager serving the app over real HTTP."""

    def start(**overrides: Any) -> AbstractContextManager[LiveServer]:
        return serve_app(create_app(container=fast_container(**overrides)), free_port())

    yield start
