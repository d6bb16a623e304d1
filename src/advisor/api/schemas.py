"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Blank text is rejected (422) rather than answered.
NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class InitiativeObject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    goal: str | None = None
    industry: str | None = None
    stage: str | None = None
    data: str | None = None
    team: str | None = None
    constraints: str | None = None


class ChatIn(BaseModel):
    message: NonBlank = Field(description="The user's question.")
    conversation_id: str | None = Field(default=None, max_length=64)
    initiative: str | InitiativeObject | None = Field(
        default=None, description="The initiative, free text or an object."
    )
    stream: bool = Field(default=False, description="Answer as Server-Sent Events.")
    k: int | None = Field(default=None, ge=1, description="Passages to retrieve.")


class CitationOut(BaseModel):
    n: int
    doc_id: str
    title: str
    section: str
    topics: list[str]
    snippet: str
    source: str
    score: float


class ChatOut(BaseModel):
    conversation_id: str
    message_id: str
    answer: str
    citations: list[CitationOut]
    grounded: bool
    abstained: bool
    fallback: bool
    standalone_question: str


class SearchIn(BaseModel):
    query: NonBlank
    k: int | None = Field(default=None, ge=1, description="Passages to return; default retrieval.k.")
    topics: list[str] | None = None


class SearchResult(BaseModel):
    doc_id: str
    title: str
    section: str
    topics: list[str]
    text: str
    source: str
    score: float
    similarity: float


class SearchOut(BaseModel):
    results: list[SearchResult]
    in_scope: bool


class MessageOut(BaseModel):
    id: str
    role: str
    content: str
    citations: list[CitationOut]
    grounded: bool
    abstained: bool
    fallback: bool
    created_at: str


class ConversationOut(BaseModel):
    id: str
    initiative: str | dict[str, object] | None
    created_at: str
    messages: list[MessageOut]


class FeedbackIn(BaseModel):
    message_id: str = Field(min_length=1, max_length=64)
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=2000)


class FeedbackOut(BaseModel):
    id: int
    status: Literal["stored"] = "stored"
