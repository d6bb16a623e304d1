"""Wires components together once per process; every adapter (API, CLI) asks this for them."""

from __future__ import annotations

import hashlib
import threading
from functools import cached_property
from typing import TYPE_CHECKING

from advisor.observability import Metrics
from advisor.settings import Settings

if TYPE_CHECKING:
    from advisor.answer.llm import LLMComposer
    from advisor.answer.service import AnswerService
    from advisor.components.embedder import Embedder
    from advisor.components.vector_store import VectorStore
    from advisor.ingest.indexer import Indexer
    from advisor.retrieval.retriever import Retriever
    from advisor.store.repository import Store


def api_key_id(key: str) -> str:
    """What we record instead of a key: a short, non-reversible id."""
    return "key_" + hashlib.sha256(key.encode()).hexdigest()[:12]


class Container:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self._warm_lock = threading.Lock()
        self.warm_error: str | None = None

    @cached_property
    def embedder(self) -> Embedder:
        from advisor.components.embedder import Embedder

        return Embedder(self.settings.embedding)

    @cached_property
    def vectors(self) -> VectorStore:
        from advisor.components.vector_store import VectorStore

        return VectorStore(self.settings)

    @cached_property
    def store(self) -> Store:
        from advisor.store.db import create_db_engine, upgrade_database
        from advisor.store.repository import Store

        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_db_engine(self.settings.database_url, echo=self.settings.database.echo)
        upgrade_database(engine)
        return Store(engine)

    @cached_property
    def retriever(self) -> Retriever:
        from advisor.retrieval.retriever import Retriever

        return Retriever(self.settings, self.embedder, self.vectors, self.store)

    @cached_property
    def indexer(self) -> Indexer:
        from advisor.ingest.indexer import Indexer

        return Indexer(self.settings, self.embedder, self.vectors, self.store)

    @cached_property
    def llm(self) -> LLMComposer | None:
        if self.settings.llm.provider == "extractive":
            return None
        from advisor.answer.llm import LLMComposer
        from advisor.components.prompts import PromptLibrary

        prompts = PromptLibrary(self.settings.resolved_prompts_dir)
        prompts.validate()  # a missing template is a start-up error, not a failed request
        return LLMComposer.from_settings(self.settings.llm, prompts)

    @cached_property
    def answers(self) -> AnswerService:
        from advisor.answer.service import AnswerService

        return AnswerService(self.settings, self.retriever, self.store, self.metrics, self.llm)

    def warm_up(self) -> None:
        """Load the model and the active index so the first request is not the slow one."""
        with self._warm_lock:
            try:
                self.embedder.embed_query("warm-up")
                self.retriever.ready()
                self.warm_error = None
            except Exception as exc:  # reported by /readyz, not fatal to the process
                self.warm_error = f"{type(exc).__name__}: {exc}"
