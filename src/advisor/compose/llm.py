"""Compose answers with a chat model: prompts in, text deltas out, failures as ``ProviderError``.

Each call runs the model in a worker thread and waits for it against a wall-clock deadline, so a
provider that stalls, trickles bytes or keeps retrying cannot hold the caller longer than
``timeout x (retries + 1)`` plus the clients' retry backoff (see :func:`call_deadline`).
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from advisor.components.prompts import PromptLibrary
from advisor.compose.grounding import CitationStreamFilter
from advisor.compose.protocol import Brief, ComposerUnavailable, Draft
from advisor.compose.sanitise import OutputStreamFilter, PromptLeakWatch, own_urls
from advisor.settings import LLMSettings
from advisor.types import Passage, Turn

if TYPE_CHECKING:
    from advisor.guidance.facts import Fact
    from advisor.guidance.questions import QuestionReading

logger = logging.getLogger(__name__)

# The openai and anthropic clients back off 0.5 s, 1 s, 2 s, ... capped at 8 s between retries.
_INITIAL_BACKOFF_SECONDS = 0.5
_MAX_BACKOFF_SECONDS = 8.0
# Thread start-up, response parsing and scheduling jitter.
_DEADLINE_SLACK_SECONDS = 1.0


class ProviderError(Exception):
    """The model provider failed (timeout, HTTP error, connection error, rate limit, ...).

    ``reason`` is short and safe to show or log: it never contains provider messages, keys or
    prompt text. ``status`` is the HTTP status when the provider sent one.
    """

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def call_deadline(timeout_seconds: float, max_retries: int) -> float:
    """Wall-clock bound for one model call: every attempt timing out plus the backoff between them."""
    backoff = sum(
        min(_INITIAL_BACKOFF_SECONDS * float(2**i), _MAX_BACKOFF_SECONDS) for i in range(max_retries)
    )
    return timeout_seconds * (max_retries + 1) + backoff + _DEADLINE_SLACK_SECONDS


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def describe_failure(exc: BaseException) -> tuple[str, int | None]:
    """A short reason (and HTTP status, if any) for a provider client exception."""
    names = [cls.__name__ for cls in type(exc).__mro__]
    status = _status_of(exc)
    if isinstance(exc, TimeoutError) or any("Timeout" in name for name in names):
        return "provider timed out", status
    if status == 429 or "RateLimitError" in names:
        return "provider rate limit exceeded (HTTP 429)", 429
    if status is not None:
        return f"provider returned HTTP {status}", status
    if isinstance(exc, ConnectionError) or any(
        key in name for name in names for key in ("Connect", "Network", "Transport", "Protocol")
    ):
        return "provider connection failed", None
    return f"provider call failed ({type(exc).__name__})", None


def number_passages(passages: Sequence[Passage]) -> list[dict[str, object]]:
    """Template context for passages: ``n`` is the 1-based position used by ``[n]`` citations."""
    return [
        {
            "n": n,
            "title": p.title,
            "section": p.section,
            "text": p.text,
            "source": p.source,
            "doc_id": p.doc_id,
        }
        for n, p in enumerate(passages, start=1)
    ]


_Kind = Literal["item", "done", "error"]


class LLMComposer:
    """Streams grounded answers and rewrites follow-ups with one chat model (a ``Composer``)."""

    name = "llm"

    def __init__(
        self,
        model: BaseChatModel,
        prompts: PromptLibrary,
        *,
        deadline_seconds: float | None = None,
    ) -> None:
        """``deadline_seconds`` caps each call's wall-clock time; ``None`` leaves only the client's own
        timeout and retries (use :meth:`from_settings` to get the deadline from the settings)."""
        self.model = model
        self.prompts = prompts
        self.deadline_seconds = deadline_seconds

    @classmethod
    def from_settings(cls, llm: LLMSettings, prompts: PromptLibrary) -> LLMComposer:
        from advisor.components.chat_model import build_chat_model

        return cls(
            build_chat_model(llm),
            prompts,
            deadline_seconds=call_deadline(llm.timeout_seconds, llm.max_retries),
        )

    # -- prompts ---------------------------------------------------------------------------------

    def answer_messages(
        self,
        question: str,
        initiative: str | None,
        history: Sequence[Turn],
        passages: Sequence[Passage],
        reading: QuestionReading | None = None,
        facts: Sequence[Fact] = (),
    ) -> list[BaseMessage]:
        """The messages sent for an answer: system.j2, then answer.j2 as the human message (with the
        kind of question and the facts the team stated, as the extractive composer uses them)."""
        system = self.prompts.render("system")
        human = self.prompts.render(
            "answer",
            question=question,
            initiative=initiative or None,
            history=list(history),
            passages=number_passages(passages),
            kind=reading.label if reading else None,
            kind_hint=reading.hint if reading else "",
            facts=[f"{fact.said} ({fact.label})" for fact in facts],
        )
        return [SystemMessage(content=system), HumanMessage(content=human)]

    def rewrite_messages(self, question: str, history: Sequence[Turn]) -> list[BaseMessage]:
        return [
            HumanMessage(content=self.prompts.render("rewrite", question=question, history=list(history)))
        ]

    # -- the Composer protocol -------------------------------------------------------------------

    def compose(self, brief: Brief) -> Generator[str, None, Draft]:
        """The model's answer, filtered as it streams: invented ``[n]`` markers, images and links to
        anywhere but the sources are removed, and a reply that repeats the system prompt is withdrawn."""
        passages = list(brief.passages)
        markers = CitationStreamFilter(len(passages))
        links = OutputStreamFilter(own_urls(passages))
        leak = PromptLeakWatch(self.prompts.render("system"))
        composer = self if brief.temperature is None else self.with_temperature(brief.temperature)
        sent: list[str] = []
        try:
            stream = composer.stream_answer(
                brief.question, brief.initiative, brief.history, passages, brief.reading, brief.facts or ()
            )
            for delta in stream:
                clean = markers.feed(links.feed(delta))
                if clean:
                    sent.append(clean)
                    yield clean
                    if leak.feed(clean):
                        break
        except ProviderError as exc:
            raise ComposerUnavailable(exc.reason) from exc
        tail = markers.feed(links.flush()) + markers.flush()
        if tail:
            sent.append(tail)
            yield tail
            leak.feed(tail)
        if leak.finish():
            return Draft("", brief.passages, withdrawn=True)
        return Draft("".join(sent).strip(), brief.passages, grounded=not markers.removed)

    def standalone_question(self, question: str, history: Sequence[Turn]) -> str:
        try:
            return self.rewrite_followup(question, history)
        except ProviderError as exc:
            raise ComposerUnavailable(exc.reason) from exc

    def with_temperature(self, temperature: float) -> LLMComposer:
        """The same composer sampling at ``temperature`` (a channel may ask for one per request)."""
        model = self.model.model_copy(update={"temperature": temperature})
        return LLMComposer(model, self.prompts, deadline_seconds=self.deadline_seconds)

    # -- calls -----------------------------------------------------------------------------------

    def stream_answer(
        self,
        question: str,
        initiative: str | None,
        history: Sequence[Turn],
        passages: Sequence[Passage],
        reading: QuestionReading | None = None,
        facts: Sequence[Fact] = (),
    ) -> Iterator[str]:
        """Yield the answer's text deltas as the model produces them.

        Raises :class:`ProviderError` on any provider failure, including after some deltas have
        already been yielded (the caller decides what to do with a partial answer).
        """
        messages = self.answer_messages(question, initiative, history, passages, reading, facts)

        def deltas() -> Iterator[str]:
            for chunk in self.model.stream(messages):
                text = str(chunk.text)
                if text:
                    yield text

        yield from self._bounded(deltas, "answer")

    def rewrite_followup(self, question: str, history: Sequence[Turn]) -> str:
        """Turn a follow-up into a standalone question; the original question if the model says nothing."""
        messages = self.rewrite_messages(question, history)

        def invoke() -> Iterator[str]:
            yield str(self.model.invoke(messages).text)

        rewritten = "".join(self._bounded(invoke, "rewrite")).strip()
        return rewritten or question

    # -- plumbing --------------------------------------------------------------------------------

    def _bounded(self, produce: Callable[[], Iterator[str]], what: str) -> Iterator[str]:
        """Run ``produce`` in a worker thread; relay its items until done, failure or the deadline."""
        events: queue.Queue[tuple[_Kind, Any]] = queue.Queue()
        stop = threading.Event()

        def pump() -> None:
            try:
                iterator = produce()
                try:
                    for item in iterator:
                        if stop.is_set():
                            return
                        events.put(("item", item))
                finally:
                    close = getattr(iterator, "close", None)
                    if callable(close):
                        close()
                events.put(("done", None))
            except BaseException as exc:  # relayed to the caller as ProviderError
                events.put(("error", exc))

        context = contextvars.copy_context()  # keep langchain callbacks / tracing context
        worker = threading.Thread(target=context.run, args=(pump,), name=f"advisor-llm-{what}", daemon=True)
        deadline = None if self.deadline_seconds is None else time.monotonic() + self.deadline_seconds
        worker.start()
        try:
            while True:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise self._timed_out(what)
                try:
                    kind, value = events.get(timeout=remaining)
                except queue.Empty:
                    raise self._timed_out(what) from None
                if kind == "item":
                    yield value
                elif kind == "done":
                    return
                else:
                    reason, status = describe_failure(value)
                    logger.warning("llm %s failed: %s (%s)", what, reason, type(value).__name__)
                    raise ProviderError(reason, status) from value
        finally:
            stop.set()  # the worker drops out at its next chunk or client timeout

    def _timed_out(self, what: str) -> ProviderError:
        logger.warning("llm %s exceeded its %.1f s deadline", what, self.deadline_seconds or 0.0)
        return ProviderError(f"provider timed out (no complete reply within {self.deadline_seconds:.1f} s)")
