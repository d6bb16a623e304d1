"""From an OpenAI chat-completions request to an Advisor turn, and from the answer stream back to
``chat.completion`` objects and ``chat.completion.chunk`` events.

The reply text keeps its ``[n]`` markers and ends with a sources list, so a plain chat client shows
everything; the structured result (citations, grounded, abstained...) travels in an extra
``advisor`` field that standard clients ignore.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

from advisor.api.openai.schemas import MODEL_ID, ChatCompletionIn, OpenAIHTTPError
from advisor.api.schemas import ChatOut
from advisor.chat.errors import AnswerFailed
from advisor.chat.model import (
    ChatEvent,
    ChatRequest,
    Restart,
    TextDelta,
    TurnCompleted,
    TurnFailed,
    TurnResult,
)
from advisor.types import Citation, Turn

# A rough token: a word or a punctuation mark. Advisor has no tokenizer of the client's model, so
# max_tokens and usage are estimates in these units.
_TOKEN = re.compile(r"\w+|[^\w\s]")
SOURCES_HEADING = "\n\nSources:\n"
# The sources list at the end of one of our earlier replies, as a client sends it back.
_TRAILING_SOURCES = re.compile(r"\n\s*Sources:\s*\n(?:[ \t]*\[\d+\][^\n]*(?:\n|$))+\s*$")
# A streamed answer cannot be taken back; when the service restarts it, say so in the text.
RESTART_NOTE = "\n\n(The answer above is withdrawn; here is the answer.)\n\n"


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


class TokenBudget:
    """Lets text through until ``limit`` estimated tokens have passed (no limit when None)."""

    def __init__(self, limit: int | None) -> None:
        self.remaining = limit
        self.exhausted = False

    def take(self, text: str) -> str:
        if self.remaining is None:
            return text
        if self.exhausted:
            return ""
        for count, match in enumerate(_TOKEN.finditer(text), start=1):
            if count == self.remaining:
                self.remaining, self.exhausted = 0, True
                return text[: match.end()]
        self.remaining -= count_tokens(text)
        return text


def sources_block(citations: Sequence[Citation]) -> str:
    if not citations:
        return ""
    lines = [f"[{c.n}] {c.title} > {c.section} ({c.source})" for c in citations]
    return SOURCES_HEADING + "\n".join(lines)


def refuse_unsupported_options(body: ChatCompletionIn) -> None:
    """A 400 naming the parameter for what Advisor cannot honour, rather than ignoring it."""
    if body.n not in (None, 1):
        raise _unsupported("n", "Advisor writes one answer per request; n must be 1.", "unsupported_value")
    if body.tools:
        raise _unsupported("tools", "Advisor answers from its guidance and calls no tools.")
    if body.functions:
        raise _unsupported("functions", "Advisor answers from its guidance and calls no functions.")
    for name, choice in (("tool_choice", body.tool_choice), ("function_call", body.function_call)):
        if choice not in (None, "none", "auto"):
            raise _unsupported(name, f'Advisor calls no tools; {name} may only be "none" or "auto".')
    if body.response_format is not None and body.response_format.type != "text":
        raise _unsupported(
            "response_format",
            f'Advisor answers in cited prose and cannot promise {body.response_format.type}; use "text".',
            "unsupported_value",
        )


def _unsupported(param: str, message: str, code: str = "unsupported_parameter") -> OpenAIHTTPError:
    return OpenAIHTTPError(400, message, code=code, param=param)


def read_request(body: ChatCompletionIn) -> tuple[ChatRequest, int]:
    """The chat request in the message list (the last user message is the question, earlier turns
    the history, system messages or ``metadata.initiative`` the initiative) and its prompt tokens.
    Protocol errors are 400/404 here; every limit is the chat core's admission."""
    if body.model != MODEL_ID:
        raise OpenAIHTTPError(
            404,
            f"The model {body.model!r} does not exist; use {MODEL_ID!r}.",
            code="model_not_found",
            param="model",
        )
    refuse_unsupported_options(body)
    last = body.messages[-1]
    if last.role != "user":
        raise OpenAIHTTPError(400, "the last message must come from the user", param="messages")
    history: list[Turn] = []
    system: list[str] = []
    for message in body.messages[:-1]:
        text = message.text.strip()
        if message.role in ("system", "developer"):
            system.append(text)
        elif message.role == "assistant":
            # Our own earlier replies end with a sources list: the history is the advice itself.
            if text:
                history.append(Turn("assistant", _TRAILING_SOURCES.sub("", text).strip()))
        elif text:
            history.append(Turn("user", text))
    metadata = body.metadata or {}
    initiative = metadata.get("initiative", "").strip() or "\n".join(t for t in system if t) or None
    topics = tuple(t.strip() for t in metadata.get("topics", "").split(",") if t.strip())
    request = ChatRequest(
        last.text,
        initiative=initiative,
        topics=topics,
        history=tuple(history),
        temperature=body.temperature,
    )
    return request, sum(count_tokens(m.text) for m in body.messages)


class CompletionWriter:
    """Builds the protocol's objects for one completion from the answer service's events."""

    def __init__(self, conversation_id: str, token_limit: int | None, prompt_tokens: int) -> None:
        self.id = f"chatcmpl-{conversation_id}"
        self.created = int(time.time())
        self.budget = TokenBudget(token_limit)
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = 0
        self.advisor: dict[str, Any] = {}

    @property
    def finish_reason(self) -> str:
        return "length" if self.budget.exhausted else "stop"

    @property
    def usage(self) -> dict[str, int]:
        total = self.prompt_tokens + self.completion_tokens
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": total,
        }

    def _emit(self, text: str) -> str:
        kept = self.budget.take(text)
        self.completion_tokens += count_tokens(kept)
        return kept

    def content(self, event: ChatEvent) -> str:
        """The reply text this event adds ("" for none); keeps the final result for ``advisor``."""
        if isinstance(event, TextDelta):
            return self._emit(event.text)
        if isinstance(event, Restart):
            return self._emit(RESTART_NOTE)
        if isinstance(event, TurnCompleted):
            self.advisor = _advisor_field(event.result)
            return self._emit(sources_block(event.result.citations))
        return ""

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": MODEL_ID,
            "choices": [choice],
            **extra,
        }

    def usage_chunk(self) -> dict[str, Any]:
        return {**self.chunk({}), "choices": [], "usage": self.usage}

    def completion(self, result: TurnResult) -> dict[str, Any]:
        """The non-streamed response for a finished turn."""
        text = self._emit(result.answer + sources_block(result.citations))
        self.advisor = _advisor_field(result)
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": MODEL_ID,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": self.finish_reason,
                }
            ],
            "usage": self.usage,
            "advisor": self.advisor,
        }

    def chunks(self, events: Iterator[ChatEvent]) -> Iterator[dict[str, Any]]:
        """Chunk objects for a streamed answer; raises AnswerFailed when the turn failed."""
        yield self.chunk({"role": "assistant", "content": ""})
        for event in events:
            if isinstance(event, TurnFailed):
                raise AnswerFailed(event.reason)
            text = self.content(event)
            if text:
                yield self.chunk({"content": text})
        yield self.chunk({}, self.finish_reason, advisor=self.advisor)


def _advisor_field(result: TurnResult) -> dict[str, Any]:
    """The structured result riding along in the extra ``advisor`` field: /v1/chat's, without the text."""
    done = ChatOut.of(result).model_dump(mode="json")
    del done["answer"]
    return done
