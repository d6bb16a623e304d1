"""Admission: every check a request passes before any work is done, in one place for every channel.

The limits (README, "Admission"): message and query length, initiative shape and length, ``k``, known
topics, a loaded index, and the caller's rate limits. Each refusal is a typed error from
``advisor.chat.errors`` whose reason is written here once; channels only translate it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from advisor.chat.errors import InvalidRequest, NotReady
from advisor.chat.model import (
    INITIATIVE_FIELDS,
    Caller,
    ChatRequest,
    Initiative,
    SearchRequest,
    initiative_text,
)
from advisor.retrieval.retriever import IndexNotReadyError

if TYPE_CHECKING:
    from advisor.chat.rate_limits import RateLimiter
    from advisor.retrieval.retriever import Retriever
    from advisor.settings import Settings


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AdmittedChat:
    """A chat request that passed admission, with its text cleaned."""

    message: str
    initiative: Initiative | None
    k: int | None
    topics: tuple[str, ...]


class Admission:
    def __init__(self, settings: Settings, retriever: Retriever, rate_limiter: RateLimiter) -> None:
        self._limits = settings.limits
        self._widget = settings.widget
        self._default_k = settings.retrieval.k
        self._retriever = retriever
        self._rate_limiter = rate_limiter

    # -- whole requests --------------------------------------------------------------------------

    def chat(self, request: ChatRequest, caller: Caller) -> AdmittedChat:
        message = self.message(request.message, caller)
        initiative = self.initiative(request.initiative)
        k = self.k(request.k)
        self._rate_limiter.admit(caller, "chat", request.conversation_id)
        self.ready()
        topics = self.topics(request.topics)
        return AdmittedChat(message, initiative, k, topics)

    def search(self, request: SearchRequest, caller: Caller) -> tuple[str, int, tuple[str, ...]]:
        """The cleaned query, the k to use and the topics."""
        query = self.message(request.query, caller, field="query")
        k = self.k(request.k) or min(self._default_k, self._limits.max_k)
        self.ready()
        return query, k, self.topics(request.topics)

    def rate_limit(self, caller: Caller) -> None:
        """Count a request against the caller's chat limits (assessments count as chat)."""
        self._rate_limiter.admit(caller, "chat")

    def feedback(self, caller: Caller) -> None:
        self._rate_limiter.admit(caller, "feedback")

    def read(self, caller: Caller) -> None:
        self._rate_limiter.admit(caller, "read")
        self.ready()

    # -- single checks ---------------------------------------------------------------------------

    def message_limit(self, caller: Caller) -> int:
        if caller.principal.kind == "widget":
            return min(self._widget.max_message_chars, self._limits.max_message_chars)
        return self._limits.max_message_chars

    def message(self, text: str, caller: Caller, *, field: str = "message") -> str:
        cleaned = text.strip()
        if not cleaned:
            raise InvalidRequest(f"{field} is empty", field=field)
        limit = self.message_limit(caller)
        if len(cleaned) > limit:
            raise InvalidRequest(f"{field} is {len(cleaned)} characters; the limit is {limit}", field=field)
        return cleaned

    def initiative(self, initiative: Initiative | None) -> Initiative | None:
        """The initiative as it will be stored (None when blank); its length is that of its text."""
        if initiative is None:
            return None
        if isinstance(initiative, dict):
            unknown = sorted(set(initiative) - set(INITIATIVE_FIELDS))
            if unknown:
                raise InvalidRequest(
                    f"initiative has unknown fields: {', '.join(unknown)}; "
                    f"use {', '.join(INITIATIVE_FIELDS)}",
                    field="initiative",
                )
            if any(not isinstance(v, str | None) for v in initiative.values()):
                raise InvalidRequest("initiative fields must be text", field="initiative")
            initiative = {k: v for k, v in initiative.items() if v is not None}
        elif not isinstance(initiative, str):
            raise InvalidRequest("initiative must be text or an object", field="initiative")
        text = initiative_text(initiative)
        if text is None:
            return None
        limit = self._limits.max_initiative_chars
        if len(text) > limit:
            raise InvalidRequest(
                f"initiative is {len(text)} characters; the limit is {limit}", field="initiative"
            )
        return initiative.strip() if isinstance(initiative, str) else initiative

    def k(self, k: int | None) -> int | None:
        if k is None:
            return None
        if k < 1:
            raise InvalidRequest(f"k is {k}; it must be at least 1", field="k")
        if k > self._limits.max_k:
            raise InvalidRequest(f"k is {k}; the limit is {self._limits.max_k}", field="k")
        return k

    def ready(self) -> None:
        try:
            self._retriever.require_index()
        except IndexNotReadyError as exc:
            raise NotReady(str(exc)) from None
        except Exception as exc:  # the vector store or the database cannot be read right now
            log.error("the index cannot be read", exc_info=True)
            raise NotReady(f"the index cannot be read ({type(exc).__name__}); see /readyz") from None

    def topics(self, topics: Sequence[str]) -> tuple[str, ...]:
        if not topics:
            return ()
        unknown = sorted(set(topics) - self._retriever.known_topics())
        if unknown:
            raise InvalidRequest(f"unknown topics: {', '.join(unknown)}", field="topics")
        return tuple(dict.fromkeys(topics))
