"""Wires components together once per process; every adapter (API, CLI) asks this for them."""

from __future__ import annotations

import hmac
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TYPE_CHECKING

from advisor.auth import SCOPES, KeyResolver, Principal, api_key_id
from advisor.observability import Metrics
from advisor.settings import Settings

if TYPE_CHECKING:
    from slack_bolt import App as SlackApp

    from advisor.answer.llm import LLMComposer
    from advisor.answer.service import AnswerService
    from advisor.components.embedder import Embedder
    from advisor.components.vector_store import VectorStore
    from advisor.ingest.indexer import Indexer
    from advisor.retrieval.retriever import Retriever
    from advisor.store.api_keys import ApiKeyStore
    from advisor.store.repository import Store
    from advisor.widget.keys import WidgetKeyring


class Container:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self._warm_lock = threading.Lock()
        self.warm_error: str | None = None

    @cached_property
    def key_resolvers(self) -> list[KeyResolver]:
        """Key sources tried in order; each adapter that issues keys appends its own resolver."""
        return [self._settings_key, self._database_key, self.widget_keyring.resolve]

    @cached_property
    def widget_keyring(self) -> WidgetKeyring:
        from advisor.widget.keys import WidgetKeyring

        return WidgetKeyring(self.settings.widget)

    def _settings_key(self, token: str, origin: str | None) -> Principal | None:
        # Keys in api.keys are the operator's bootstrap keys: every scope.
        for key in self.settings.api.keys:
            if hmac.compare_digest(token.encode(), key.get_secret_value().encode()):
                return Principal(api_key_id(token), "api", frozenset(SCOPES))
        return None

    def _database_key(self, token: str, origin: str | None) -> Principal | None:
        # Keys from `advisor keys create`, with their own scopes; revoked ones are refused.
        return self.api_keys.resolve(token, origin)

    @cached_property
    def api_keys(self) -> ApiKeyStore:
        from advisor.store.api_keys import ApiKeyStore

        return ApiKeyStore(self.store.engine)

    def auth_required(self) -> bool:
        """Whether requests must present a key (otherwise: local mode, loopback only): api.keys is
        set or a database key was ever issued (a revoked last key locks, never reopens, the service)."""
        return self.settings.auth_enabled or self.api_keys.any_issued()

    def resolve_key(self, token: str, origin: str | None) -> Principal | None:
        for resolver in self.key_resolvers:
            principal = resolver(token, origin)
            if principal is not None:
                return principal
        return None

    @cached_property
    def embedder(self) -> Embedder:
        from advisor.components.embedder import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(self.settings.embedding)

    @cached_property
    def vectors(self) -> VectorStore:
        from advisor.components.vector_store import ChromaVectorStore

        return ChromaVectorStore(self.settings)

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

    @cached_property
    def slack(self) -> SlackApp:
        """The Slack bot's bolt App (needs the slack settings; see advisor.slack)."""
        from advisor.slack.app import build_app

        return build_app(self)

    def warm_up(self) -> None:
        """Load the model and the active index so the first request is not the slow one."""
        with self._warm_lock:
            try:
                # Built here, in one thread: cached_property does not guard against two builders.
                embedder, retriever = self.embedder, self.retriever
                # The index loads while the model does: a replica is ready after the slower of them.
                with ThreadPoolExecutor(max_workers=1, thread_name_prefix="warm-index") as pool:
                    index_loaded = pool.submit(retriever.ready)
                    embedder.embed_query("warm-up")
                    index_loaded.result()
                self.warm_error = None
            except Exception as exc:  # reported by /readyz, not fatal to the process
                self.warm_error = f"{type(exc).__name__}: {exc}"
