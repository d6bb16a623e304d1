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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from advisor.answer.service import AnswerFailedError, AnswerService, StreamEvent
from advisor.api.openai_schemas import MODEL_ID, ChatCompletionIn, OpenAIHTTPError
from advisor.types import Turn

if TYPE_CHECKING:
    from advisor.container import Container
    from advisor.settings import LimitSettings

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


def sources_block(citations: Sequence[dict[str, Any]]) -> str:
    if not citations:
        return ""
    lines = [f"[{c['n']}] {c['title']} > {c['section']} ({c['source']})" for c in citations]
    return SOURCES_HEADING + "\n".join(lines)


@dataclass(frozen=True)
class ConversationIn:
    """What Advisor needs from the message list."""

    question: str
    history: list[Turn]
    initiative: str | None
    prompt_tokens: int


def read_conversation(body: ChatCompletionIn, limits: LimitSettings) -> ConversationIn:
    """Split the messages into the question, earlier turns and the initiative; 400/404 when unusable."""
    if body.model != MODEL_ID:
        raise OpenAIHTTPError(
            404,
            f"The model {body.model!r} does not exist; use {MODEL_ID!r}.",
            code="model_not_found",
            param="model",
        )
    last = body.messages[-1]
    if last.role != "user":
        raise OpenAIHTTPError(400, "the last message must come from the user", param="messages")
    question = last.text.strip()
    if not question:
        raise OpenAIHTTPError(400, "the last user message is empty", param="messages")
    if len(question) > limits.max_message_chars:
        raise OpenAIHTTPError(
            400,
            f"the last user message is {len(question)} characters; the limit is {limits.max_message_chars}",
            param="messages",
        )
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
    metadata_initiative = (body.metadata or {}).get("initiative", "").strip()
    initiative = metadata_initiative or "\n".join(t for t in system if t) or None
    if initiative is not None and len(initiative) > limits.max_initiative_chars:
        raise OpenAIHTTPError(
            400,
            f"the initiative (system messages or metadata.initiative) is longer than "
            f"{limits.max_initiative_chars} characters",
            param="messages",
        )
    prompt_tokens = sum(count_tokens(m.text) for m in body.messages)
    return ConversationIn(question, history, initiative, prompt_tokens)


def answer_service_for(container: Container, temperature: float | None) -> AnswerService:
    """The shared AnswerService, or one whose language model samples at the requested temperature."""
    llm = container.llm
    if llm is None or temperature is None:
        return container.answers
    from advisor.answer.llm import LLMComposer

    model = llm.model.model_copy(update={"temperature": temperature})
    tuned = LLMComposer(model, llm.prompts, deadline_seconds=llm.deadline_seconds)
    return AnswerService(container.settings, container.retriever, container.store, container.metrics, tuned)


class CompletionWriter:
    """Builds the protocol's objects for one completion from the answer service's events."""

    def __init__(self, conversation_id: str, token_limit: int | None, prompt_tokens: int) -> None:
        self.id = f"chatcmpl-{conversation_id}"
        self.created = int(time.time())
        self.budget = TokenBudget(token_limit)
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = 0
        self.advisor: dict[str, Any] = {}
        self._citations: list[dict[str, Any]] = []

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

    def content(self, event: StreamEvent) -> str:
        """The reply text this event adds ("" for none); keeps the final result for ``advisor``."""
        if event.kind == "delta":
            return self._emit(str(event.data["text"]))
        if event.kind == "reset":
            return self._emit(RESTART_NOTE)
        if event.kind == "citations":
            self._citations = list(event.data["citations"])
            return self._emit(sources_block(self._citations))
        if event.kind == "done":
            done = {k: v for k, v in event.data.items() if k != "answer"}
            self.advisor = {**done, "citations": self._citations}
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

    def completion(self, answer: dict[str, Any]) -> dict[str, Any]:
        """The non-streamed response for an answer from AnswerService.answer."""
        citations = list(answer["citations"])
        text = self._emit(str(answer["answer"]) + sources_block(citations))
        self.advisor = {k: v for k, v in answer.items() if k != "answer"}
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

    def chunks(self, events: Iterator[StreamEvent]) -> Iterator[dict[str, Any]]:
        """Chunk objects for a streamed answer; raises AnswerFailedError on an error event."""
        yield self.chunk({"role": "assistant", "content": ""})
        for event in events:
            if event.kind == "error":
                raise AnswerFailedError(str(event.data.get("reason", "answer failed")))
            text = self.content(event)
            if text:
                yield self.chunk({"content": text})
        yield self.chunk({}, self.finish_reason, advisor=self.advisor)
