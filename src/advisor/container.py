"""The composition root: builds each component once per process from the settings and wires them into
the chat core. Channels (HTTP API, widget, Slack, CLI, evaluation) ask it for the core; it imports no
channel. Components can be handed in (tests pass a fake embedder and an in-memory vector store)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TYPE_CHECKING

from advisor.observability import Metrics
from advisor.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from advisor.assessment.service import Assessor
    from advisor.auth.authenticator import Authenticator
    from advisor.auth.widget_keys import WidgetKeyring
    from advisor.chat.assessments import AssessmentDesk
    from advisor.chat.composing import ComposerChain
    from advisor.chat.rate_limits import RateLimiter
    from advisor.chat.service import ChatService
    from advisor.components.embedder import Embedder
    from advisor.components.vector_store import VectorStore
    from advisor.compose.llm import LLMComposer
    from advisor.compose.provider_guard import ProviderGuard
    from advisor.guidance.rules import GuidanceRules
    from advisor.ingest.indexer import Indexer
    from advisor.retrieval.retriever import Retriever
    from advisor.store.admin import AdminStore
    from advisor.store.api_keys import ApiKeyStore
    from advisor.store.conversations import ConversationRepository
    from advisor.store.deliveries import DeliveryLog
    from advisor.store.index_state import IndexRepository
    from advisor.store.ingest_runs import IngestRunStore
    from advisor.store.slack_links import SlackLinks
    from advisor.store.widget_keys import WidgetKeyStore


class Container:
    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        vectors: VectorStore | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self._warm_lock = threading.Lock()
        self.warm_error: str | None = None
        if embedder is not None:
            self.__dict__["embedder"] = embedder
        if vectors is not None:
            self.__dict__["vectors"] = vectors

    # -- persistence -------------------------------------------------------------------------------

    @cached_property
    def engine(self) -> Engine:
        """The database, migrated to the shipped schema."""
        from advisor.store.db import create_db_engine, upgrade_database

        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_db_engine(self.settings.database_url, echo=self.settings.database.echo)
        upgrade_database(engine)
        return engine

    @cached_property
    def conversations(self) -> ConversationRepository:
        from advisor.store.conversations import ConversationRepository

        return ConversationRepository(self.engine)

    @cached_property
    def index_repository(self) -> IndexRepository:
        from advisor.store.index_state import IndexRepository

        return IndexRepository(self.engine)

    @cached_property
    def api_keys(self) -> ApiKeyStore:
        from advisor.store.api_keys import ApiKeyStore

        return ApiKeyStore(self.engine)

    @cached_property
    def admin_store(self) -> AdminStore:
        from advisor.store.admin import AdminStore

        return AdminStore(self.engine)

    @cached_property
    def deliveries(self) -> DeliveryLog:
        from advisor.store.deliveries import DeliveryLog

        return DeliveryLog(self.engine)

    @cached_property
    def slack_links(self) -> SlackLinks:
        from advisor.store.slack_links import SlackLinks

        return SlackLinks(self.engine)

    def database_ready(self) -> bool:
        from sqlalchemy.exc import SQLAlchemyError

        from advisor.store.db import ping

        try:
            # Opened (and migrated) on the first success: the database may come up after the service.
            engine = self.engine
        except SQLAlchemyError:
            return False
        return ping(engine)

    def index_ready(self) -> bool:
        """The active index is loaded (never waiting on a load under way elsewhere)."""
        try:
            retriever = self.retriever
        except Exception:  # it reads the index pointer from the database, which may not answer yet
            return False
        return retriever.ready(wait=False)

    # -- who is calling --------------------------------------------------------------------------

    @cached_property
    def widget_keyring(self) -> WidgetKeyring:
        from advisor.auth.widget_keys import WidgetKeyring

        return WidgetKeyring(self.settings.widget, lambda: self.widget_key_store)

    @cached_property
    def widget_key_store(self) -> WidgetKeyStore:
        from advisor.store.widget_keys import WidgetKeyStore

        return WidgetKeyStore(self.engine)

    @cached_property
    def ingest_runs(self) -> IngestRunStore:
        from advisor.store.ingest_runs import IngestRunStore

        return IngestRunStore(self.engine)

    @cached_property
    def authenticator(self) -> Authenticator:
        from advisor.auth.authenticator import Authenticator

        return Authenticator(
            self.settings.api.keys,
            # Keys from `advisor keys create` (revoked ones refused), then widget keys.
            # The key store is opened on first use, not here: with api.keys set, a replica starts
            # (not ready) while its database is still down.
            [lambda token, origin: self.api_keys.resolve(token, origin), self.widget_keyring.resolve],
            lambda: self.api_keys.any_issued(),
        )

    # -- retrieval and ingest --------------------------------------------------------------------

    @cached_property
    def embedder(self) -> Embedder:
        from advisor.components.embedder import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(self.settings.embedding)

    @cached_property
    def vectors(self) -> VectorStore:
        from advisor.components.vector_store import ChromaVectorStore

        return ChromaVectorStore(self.settings)

    @cached_property
    def retriever(self) -> Retriever:
        from advisor.retrieval.retriever import Retriever

        return Retriever(self.settings, self.embedder, self.vectors, self.index_repository, self.rules)

    @cached_property
    def rules(self) -> GuidanceRules:
        """The answering rules (knowledge/rules/*.toml); a broken file fails at start-up."""
        from advisor.guidance.rules import load_rules

        return load_rules(self.settings.rules_dir)

    @cached_property
    def assessor(self) -> Assessor:
        from advisor.assessment.rules import load_assessment_rules
        from advisor.assessment.service import Assessor

        return Assessor(self.retriever, load_assessment_rules(self.settings.rules_dir), self.rules)

    @cached_property
    def indexer(self) -> Indexer:
        from advisor.ingest.indexer import Indexer

        return Indexer(self.settings, self.embedder, self.vectors, self.index_repository)

    # -- the chat core -----------------------------------------------------------------------------

    @cached_property
    def llm(self) -> LLMComposer | None:
        """The LLM composer when a provider is configured (a missing extra or prompt fails here)."""
        if self.settings.llm.provider == "extractive":
            return None
        from advisor.components.prompts import PromptLibrary
        from advisor.compose.llm import LLMComposer

        prompts = PromptLibrary(self.settings.resolved_prompts_dir)
        prompts.validate()  # a missing template is a start-up error, not a failed request
        composer = LLMComposer.from_settings(self.settings.llm, prompts)
        if composer.guard is not None:
            from advisor.compose.provider_guard import BREAKER_STATES

            self.metrics.watch_provider(composer.guard, BREAKER_STATES)
        return composer

    @property
    def llm_guard(self) -> ProviderGuard | None:
        """The LLM's call limit and circuit breaker, once the LLM composer is built."""
        built = self.__dict__.get("llm")  # never build it here: /readyz must not fail on a prompt
        return built.guard if built is not None else None

    @cached_property
    def composers(self) -> ComposerChain:
        from advisor.chat.composing import ComposerChain
        from advisor.compose.extractive import ExtractiveComposer

        extractive = ExtractiveComposer(self.rules)
        if self.llm is None:
            return ComposerChain(extractive, None, self.metrics)
        return ComposerChain(self.llm, extractive, self.metrics, self.settings.llm.turn_deadline_seconds)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        from advisor.chat.rate_limits import RateLimiter

        return RateLimiter(self.settings.widget)

    @cached_property
    def chat(self) -> ChatService:
        return self.chat_service()

    def chat_service(
        self,
        *,
        retriever: Retriever | None = None,
        conversations: ConversationRepository | None = None,
    ) -> ChatService:
        """A chat core over this container's components; the evaluation swaps in its own retriever
        (to degrade it on purpose) and a throwaway conversation store."""
        from advisor.chat.admission import Admission
        from advisor.chat.conversations import Conversations
        from advisor.chat.pipeline import TurnPipeline
        from advisor.chat.service import ChatService

        retriever = retriever or self.retriever
        keeper = Conversations(
            conversations or self.conversations,
            self.settings.limits.max_history_messages,
            self.settings.retention.store_stateless,
        )
        pipeline = TurnPipeline(retriever, self.composers, keeper, self.metrics, self.rules)
        admission = Admission(self.settings, retriever, self.rate_limiter)
        return ChatService(admission, keeper, pipeline, retriever, self.metrics)

    @cached_property
    def assessments(self) -> AssessmentDesk:
        from advisor.chat.admission import Admission
        from advisor.chat.assessments import AssessmentDesk
        from advisor.store.assessments import AssessmentStore

        admission = Admission(self.settings, self.retriever, self.rate_limiter)
        return AssessmentDesk(self.assessor, AssessmentStore(self.engine), admission, self.conversations)

    # -- start-up ----------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load the model and the active index so the first request is not the slow one. The model
        loads even when the index cannot (Chroma or the database down): a retry then needs only them."""
        with self._warm_lock:
            try:
                embedder = self.embedder  # built in this thread only: cached_property has no lock
                # The index loads while the model does: a replica is ready after the slower of them.
                with ThreadPoolExecutor(max_workers=1, thread_name_prefix="warm-index") as pool:
                    # require_index raises (no index yet, Chroma down), so warm_error says why.
                    index_loaded = pool.submit(lambda: self.retriever.require_index())
                    embedder.embed_query("warm-up")
                    index_loaded.result()
                self.warm_error = None
            except Exception as exc:  # reported by /readyz, not fatal to the process
                self.warm_error = short_reason(exc)


def short_reason(exc: BaseException) -> str:
    """One line for /readyz and logs: the error's type and first line (a database error's own, not
    SQLAlchemy's wrapper with its statement and background link)."""
    from sqlalchemy.exc import DBAPIError

    cause: BaseException = (exc.orig or exc) if isinstance(exc, DBAPIError) else exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}".strip()
