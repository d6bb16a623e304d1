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
from advisor.compose.provider_guard import CallRefused, ProviderCall, ProviderGuard
from advisor.compose.sanitise import OutputStreamFilter, PromptLeakWatch, own_urls
from advisor.settings import LLMSettings
from advisor.types import Passage, ReadinessNote, Turn

if TYPE_CHECKING:
    from advisor.guidance.facts import Fact
    from advisor.guidance.questions import QuestionReading

logger = logging.getLogger(__name__)

# The openai and anthropic clients back off 0.5 s, 1 s, 2 s, ... capped at 8 s between retries.
_INITIAL_BACKOFF_SECONDS = 0.5
_MAX_BACKOFF_SECONDS = 8.0
# Thread start-up, response parsing and scheduling jitter.
_DEADLINE_SLACK_SECONDS = 1.0
# Failures that say something about this request rather than the provider's health (a prompt too
# long, a malformed body): they do not count towards opening the circuit breaker.
_REQUEST_SPECIFIC_STATUSES = frozenset({400, 413, 422})


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
        guard: ProviderGuard | None = None,
    ) -> None:
        """``deadline_seconds`` caps each call's wall-clock time; ``None`` leaves only the client's own
        timeout and retries (use :meth:`from_settings` to get the deadline from the settings).
        ``guard`` bounds the calls in flight and opens a circuit breaker on repeated failures."""
        self.model = model
        self.prompts = prompts
        self.deadline_seconds = deadline_seconds
        self.guard = guard

    @classmethod
    def from_settings(cls, llm: LLMSettings, prompts: PromptLibrary) -> LLMComposer:
        from advisor.components.chat_model import build_chat_model

        guard = ProviderGuard(llm.max_concurrent_calls, llm.breaker_failures, llm.breaker_cooldown_seconds)
        return cls(
            build_chat_model(llm),
            prompts,
            deadline_seconds=call_deadline(llm.timeout_seconds, llm.max_retries),
            guard=guard,
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
        readiness: Sequence[ReadinessNote] = (),
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
            readiness=[
                f"{n.topic}: {n.label} ({n.level} of 4)" + (f", from: {'; '.join(n.said)}" if n.said else "")
                for n in readiness
            ],
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
                brief.question,
                brief.initiative,
                brief.history,
                passages,
                brief.reading,
                brief.facts or (),
                reply_by=brief.reply_by,
                readiness=brief.readiness,
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

    def standalone_question(
        self, question: str, history: Sequence[Turn], reply_by: float | None = None
    ) -> str:
        try:
            return self.rewrite_followup(question, history, reply_by)
        except ProviderError as exc:
            raise ComposerUnavailable(exc.reason) from exc

    def with_temperature(self, temperature: float) -> LLMComposer:
        """The same composer sampling at ``temperature`` (a channel may ask for one per request)."""
        model = self.model.model_copy(update={"temperature": temperature})
        return LLMComposer(model, self.prompts, deadline_seconds=self.deadline_seconds, guard=self.guard)

    # -- calls -----------------------------------------------------------------------------------

    def stream_answer(
        self,
        question: str,
        initiative: str | None,
        history: Sequence[Turn],
        passages: Sequence[Passage],
        reading: QuestionReading | None = None,
        facts: Sequence[Fact] = (),
        reply_by: float | None = None,
        readiness: Sequence[ReadinessNote] = (),
    ) -> Iterator[str]:
        """Yield the answer's text deltas as the model produces them; the first must come by
        ``reply_by`` (a ``time.monotonic()`` value: the turn's deadline).

        Raises :class:`ProviderError` on any provider failure, including after some deltas have
        already been yielded (the caller decides what to do with a partial answer).
        """
        messages = self.answer_messages(question, initiative, history, passages, reading, facts, readiness)

        def deltas() -> Iterator[str]:
            for chunk in self.model.stream(messages):
                text = str(chunk.text)
                if text:
                    yield text

        yield from self._bounded(deltas, "answer", reply_by)

    def rewrite_followup(self, question: str, history: Sequence[Turn], reply_by: float | None = None) -> str:
        """Turn a follow-up into a standalone question; the original question if the model says nothing.
        The rewrite must be complete by ``reply_by``."""
        messages = self.rewrite_messages(question, history)

        def invoke() -> Iterator[str]:
            yield str(self.model.invoke(messages).text)

        rewritten = "".join(self._bounded(invoke, "rewrite", reply_by)).strip()
        return rewritten or question

    # -- plumbing --------------------------------------------------------------------------------

    def _bounded(
        self, produce: Callable[[], Iterator[str]], what: str, reply_by: float | None = None
    ) -> Iterator[str]:
        """Run ``produce`` in a worker thread; relay its items until done, failure or a deadline: the
        call's own, and ``reply_by`` for the first item (the turn's, shared by all its calls)."""
        if reply_by is not None and reply_by <= time.monotonic():
            # The turn's time is up: do not start a call only to abandon it.
            raise ProviderError(f"no time left in the turn for the {what}")
        call = self._admit(what)
        events: queue.Queue[tuple[_Kind, Any]] = queue.Queue()
        stop = threading.Event()

        def pump() -> None:
            ok: bool | None = None
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
                ok = True
                events.put(("done", None))
            except BaseException as exc:  # relayed to the caller as ProviderError
                ok = None if describe_failure(exc)[1] in _REQUEST_SPECIFIC_STATUSES else False
                events.put(("error", exc))
            finally:
                call.settle(ok)
                call.release()  # the slot is free only when the provider call has really ended

        context = contextvars.copy_context()  # keep langchain callbacks / tracing context
        worker = threading.Thread(target=context.run, args=(pump,), name=f"advisor-llm-{what}", daemon=True)
        started = time.monotonic()
        until = None if self.deadline_seconds is None else started + self.deadline_seconds
        first_by = min((d for d in (until, reply_by) if d is not None), default=None)
        worker.start()
        try:
            replied = False
            while True:
                deadline = until if replied else first_by
                remaining = None if deadline is None else deadline - time.monotonic()
                try:
                    if remaining is not None and remaining <= 0:
                        raise queue.Empty
                    kind, value = events.get(timeout=remaining)
                except queue.Empty:
                    call.settle(False)
                    raise self._timed_out(what, time.monotonic() - started) from None
                if kind == "item":
                    replied = True
                    yield value
                elif kind == "done":
                    return
                else:
                    reason, status = describe_failure(value)
                    logger.warning("llm %s failed: %s (%s)", what, reason, type(value).__name__)
                    raise ProviderError(reason, status) from value
        finally:
            stop.set()  # the worker drops out at its next chunk or client timeout

    def _admit(self, what: str) -> ProviderCall:
        if self.guard is None:
            return ProviderCall(None)
        try:
            return self.guard.admit()
        except CallRefused as refused:
            logger.info("llm %s not attempted: %s", what, refused.message)
            raise ProviderError(f"provider not called ({refused.message})") from None

    def _timed_out(self, what: str, waited: float) -> ProviderError:
        logger.warning("llm %s gave no reply within its deadline (%.1f s)", what, waited)
        return ProviderError(f"provider timed out (no reply within {waited:.1f} s)")
