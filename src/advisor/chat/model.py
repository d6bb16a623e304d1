"""What goes into the core and what comes out: requests, the caller, the typed result of a turn and the
events of a streamed turn. Channels build requests from their protocol and render results back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeAlias

from advisor.auth import Principal
from advisor.types import Citation, Passage, Turn

#: Free text ("churn model, data in three CRMs") or an object with the fields below.
Initiative: TypeAlias = str | dict[str, Any]
INITIATIVE_FIELDS = ("goal", "industry", "stage", "data", "team", "constraints")

#: Where a request came in; recorded in logs and used to pick per-channel limits.
Channel = Literal["api", "openai", "widget", "slack", "cli", "eval"]


@dataclass(frozen=True)
class Caller:
    """Who is asking, through which channel, from where (the client address, for per-IP limits)."""

    principal: Principal
    channel: Channel
    client_address: str | None = None

    @property
    def key_id(self) -> str | None:
        return self.principal.key_id


@dataclass(frozen=True)
class ChatRequest:
    message: str
    conversation_id: str | None = None
    initiative: Initiative | None = None
    k: int | None = None
    topics: tuple[str, ...] = ()
    # A stateless channel (the OpenAI protocol) sends the earlier turns itself; they are used, not stored.
    history: tuple[Turn, ...] | None = None
    # With conversation_id: start that conversation when it does not exist yet (a Slack thread's id
    # is derived from the thread, so the same thread always continues the same conversation).
    open_if_missing: bool = False
    temperature: float | None = None


@dataclass(frozen=True)
class SearchRequest:
    query: str
    k: int | None = None
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeedbackRequest:
    message_id: str
    rating: Literal["up", "down"]
    comment: str | None = None


@dataclass(frozen=True)
class TurnResult:
    """The outcome of one turn: the same object for the JSON response, the end of a stream, Slack's
    blocks, the CLI and the evaluation."""

    conversation_id: str
    message_id: str
    answer: str
    citations: tuple[Citation, ...]
    grounded: bool
    abstained: bool
    fallback: bool
    standalone_question: str


@dataclass(frozen=True)
class TextDelta:
    """More of the answer's text."""

    text: str


@dataclass(frozen=True)
class Restart:
    """Everything streamed so far is withdrawn; the answer starts again (an LLM failed mid-answer and
    the fallback takes over, or a composition turned out to cite nothing)."""


@dataclass(frozen=True)
class TurnCompleted:
    result: TurnResult


@dataclass(frozen=True)
class TurnFailed:
    """The turn could not be answered; the question was recorded. ``reason`` is safe to show."""

    reason: str


ChatEvent: TypeAlias = TextDelta | Restart | TurnCompleted | TurnFailed


@dataclass(frozen=True)
class SearchResult:
    passages: tuple[Passage, ...]
    in_scope: bool


@dataclass(frozen=True)
class StoredMessage:
    id: str
    role: Literal["user", "assistant"]
    content: str
    citations: tuple[Citation, ...]
    grounded: bool
    abstained: bool
    fallback: bool
    created_at: datetime


@dataclass(frozen=True)
class ConversationView:
    id: str
    initiative: Initiative | None
    created_at: datetime
    messages: tuple[StoredMessage, ...] = field(default=())


def initiative_text(initiative: Initiative | None) -> str | None:
    """A free-text rendering of the initiative, whichever form it was given in."""
    if initiative is None:
        return None
    if isinstance(initiative, str):
        return initiative.strip() or None
    parts = [f"{key}: {value}" for key, value in initiative.items() if value not in (None, "", [])]
    return "; ".join(parts) or None
