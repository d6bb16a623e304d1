"""Conversation handling: which conversation a turn belongs to, the history it brings, and writing the
turn when it is done. Conversations belong to the key that started them: to another key they do not
exist (the same "not found" either way)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from advisor.chat.errors import NotFound
from advisor.chat.model import (
    Caller,
    ChatRequest,
    ConversationView,
    FeedbackRequest,
    StoredMessage,
    initiative_text,
)
from advisor.store.conversations import NewConversation, NotFoundError
from advisor.store.models import new_id, utcnow
from advisor.store.records import MessageRecord
from advisor.types import ReadinessNote, Turn

if TYPE_CHECKING:
    from advisor.chat.admission import AdmittedChat
    from advisor.store.conversations import ConversationRepository, MessageDraft


@dataclass
class PreparedTurn:
    """An admitted turn, ready to run: everything a client error could come from is behind it."""

    caller: Caller
    question: str
    conversation_id: str
    initiative_text: str | None
    history: tuple[Turn, ...]
    k: int | None = None
    topics: tuple[str, ...] = ()
    temperature: float | None = None
    # Set when the conversation is new: it is written together with the turn's messages.
    new_conversation: NewConversation | None = None
    # False for a stateless protocol's turn when retention.store_stateless is off: nothing is written.
    stored: bool = True
    # The weak topics of the conversation's readiness assessment, read with the conversation.
    readiness: tuple[ReadinessNote, ...] = ()


class Conversations:
    def __init__(
        self, repository: ConversationRepository, max_history: int, store_stateless: bool = False
    ) -> None:
        self._repository = repository
        self._max_history = max_history
        self._store_stateless = store_stateless

    def prepare(self, admitted: AdmittedChat, request: ChatRequest, caller: Caller) -> PreparedTurn:
        """The turn's conversation and history. A new conversation gets its id here but is written
        with its first turn, so a turn costs one write transaction."""

        def turn(conversation_id: str, history: tuple[Turn, ...], text: str | None) -> PreparedTurn:
            return PreparedTurn(
                caller,
                admitted.message,
                conversation_id,
                text,
                history,
                admitted.k,
                admitted.topics,
                request.temperature,
            )

        if request.history is not None:
            # A stateless protocol: the caller owns the history. The turn is recorded in a
            # conversation of its own only when retention.store_stateless asks for it.
            recent = request.history[-self._max_history :] if self._max_history > 0 else ()
            prepared = self._new(
                turn(new_id(), tuple(recent), initiative_text(admitted.initiative)), admitted, caller
            )
            prepared.stored = self._store_stateless
            return prepared
        if not request.conversation_id:
            return self._new(turn(new_id(), (), initiative_text(admitted.initiative)), admitted, caller)
        found = self._repository.conversation_with_history(
            request.conversation_id, caller.key_id, self._max_history
        )
        if found is None:
            if request.open_if_missing:
                prepared = turn(request.conversation_id, (), initiative_text(admitted.initiative))
                return self._new(prepared, admitted, caller)
            raise NotFound(f"conversation {request.conversation_id} not found")
        conversation, messages = found
        initiative = conversation.initiative
        if admitted.initiative is not None and admitted.initiative != initiative:
            self._repository.set_initiative(conversation.id, admitted.initiative)
            initiative = admitted.initiative
        history = tuple(Turn(m.role, m.content) for m in messages)  # type: ignore[arg-type]
        prepared = turn(conversation.id, history, initiative_text(initiative))
        prepared.readiness = conversation.readiness
        return prepared

    @staticmethod
    def _new(turn: PreparedTurn, admitted: AdmittedChat, caller: Caller) -> PreparedTurn:
        turn.new_conversation = NewConversation(caller.key_id, admitted.initiative, caller.channel)
        return turn

    def record(self, turn: PreparedTurn, reply: MessageDraft | None) -> MessageRecord | None:
        """Write the question (and the reply, when there is one) in one transaction."""
        if not turn.stored:
            return None if reply is None else _unstored(turn, reply)
        record = self._repository.record_turn(
            turn.conversation_id, turn.question, reply, new_conversation=turn.new_conversation
        )
        turn.new_conversation = None  # written now: a second record on this turn appends to it
        return record

    def view(self, conversation_id: str, caller: Caller) -> ConversationView:
        found = self._repository.conversation_with_history(conversation_id, caller.key_id, None)
        if found is None:
            raise NotFound(f"conversation {conversation_id} not found")
        conversation, messages = found
        return ConversationView(
            conversation.id,
            conversation.initiative,
            conversation.created_at,
            tuple(
                StoredMessage(
                    m.id,
                    m.role,  # type: ignore[arg-type]
                    m.content,
                    m.citations,
                    m.grounded,
                    m.abstained,
                    m.fallback,
                    m.created_at,
                )
                for m in messages
            ),
        )

    def feedback(self, request: FeedbackRequest, caller: Caller) -> int:
        try:
            return self._repository.add_feedback(
                request.message_id, request.rating, request.comment, caller.key_id
            )
        except NotFoundError:
            raise NotFound(f"message {request.message_id} not found") from None


def _unstored(turn: PreparedTurn, reply: MessageDraft) -> MessageRecord:
    """The reply as it would have been recorded, for a turn that is not stored."""
    return MessageRecord(
        id=new_id(),
        conversation_id=turn.conversation_id,
        seq=len(turn.history) + 2,
        role="assistant",
        content=reply.content,
        standalone_question=reply.standalone_question,
        citations=reply.citations,
        grounded=reply.grounded,
        abstained=reply.abstained,
        fallback=reply.fallback,
        created_at=utcnow(),
    )
