"""Fixtures of the HTTP API tests (the fast tier's own are in tests/plugins/fast.py)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from advisor.app import create_app
from advisor.container import Container
from advisor.settings import Settings
from tests.fakes.vector_store import InMemoryVectorStore
from tests.plugins.advisor_app import LiveServer, free_port, serve_app
from tests.plugins.fast import FastIndex, FastServer


def copy_of_vectors(source: InMemoryVectorStore) -> InMemoryVectorStore:
    """A private store holding a copy of every collection of ``source`` (vectors, texts, metadata)."""
    copy = InMemoryVectorStore()
    for name in source.list_collection_names():
        collection = source.get_collection(name)
        rows = collection.get(vectors=True, documents=True, metadatas=True)
        assert rows.vectors is not None and rows.documents is not None and rows.metadatas is not None
        target = copy.create_collection(name, collection.model, collection.dimension)
        target.add(rows.ids, rows.vectors, rows.documents, rows.metadatas)
    return copy


@pytest.fixture
def own_index_server(fast_index: FastIndex, fast_settings: Callable[..., Settings]) -> FastServer:
    """own_index_server(**overrides): as fast_server, but over a private copy of the fast index's
    vectors, so a test may break the vector store (drop the active collection) without pulling the
    shared index from under other tests."""

    def start(**overrides: Any) -> AbstractContextManager[LiveServer]:
        vectors = copy_of_vectors(fast_index.vectors)
        container = Container(fast_settings(**overrides), embedder=fast_index.embedder, vectors=vectors)
        return serve_app(create_app(container=container), free_port())

    return start
