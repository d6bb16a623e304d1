"""Persistence for conversations, feedback, index bookkeeping and idempotency keys.

Every ``Store`` method is its own transaction and returns plain frozen dataclasses, never ORM objects,
so callers cannot trigger lazy loads or hold sessions open.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from advisor.store.models import (
    Conversation,
    Feedback,
    IndexContentsRow,
    IndexedDocument,
    IndexState,
    Message,
    ProcessedEvent,
    new_id,
    utcnow,
)
from advisor.store.records import (
    ConversationRecord,
    FeedbackRecord,
    IndexedDocumentRecord,
    IndexStateRecord,
    Initiative,
    MessageDraft,
    MessageRecord,
    NewConversation,
    NotFoundError,
    check_initiative,
    citation_dict,
    conversation_record,
    document_record,
    feedback_record,
    index_state_record,
    message_record,
)
from advisor.store.sessions import SessionScopes
from advisor.types import Citation

__all__ = [
    "RATINGS",
    "ROLES",
    "ConversationRecord",
    "FeedbackRecord",
    "IndexStateRecord",
    "IndexedDocumentRecord",
    "Initiative",
    "MessageDraft",
    "MessageRecord",
    "NewConversation",
    "NotFoundError",
    "Rating",
    "Store",
]

logger = logging.getLogger(__name__)

Rating = Literal["up", "down"]

ROLES: frozenset[str] = frozenset({"user", "assistant"})
RATINGS: frozenset[str] = frozenset({"up", "down"})


class Store(SessionScopes):
    """Database access for the service; thread-safe (one session per call)."""

    def __init__(self, engine: Engine, *, append_attempts: int = 5) -> None:
        if append_attempts < 1:
            raise ValueError("append_attempts must be at least 1")
        super().__init__(engine)
        self._append_attempts = append_attempts

    # -- health ---------------------------------------------------------------------------------

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            logger.warning("database ping failed: %s", exc)
            return False
        return True

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
        with self._read() as session:
            row = session.get(Conversation, conversation_id)
            if row is None or row.api_key_id != api_key_id:
                return None
            return conversation_record(row)

    def set_initiative(self, conversation_id: str, initiative: Initiative | None) -> None:
        """Replace the conversation's initiative; NotFoundError when it does not exist."""
        initiative = check_initiative(initiative)
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
        draft = MessageDraft(
            content,
            standalone_question,
            tuple(citation_dict(c) for c in citations),
            grounded,
            abstained,
            fallback,
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
                new_conversation.api_key_id, check_initiative(new_conversation.initiative)
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
        now = utcnow()
        with self._write() as session:
            if new_conversation is not None:
                conversation = Conversation(
                    id=conversation_id,
                    api_key_id=new_conversation.api_key_id,
                    initiative=new_conversation.initiative,
                    created_at=now,
                    updated_at=now,
                )
                session.add(conversation)
                session.flush()  # no ORM relationship orders the inserts: the parent row goes first
                last = 0
            else:
                found = session.get(Conversation, conversation_id, with_for_update=True)
                if found is None:
                    raise NotFoundError(f"conversation {conversation_id} not found")
                conversation = found
                last = (
                    session.scalar(
                        select(func.max(Message.seq)).where(Message.conversation_id == conversation_id)
                    )
                    or 0
                )
                conversation.updated_at = now
            rows = [
                Message(
                    id=new_id(),
                    conversation_id=conversation_id,
                    seq=last + offset,
                    role=role,
                    content=draft.content,
                    standalone_question=draft.standalone_question,
                    citations=list(draft.citations),
                    grounded=draft.grounded,
                    abstained=draft.abstained,
                    fallback=draft.fallback,
                    created_at=now,
                )
                for offset, (role, draft) in enumerate(messages, start=1)
            ]
            session.add_all(rows)
            session.flush()
            return [message_record(row) for row in rows]

    def conversation_with_history(
        self, conversation_id: str, api_key_id: str | None, limit: int
    ) -> tuple[ConversationRecord, list[MessageRecord]] | None:
        """The conversation and its last ``limit`` messages (oldest first) in one read; None when
        it does not exist or was created with a different key."""
        with self._read() as session:
            row = session.get(Conversation, conversation_id)
            if row is None or row.api_key_id != api_key_id:
                return None
            return conversation_record(row), self._last_messages(session, conversation_id, limit)

    def list_messages(self, conversation_id: str, limit: int | None = None) -> list[MessageRecord]:
        """Messages oldest first; with ``limit``, only the last ``limit`` of them (still oldest first)."""
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
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
        with self._read() as session:
            rows = session.scalars(
                select(Feedback).where(Feedback.message_id == message_id).order_by(Feedback.id)
            )
            return [feedback_record(row) for row in rows]

    # -- index bookkeeping ----------------------------------------------------------------------

    def get_index_state(self, name: str = "active") -> IndexStateRecord | None:
        with self._read() as session:
            row = session.get(IndexState, name)
            return None if row is None else index_state_record(row)

    def activate_index(
        self,
        collection: str,
        model: str,
        dimension: int,
        documents: Sequence[IndexedDocumentRecord],
        name: str = "active",
        contents: bytes | None = None,
    ) -> str | None:
        """Write ``collection``'s document rows (and its stored index ``contents``, see
        advisor.retrieval.index_contents) and point ``index_state[name]`` at it, atomically.

        Existing rows of ``collection`` are replaced. Returns the collection previously pointed at
        (None for the first activation; equal to ``collection`` when re-activating it). On any error
        nothing changes: the old pointer and the old rows stay.
        """
        with self._write() as session:
            self._write_documents(session, collection, documents)
            if contents is not None:
                session.merge(IndexContentsRow(collection=collection, data=contents, created_at=utcnow()))
            return self._point_index(
                session,
                name=name,
                collection=collection,
                model=model,
                dimension=dimension,
                chunk_count=sum(len(doc.chunk_ids) for doc in documents),
            )

    def _write_documents(
        self, session: Session, collection: str, documents: Sequence[IndexedDocumentRecord]
    ) -> None:
        session.execute(delete(IndexedDocument).where(IndexedDocument.collection == collection))
        session.add_all(
            IndexedDocument(
                collection=collection,
                doc_id=doc.doc_id,
                source=doc.source,
                content_hash=doc.content_hash,
                chunk_ids=list(doc.chunk_ids),
                title=doc.title,
            )
            for doc in documents
        )
        session.flush()

    def _point_index(
        self, session: Session, *, name: str, collection: str, model: str, dimension: int, chunk_count: int
    ) -> str | None:
        row = session.get(IndexState, name, with_for_update=True)
        previous = None if row is None else row.collection
        if row is None:
            row = IndexState(name=name)
            session.add(row)
        row.collection = collection
        row.model = model
        row.dimension = dimension
        row.chunk_count = chunk_count
        row.updated_at = utcnow()
        session.flush()
        return previous

    def index_contents(self, collection: str) -> bytes | None:
        """The index contents stored for ``collection``, or None (an index built before they were)."""
        with self._read() as session:
            data: bytes | None = session.scalar(
                select(IndexContentsRow.data).where(IndexContentsRow.collection == collection)
            )
            return data

    def has_index_contents(self, collection: str) -> bool:
        with self._read() as session:
            found = session.scalar(
                select(IndexContentsRow.collection).where(IndexContentsRow.collection == collection)
            )
            return found is not None

    def save_index_contents(self, collection: str, contents: bytes) -> None:
        """Store (or replace) the contents of an already active collection, e.g. one indexed before
        contents were stored."""
        with self._write() as session:
            session.merge(IndexContentsRow(collection=collection, data=contents, created_at=utcnow()))

    def indexed_documents(self, collection: str) -> dict[str, IndexedDocumentRecord]:
        """The document rows of ``collection`` keyed by doc_id (empty for an unknown collection)."""
        with self._read() as session:
            rows = session.scalars(select(IndexedDocument).where(IndexedDocument.collection == collection))
            return {row.doc_id: document_record(row) for row in rows}

    def forget_collection(self, collection: str) -> int:
        """Delete ``collection``'s document rows; returns how many were deleted.

        Raises ValueError if an index_state row still points at the collection.
        """
        with self._write() as session:
            active = session.scalars(select(IndexState.name).where(IndexState.collection == collection)).all()
            if active:
                raise ValueError(f"collection {collection!r} is still active as {', '.join(sorted(active))}")
            where = IndexedDocument.collection == collection
            count = session.scalar(select(func.count()).select_from(IndexedDocument).where(where)) or 0
            session.execute(delete(IndexedDocument).where(where))
            session.execute(delete(IndexContentsRow).where(IndexContentsRow.collection == collection))
            return count

    # -- idempotency ----------------------------------------------------------------------------

    def mark_event_processed(self, source: str, event_id: str) -> bool:
        """True the first time (source, event_id) is seen, False for a duplicate, across processes."""
        try:
            with self._write() as session:
                session.add(ProcessedEvent(source=source, event_id=event_id, created_at=utcnow()))
                session.flush()
        except IntegrityError:
            return False
        return True
