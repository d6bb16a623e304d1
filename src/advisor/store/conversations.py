"""Conversations, their messages and the feedback on them: one transaction per call, plain frozen
records out (never ORM objects, so callers cannot trigger lazy loads or hold sessions open)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from advisor.store.housekeeping import ConversationHousekeeping
from advisor.store.models import Conversation, Feedback, Message, new_id, utcnow
from advisor.store.records import (
    ConversationRecord,
    FeedbackRecord,
    Initiative,
    MessageDraft,
    MessageRecord,
    NewConversation,
    NotFoundError,
    check_initiative,
    conversation_record,
    feedback_record,
    message_record,
)
from advisor.text import storable, text_problem
from advisor.types import Citation, ReadinessNote

__all__ = [
    "RATINGS",
    "ROLES",
    "ConversationRecord",
    "ConversationRepository",
    "FeedbackRecord",
    "Initiative",
    "MessageDraft",
    "MessageRecord",
    "NewConversation",
    "NotFoundError",
    "Rating",
]

logger = logging.getLogger(__name__)

Rating = Literal["up", "down"]

ROLES: frozenset[str] = frozenset({"user", "assistant"})
RATINGS: frozenset[str] = frozenset({"up", "down"})


def _matchable(identifier: str) -> bool:
    """An id with a NUL or a lone surrogate matches nothing: asked as it is, PostgreSQL would fail
    the query where SQLite finds no row (both are told the same: not found)."""
    return text_problem(identifier) is None


class ConversationRepository(ConversationHousekeeping):
    """Conversations, messages and feedback; thread-safe (one session per call). Purging and the
    gap questions are in ``ConversationHousekeeping``."""

    def __init__(self, engine: Engine, *, append_attempts: int = 5) -> None:
        if append_attempts < 1:
            raise ValueError("append_attempts must be at least 1")
        super().__init__(engine)
        self._append_attempts = append_attempts

    # -- conversations --------------------------------------------------------------------------

    def create_conversation(
        self, api_key_id: str | None, initiative: Initiative | None
    ) -> ConversationRecord:
        initiative = check_initiative(initiative)
        now = utcnow()
        with self._write() as session:
            row = Conversation(
                id=new_id(), api_key_id=api_key_id, initiative=initiative, created_at=now, updated_at=now
            )
            session.add(row)
            session.flush()
            return conversation_record(row)

    def get_conversation(self, conversation_id: str, api_key_id: str | None) -> ConversationRecord | None:
        """The conversation, or None when it does not exist or was created with a different key."""
        if not _matchable(conversation_id):
            return None
        with self._read() as session:
            row = session.get(Conversation, conversation_id)
            if row is None or row.api_key_id != api_key_id:
                return None
            return conversation_record(row)

    def set_readiness(self, conversation_id: str, notes: Sequence[ReadinessNote]) -> None:
        """Keep the weak topics of the conversation's assessment with it (read on every turn)."""
        stored = [{"topic": n.topic, "level": n.level, "label": n.label, "said": list(n.said)} for n in notes]
        with self._write() as session:
            session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(readiness=stored or None)
            )

    def set_initiative(self, conversation_id: str, initiative: Initiative | None) -> None:
        """Replace the conversation's initiative; NotFoundError when it does not exist."""
        initiative = check_initiative(initiative)
        if not _matchable(conversation_id):
            raise NotFoundError(f"conversation {conversation_id!r} not found")
        with self._write() as session:
            row = session.get(Conversation, conversation_id)
            if row is None:
                raise NotFoundError(f"conversation {conversation_id} not found")
            row.initiative = initiative
            row.updated_at = utcnow()

    # -- messages -------------------------------------------------------------------------------

    def append_message(
        self,
        conversation_id: str,
        role: str,
        content: str,
        *,
        standalone_question: str | None = None,
        citations: Iterable[Citation | Mapping[str, Any]] = (),
        grounded: bool = True,
        abstained: bool = False,
        fallback: bool = False,
    ) -> MessageRecord:
        """Append a message as the conversation's next ``seq``; NotFoundError for an unknown conversation.

        Concurrent appends to one conversation are serialised (row lock on PostgreSQL, write lock on
        SQLite); a lost race on the unique (conversation_id, seq) is retried.
        """
        if role not in ROLES:
            raise ValueError(f"role must be one of {sorted(ROLES)}, not {role!r}")
        draft = MessageDraft.of(
            content,
            standalone_question=standalone_question,
            citations=citations,
            grounded=grounded,
            abstained=abstained,
            fallback=fallback,
        )
        return self._append_with_retries(conversation_id, [(role, draft)], None)[0]

    def record_turn(
        self,
        conversation_id: str,
        question: str,
        reply: MessageDraft | None,
        *,
        new_conversation: NewConversation | None = None,
    ) -> MessageRecord | None:
        """Write one turn in one transaction: the conversation when it is new, the question, and the
        reply when there is one (a failed answer records the question alone). Returns the reply's
        record. One transaction instead of three is most of the database's share of a chat turn.
        """
        if new_conversation is not None:
            new_conversation = NewConversation(
                new_conversation.api_key_id,
                check_initiative(new_conversation.initiative),
                new_conversation.channel,
            )
        messages: list[tuple[str, MessageDraft]] = [("user", MessageDraft(question))]
        if reply is not None:
            messages.append(("assistant", reply))
        records = self._append_with_retries(conversation_id, messages, new_conversation)
        return records[1] if reply is not None else None

    def _append_with_retries(
        self,
        conversation_id: str,
        messages: Sequence[tuple[str, MessageDraft]],
        new_conversation: NewConversation | None,
    ) -> list[MessageRecord]:
        for attempt in range(1, self._append_attempts + 1):
            try:
                return self._append_once(conversation_id, messages, new_conversation)
            except IntegrityError:
                if attempt == self._append_attempts:
                    raise
                logger.debug("append race on %s (attempt %d); retrying", conversation_id, attempt)
                time.sleep(random.uniform(0.005, 0.02) * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _append_once(
        self,
        conversation_id: str,
        messages: Sequence[tuple[str, MessageDraft]],
        new_conversation: NewConversation | None,
    ) -> list[MessageRecord]:
        # Core statements, not ORM objects: a turn is written on every answer, and the unit of work's
        # bookkeeping cost more than the two or three INSERTs themselves.
        if not _matchable(conversation_id):
            raise NotFoundError(f"conversation {conversation_id!r} not found")
        now = utcnow()
        with self._write() as session:
            if new_conversation is not None and self._insert_conversation(
                session, conversation_id, new_conversation, now
            ):
                last = 0
            else:
                locked = select(Conversation.api_key_id).where(Conversation.id == conversation_id)
                owner = session.execute(locked.with_for_update()).first()
                if owner is None:
                    raise NotFoundError(f"conversation {conversation_id} not found")
                if new_conversation is not None and owner.api_key_id != new_conversation.api_key_id:
                    raise NotFoundError(f"conversation {conversation_id} not found")
                last = (
                    session.scalar(
                        select(func.max(Message.seq)).where(Message.conversation_id == conversation_id)
                    )
                    or 0
                )
                session.execute(
                    update(Conversation).where(Conversation.id == conversation_id).values(updated_at=now)
                )
            rows: list[dict[str, Any]] = [
                {
                    "id": new_id(),
                    "conversation_id": conversation_id,
                    "seq": last + offset,
                    "role": role,
                    "content": storable(draft.content),
                    "standalone_question": (
                        None if draft.standalone_question is None else storable(draft.standalone_question)
                    ),
                    "citations": [citation.as_dict() for citation in draft.citations],
                    "grounded": draft.grounded,
                    "abstained": draft.abstained,
                    "fallback": draft.fallback,
                    "created_at": now,
                    "latency_ms": draft.latency_ms,
                }
                for offset, (role, draft) in enumerate(messages, start=1)
            ]
            session.execute(insert(Message), rows)
            return [
                MessageRecord(**{**row, "citations": draft.citations})
                for row, (_, draft) in zip(rows, messages, strict=True)
            ]

    @staticmethod
    def _insert_conversation(session: Session, conversation_id: str, new: NewConversation, now: Any) -> bool:
        """Insert the conversation unless it exists (a conversation whose id is derived from a Slack
        thread may be started by two deliveries at once); True when this call inserted it."""
        if session.get(Conversation, conversation_id) is not None:
            return False
        session.execute(
            insert(Conversation),
            {
                "id": conversation_id,
                "api_key_id": new.api_key_id,
                "initiative": new.initiative,
                "channel": new.channel,
                "created_at": now,
                "updated_at": now,
            },
        )
        return True

    def conversation_with_history(
        self, conversation_id: str, api_key_id: str | None, limit: int | None
    ) -> tuple[ConversationRecord, list[MessageRecord]] | None:
        """The conversation and its last ``limit`` messages (all with None; oldest first) in one
        read; None when it does not exist or was created with a different key."""
        if not _matchable(conversation_id):
            return None
        with self._read() as session:
            row = session.get(Conversation, conversation_id)
            if row is None or row.api_key_id != api_key_id:
                return None
            return conversation_record(row), self._last_messages(session, conversation_id, limit)

    def list_messages(self, conversation_id: str, limit: int | None = None) -> list[MessageRecord]:
        """Messages oldest first; with ``limit``, only the last ``limit`` of them (still oldest first)."""
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
        if not _matchable(conversation_id):
            return []
        with self._read() as session:
            return self._last_messages(session, conversation_id, limit)

    @staticmethod
    def _last_messages(session: Session, conversation_id: str, limit: int | None) -> list[MessageRecord]:
        if limit is not None and limit <= 0:
            return []
        query = select(Message).where(Message.conversation_id == conversation_id)
        if limit is None:
            rows = list(session.scalars(query.order_by(Message.seq)))
        else:
            rows = list(session.scalars(query.order_by(Message.seq.desc()).limit(limit)))
            rows.reverse()
        return [message_record(row) for row in rows]

    # -- feedback -------------------------------------------------------------------------------

    def add_feedback(self, message_id: str, rating: str, comment: str | None, api_key_id: str | None) -> int:
        """Record feedback and return its id.

        ValueError for a rating other than "up"/"down"; NotFoundError when the message does not exist
        or its conversation was created with a different key.
        """
        if rating not in RATINGS:
            raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
        if not _matchable(message_id):
            raise NotFoundError(f"message {message_id!r} not found")
        comment = None if comment is None else storable(comment)
        with self._write() as session:
            owner = session.execute(
                select(Conversation.api_key_id)
                .join(Message, Message.conversation_id == Conversation.id)
                .where(Message.id == message_id)
            ).one_or_none()
            if owner is None or owner.api_key_id != api_key_id:
                raise NotFoundError(f"message {message_id} not found")
            row = Feedback(message_id=message_id, rating=rating, comment=comment, created_at=utcnow())
            session.add(row)
            session.flush()
            return row.id

    def feedback_for(self, message_id: str) -> list[FeedbackRecord]:
        """All feedback on a message, oldest first."""
        if not _matchable(message_id):
            return []
        with self._read() as session:
            rows = session.scalars(
                select(Feedback).where(Feedback.message_id == message_id).order_by(Feedback.id)
            )
            return [feedback_record(row) for row in rows]
