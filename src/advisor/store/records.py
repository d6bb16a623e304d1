"""The plain frozen records the repositories return, ``NotFoundError``, and conversions into them:
ORM row -> record, and caller values -> the JSON the record (and its column) will hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

from advisor.store.models import Conversation, Feedback, IndexedDocument, IndexState, Message
from advisor.text import storable
from advisor.types import Citation, ReadinessNote

Initiative: TypeAlias = str | dict[str, Any]


class NotFoundError(LookupError):
    """The conversation or message does not exist, or belongs to another API key."""


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    id: str
    api_key_id: str | None
    initiative: Initiative | None
    created_at: datetime
    updated_at: datetime
    readiness: tuple[ReadinessNote, ...] = ()  # the weak topics of its readiness assessment


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: str
    conversation_id: str
    seq: int  # 1, 2, 3... within the conversation
    role: str  # "user" | "assistant"
    content: str
    standalone_question: str | None
    citations: tuple[Citation, ...]
    grounded: bool
    abstained: bool
    fallback: bool
    created_at: datetime
    latency_ms: int | None = None


@dataclass(frozen=True, slots=True)
class MessageDraft:
    """A message not yet written: what ``Store.record_turn`` appends after the question."""

    content: str
    standalone_question: str | None = None
    citations: tuple[Citation, ...] = ()
    grounded: bool = True
    abstained: bool = False
    fallback: bool = False
    latency_ms: int | None = None  # an answer's, from the question's arrival

    @classmethod
    def of(
        cls,
        content: str,
        *,
        standalone_question: str | None = None,
        citations: Iterable[Citation | Mapping[str, Any]] = (),
        grounded: bool = True,
        abstained: bool = False,
        fallback: bool = False,
    ) -> MessageDraft:
        """A draft with its citations in the JSON form the column stores."""
        return cls(
            content,
            standalone_question,
            tuple(c if isinstance(c, Citation) else Citation.from_dict(c) for c in citations),
            grounded,
            abstained,
            fallback,
        )


@dataclass(frozen=True, slots=True)
class NewConversation:
    """A conversation whose id was handed out but which is written with its first turn."""

    api_key_id: str | None
    initiative: Initiative | None
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    id: int
    message_id: str
    rating: str  # "up" | "down"
    comment: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class IndexStateRecord:
    name: str
    collection: str
    model: str
    dimension: int
    chunk_count: int
    updated_at: datetime


@dataclass(frozen=True)
class IndexedDocumentRecord:
    doc_id: str
    title: str
    source: str
    content_hash: str
    chunk_ids: tuple[str, ...] = field(default=())
    source_name: str = "knowledge"  # the named corpus source it came from
    topics: tuple[str, ...] = ()
    updated: str = ""  # YYYY-MM-DD (see LoadedDocument.updated); "" if indexed before it was kept

    def __post_init__(self) -> None:
        # Accept any sequence (e.g. a list read from JSON) but keep the record hashable/immutable.
        object.__setattr__(self, "chunk_ids", tuple(self.chunk_ids))
        object.__setattr__(self, "topics", tuple(self.topics))


def _json_roundtrip(value: Any) -> Any:
    """What the JSON column will give back, so returned records equal re-read ones."""
    return json.loads(json.dumps(value))


def _storable_json(value: Any) -> Any:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(str(k)): _storable_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable_json(v) for v in value]
    return value


def check_initiative(initiative: Initiative | None) -> Initiative | None:
    """The initiative as both databases can store it (see ``advisor.text.storable``)."""
    if initiative is None or isinstance(initiative, str):
        return None if initiative is None else storable(initiative)
    if isinstance(initiative, dict):
        roundtripped: dict[str, Any] = _json_roundtrip(_storable_json(initiative))
        return roundtripped
    raise TypeError(f"initiative must be a str, a dict or None, not {type(initiative).__name__}")


def conversation_record(row: Conversation) -> ConversationRecord:
    return ConversationRecord(
        id=row.id,
        api_key_id=row.api_key_id,
        initiative=row.initiative,
        created_at=row.created_at,
        updated_at=row.updated_at,
        readiness=tuple(
            ReadinessNote(str(n["topic"]), int(n["level"]), str(n["label"]), tuple(n.get("said") or ()))
            for n in row.readiness or ()
        ),
    )


def message_record(row: Message) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        seq=row.seq,
        role=row.role,
        content=row.content,
        standalone_question=row.standalone_question,
        citations=tuple(Citation.from_dict(c) for c in row.citations or ()),
        grounded=row.grounded,
        abstained=row.abstained,
        fallback=row.fallback,
        created_at=row.created_at,
    )


def feedback_record(row: Feedback) -> FeedbackRecord:
    return FeedbackRecord(
        id=row.id,
        message_id=row.message_id,
        rating=row.rating,
        comment=row.comment,
        created_at=row.created_at,
    )


def index_state_record(row: IndexState) -> IndexStateRecord:
    return IndexStateRecord(
        name=row.name,
        collection=row.collection,
        model=row.model,
        dimension=row.dimension,
        chunk_count=row.chunk_count,
        updated_at=row.updated_at,
    )


def document_record(row: IndexedDocument) -> IndexedDocumentRecord:
    return IndexedDocumentRecord(
        doc_id=row.doc_id,
        title=row.title,
        source=row.source,
        content_hash=row.content_hash,
        chunk_ids=tuple(row.chunk_ids or ()),
        source_name=row.source_name,
        topics=tuple(row.topics or ()),
        updated=row.updated or "",
    )


@dataclass(frozen=True, slots=True)
class CorpusSourceRecord:
    name: str
    path: str  # a JSON list of folders (advisor.ingest.sources.encode_paths)
    added_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def folders(self) -> list[str]:
        try:
            found = json.loads(self.path)
        except ValueError:
            return [self.path]
        return [str(p) for p in found] if isinstance(found, list) else [self.path]


@dataclass(frozen=True, slots=True)
class GapQuestion:
    """A question Advisor could not answer well (see ConversationRepository.gap_questions)."""

    question: str  # the standalone form when recorded, else as asked
    asked: str  # the user's own words
    reason: str  # "abstained", "rated down" or "not grounded"
    conversation_id: str
    at: datetime
