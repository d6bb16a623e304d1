"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from advisor.api.bodies import RequestBody
from advisor.chat.model import (
    ChatRequest,
    ConversationView,
    FeedbackRequest,
    SearchRequest,
    SearchResult,
    TurnResult,
)
from advisor.types import Citation, DocumentText

# Blank text is rejected (422) rather than answered.
NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class InitiativeObject(RequestBody):
    model_config = ConfigDict(extra="forbid")
    goal: str | None = None
    industry: str | None = None
    stage: str | None = None
    data: str | None = None
    team: str | None = None
    constraints: str | None = None


class ChatIn(RequestBody):
    message: NonBlank = Field(description="The user's question.")
    conversation_id: str | None = Field(default=None, max_length=64)
    initiative: str | InitiativeObject | None = Field(
        default=None, description="The initiative, free text or an object."
    )
    # Strict: 0, 1 or "true" is refused rather than read as a boolean.
    stream: StrictBool = Field(default=False, description="Answer as Server-Sent Events.")
    k: int | None = Field(default=None, ge=1, description="Passages to retrieve.")
    topics: list[str] | None = Field(default=None, description="Only draw on passages with these topics.")

    def to_request(self) -> ChatRequest:
        initiative = (
            self.initiative.model_dump(exclude_none=True)
            if isinstance(self.initiative, InitiativeObject)
            else self.initiative
        )
        return ChatRequest(self.message, self.conversation_id, initiative, self.k, tuple(self.topics or ()))


class ChatOut(BaseModel):
    conversation_id: str
    message_id: str
    answer: str
    citations: list[Citation]
    grounded: bool
    abstained: bool
    fallback: bool
    standalone_question: str

    @classmethod
    def of(cls, result: TurnResult) -> ChatOut:
        return cls(
            conversation_id=result.conversation_id,
            message_id=result.message_id,
            answer=result.answer,
            citations=list(result.citations),
            grounded=result.grounded,
            abstained=result.abstained,
            fallback=result.fallback,
            standalone_question=result.standalone_question,
        )


class SearchIn(RequestBody):
    query: NonBlank
    k: int | None = Field(default=None, ge=1, description="Passages to return; default retrieval.k.")
    topics: list[str] | None = None

    def to_request(self) -> SearchRequest:
        return SearchRequest(self.query, self.k, tuple(self.topics or ()))


class SearchHit(BaseModel):
    doc_id: str
    title: str
    section: str
    topics: list[str]
    text: str
    source: str
    score: float
    similarity: float


class SearchOut(BaseModel):
    results: list[SearchHit]
    in_scope: bool

    @classmethod
    def of(cls, found: SearchResult) -> SearchOut:
        hits = [SearchHit.model_validate(p.as_search_result()) for p in found.passages]
        return cls(results=hits, in_scope=found.in_scope)


class MessageOut(BaseModel):
    id: str
    role: str
    content: str
    citations: list[Citation]
    grounded: bool
    abstained: bool
    fallback: bool
    created_at: str


class ConversationOut(BaseModel):
    id: str
    initiative: str | dict[str, object] | None
    created_at: str
    messages: list[MessageOut]

    @classmethod
    def of(cls, view: ConversationView) -> ConversationOut:
        return cls(
            id=view.id,
            initiative=view.initiative,
            created_at=view.created_at.isoformat(),
            messages=[
                MessageOut(
                    id=m.id,
                    role=m.role,
                    content=m.content,
                    citations=list(m.citations),
                    grounded=m.grounded,
                    abstained=m.abstained,
                    fallback=m.fallback,
                    created_at=m.created_at.isoformat(),
                )
                for m in view.messages
            ],
        )


class FeedbackIn(RequestBody):
    message_id: str = Field(min_length=1, max_length=64)
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=2000)

    def to_request(self) -> FeedbackRequest:
        return FeedbackRequest(self.message_id, self.rating, self.comment)


class FeedbackOut(BaseModel):
    id: int
    status: Literal["stored"] = "stored"


class DocumentSectionOut(BaseModel):
    section: str
    text: str


class DocumentOut(BaseModel):
    """A whole document of the guidance, its sections in order."""

    doc_id: str
    title: str
    topics: list[str]
    source: str
    sections: list[DocumentSectionOut]

    @classmethod
    def of(cls, document: DocumentText) -> DocumentOut:
        sections = [DocumentSectionOut(section=name, text=text) for name, text in document.sections]
        return cls(
            doc_id=document.doc_id,
            title=document.title,
            topics=list(document.topics),
            source=document.source,
            sections=sections,
        )
