"""The chat core's one entry point for every channel: admit a request, run or stream its turn, search,
read a conversation, take feedback. Channels translate their protocol into these calls and the typed
results (or ``ChatError`` refusals) back into their protocol."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from advisor.chat.errors import AnswerFailed, NotFound, NotReady
from advisor.chat.model import (
    Caller,
    ChatEvent,
    ChatRequest,
    ConversationView,
    FeedbackRequest,
    SearchRequest,
    SearchResult,
    TurnCompleted,
    TurnFailed,
    TurnResult,
)
from advisor.retrieval.retriever import IndexNotReadyError

if TYPE_CHECKING:
    from advisor.chat.admission import Admission
    from advisor.chat.conversations import Conversations, PreparedTurn
    from advisor.chat.pipeline import TurnPipeline
    from advisor.observability import Metrics
    from advisor.retrieval.retriever import Retriever
    from advisor.types import DocumentText

log = logging.getLogger(__name__)


class ChatService:
    def __init__(
        self,
        admission: Admission,
        conversations: Conversations,
        pipeline: TurnPipeline,
        retriever: Retriever,
        metrics: Metrics,
    ) -> None:
        self.admission = admission
        self._conversations = conversations
        self._pipeline = pipeline
        self._retriever = retriever
        self._metrics = metrics

    @property
    def composer_name(self) -> str:
        return self._pipeline.composer_name

    # -- turns -------------------------------------------------------------------------------------

    def start_turn(self, request: ChatRequest, caller: Caller) -> PreparedTurn:
        """Admission and the conversation: every client error is raised here, before any byte of an
        answer is streamed and before anything is written."""
        admitted = self.admission.chat(request, caller)
        try:
            return self._conversations.prepare(admitted, request, caller)
        except IndexNotReadyError as exc:
            raise NotReady(str(exc)) from None

    def stream(self, turn: PreparedTurn) -> Iterator[ChatEvent]:
        """The turn's events, ending with TurnCompleted or TurnFailed."""
        return self._pipeline.run(turn)

    def answer(self, turn: PreparedTurn) -> TurnResult:
        """The turn run to its end; AnswerFailed when it failed."""
        for event in self._pipeline.run(turn):
            if isinstance(event, TurnCompleted):
                return event.result
            if isinstance(event, TurnFailed):
                raise AnswerFailed(f"{event.reason}; please try again")
        raise AnswerFailed("the answer ended without a result")  # pragma: no cover

    def ask(self, request: ChatRequest, caller: Caller) -> TurnResult:
        return self.answer(self.start_turn(request, caller))

    # -- search, conversations, feedback -------------------------------------------------------------

    def search(self, request: SearchRequest, caller: Caller) -> SearchResult:
        query, k, topics = self.admission.search(request, caller)
        try:
            found = self._retriever.retrieve_passages(query, k, topics or None)
        except IndexNotReadyError as exc:
            raise NotReady(str(exc)) from None
        except Exception as exc:  # the vector store or the index failed: a retryable refusal
            log.exception("search failed")
            raise AnswerFailed(f"search failed: {type(exc).__name__}; please try again") from None
        return SearchResult(tuple(found.passages), found.in_scope)

    def document(self, doc_id: str, caller: Caller) -> DocumentText:
        """A whole document of the guidance, e.g. the one a citation came from."""
        self.admission.read(caller)
        found = self._retriever.document(doc_id)
        if found is None:
            raise NotFound(f"no document {doc_id!r} in the guidance")
        return found

    def conversation(self, conversation_id: str, caller: Caller) -> ConversationView:
        return self._conversations.view(conversation_id, caller)

    def feedback(self, request: FeedbackRequest, caller: Caller) -> int:
        self.admission.feedback(caller)
        feedback_id = self._conversations.feedback(request, caller)
        self._metrics.feedback.labels(request.rating).inc()
        return feedback_id
