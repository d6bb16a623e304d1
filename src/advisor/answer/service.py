"""The one answer pipeline every channel uses: conversation -> standalone question -> retrieval ->
composed, cited answer -> persisted turn. Streams events; the JSON response is the same stream
collected."""

from __future__ import annotations

import logging
import re
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from advisor.answer.extractive import compose_sanitised
from advisor.answer.followup import rewrite_followup
from advisor.answer.grounding import CitationStreamFilter, build_citations
from advisor.answer.guard import is_instruction_attack
from advisor.answer.sanitise import OutputStreamFilter, PromptLeakWatch, own_urls, sanitise_passages
from advisor.store.models import new_id
from advisor.store.records import MessageDraft, NewConversation, check_initiative
from advisor.types import Citation, Passage, Turn

if TYPE_CHECKING:
    from advisor.answer.llm import LLMComposer
    from advisor.observability import Metrics
    from advisor.retrieval.retriever import Retriever
    from advisor.settings import Settings
    from advisor.store.records import MessageRecord
    from advisor.store.repository import Store

log = logging.getLogger(__name__)

Initiative = str | dict[str, Any] | None
EventKind = Literal["delta", "reset", "citations", "done", "error"]

SCOPE = (
    "I help teams take AI initiatives to production: business objectives and choosing use cases, data "
    "quality, infrastructure and MLOps, scaling, deployment, testing, monitoring, security and governance, "
    "change management, talent, strategy and roadmaps, explainability, and industry examples."
)
OUT_OF_SCOPE = (
    "I can't answer that from Advisor's guidance, so I won't guess. " + SCOPE + " For example, ask "
    '"Our model works in a notebook but never reached production. What are we missing?"'
)
REFUSAL = (
    "I can't share my instructions, keys or configuration, and I don't change how I work on request. " + SCOPE
)
FALLBACK_NOTE = (
    "(The language model was unavailable, so this answer was composed directly from the guidance.)"
)
_STREAM_WORDS = re.compile(r"\S+\s*")


class ConversationNotFoundError(LookupError):
    pass


@dataclass(frozen=True)
class ChatRequest:
    message: str
    conversation_id: str | None = None
    initiative: Initiative = None
    k: int | None = None


@dataclass(frozen=True)
class StreamEvent:
    kind: EventKind
    data: dict[str, Any]


@dataclass
class PreparedTurn:
    request: ChatRequest
    conversation_id: str
    initiative_text: str | None
    history: list[Turn] = field(default_factory=list)
    # Set when the conversation is new: it is written together with the turn's messages.
    new_conversation: NewConversation | None = None


def initiative_text(initiative: Initiative) -> str | None:
    """A free-text rendering of the initiative, whichever form it was given in."""
    if initiative is None:
        return None
    if isinstance(initiative, str):
        return initiative.strip() or None
    parts = [f"{key}: {value}" for key, value in initiative.items() if value not in (None, "", [])]
    return "; ".join(parts) or None


class AnswerService:
    def __init__(
        self,
        settings: Settings,
        retriever: Retriever,
        store: Store,
        metrics: Metrics,
        llm: LLMComposer | None = None,
    ) -> None:
        self._settings = settings
        self._retriever = retriever
        self._store = store
        self._metrics = metrics
        self._llm = llm

    @property
    def composer_name(self) -> str:
        return "llm" if self._llm is not None else "extractive"

    def prepare(self, request: ChatRequest, api_key_id: str | None) -> PreparedTurn:
        """Everything that can fail with a client error, done before any byte is streamed.

        A new conversation gets its id here but is written with its first turn, so a turn costs one
        write transaction (see ``stream``).
        """
        if not request.conversation_id:
            return self._new_conversation_turn(request, [], api_key_id)
        found = self._store.conversation_with_history(
            request.conversation_id, api_key_id, self._settings.limits.max_history_messages
        )
        if found is None:
            raise ConversationNotFoundError(request.conversation_id)
        conv, messages = found
        initiative: Initiative = conv.initiative
        if request.initiative is not None:
            self._store.set_initiative(conv.id, request.initiative)
            initiative = request.initiative
        history = [Turn(m.role, m.content) for m in messages]  # type: ignore[arg-type]
        return PreparedTurn(request, conv.id, initiative_text(initiative), history)

    def prepare_with_history(
        self, request: ChatRequest, history: Sequence[Turn], api_key_id: str | None
    ) -> PreparedTurn:
        """A turn whose earlier messages come from the caller, for stateless protocols (OpenAI's).

        The history drives the follow-up rewrite and the prompt but is not stored: the client owns
        it. This turn is recorded in a new conversation under the caller's key, so its answer can
        get feedback and is audited like any other.
        """
        limit = self._settings.limits.max_history_messages
        recent = list(history)[-limit:] if limit > 0 else []
        return self._new_conversation_turn(request, recent, api_key_id)

    @staticmethod
    def _new_conversation_turn(
        request: ChatRequest, history: list[Turn], api_key_id: str | None
    ) -> PreparedTurn:
        initiative = check_initiative(request.initiative)  # a bad shape fails now, not after answering
        return PreparedTurn(
            request,
            new_id(),
            initiative_text(initiative),
            history,
            new_conversation=NewConversation(api_key_id, initiative),
        )

    def stream(self, turn: PreparedTurn) -> Iterator[StreamEvent]:
        """The turn's events; the turn is written once, at the end (question and answer, plus the
        conversation when new). A failed answer still records the question; a stream its client
        abandoned records nothing, as the client never received the conversation id or the answer.
        """
        question = turn.request.message.strip()
        text, standalone = "", question
        citations: list[Citation] = []
        grounded, abstained, fallback = True, False, False
        try:
            # An attack may hide in the initiative as well as in the question.
            if is_instruction_attack(question) or is_instruction_attack(turn.initiative_text or ""):
                text, abstained = REFUSAL, True
                self._metrics.abstentions.labels("refused").inc()
                yield from _words(text)
            else:
                standalone = self._standalone(question, turn.history)
                found = self._retriever.retrieve_passages(
                    standalone, turn.request.k, context=turn.initiative_text
                )
                if not found.in_scope or not found.passages:
                    text, abstained = OUT_OF_SCOPE, True
                    self._metrics.abstentions.labels("out_of_scope").inc()
                    yield from _words(text)
                else:
                    # Passages are data: anything written to instruct an AI is removed before composing.
                    passages = sanitise_passages(
                        found.passages + self._retriever.action_passages(found.passages)
                    )
                    outcome = yield from self._compose(question, turn, passages)
                    text, citations, grounded, fallback = outcome
                    if not citations:
                        # A composition that cites nothing is not grounded advice: abstain instead.
                        text, abstained, grounded = OUT_OF_SCOPE, True, True
                        self._metrics.abstentions.labels("unsupported").inc()
                        yield StreamEvent("reset", {})
                        yield from _words(text)
        except Exception as exc:
            log.exception("answer failed for conversation %s", turn.conversation_id)
            try:
                self._record(turn, question, None)
            except Exception:
                log.exception("could not record the failed turn of conversation %s", turn.conversation_id)
            yield StreamEvent("error", {"reason": f"answer failed: {type(exc).__name__}"})
            return
        self._metrics.answers.labels("fallback" if fallback else self.composer_name).inc()
        reply = MessageDraft.of(
            text,
            standalone_question=standalone,
            citations=citations,
            grounded=grounded,
            abstained=abstained,
            fallback=fallback,
        )
        message = self._record(turn, question, reply)
        assert message is not None  # a turn with a reply returns the reply's record
        yield StreamEvent("citations", {"citations": [c.as_dict() for c in citations]})
        yield StreamEvent(
            "done",
            {
                "conversation_id": turn.conversation_id,
                "message_id": message.id,
                "answer": text,
                "grounded": grounded,
                "abstained": abstained,
                "fallback": fallback,
                "standalone_question": standalone,
            },
        )

    def answer(self, turn: PreparedTurn) -> dict[str, Any]:
        """The stream collected into the JSON response shape."""
        result: dict[str, Any] = {}
        citations: list[dict[str, Any]] = []
        for event in self.stream(turn):
            if event.kind == "error":
                raise AnswerFailedError(event.data["reason"])
            if event.kind == "citations":
                citations = event.data["citations"]
            if event.kind == "done":
                result = dict(event.data)
        result["citations"] = citations
        return result

    # -- internals ---------------------------------------------------------
    def _record(self, turn: PreparedTurn, question: str, reply: MessageDraft | None) -> MessageRecord | None:
        record = self._store.record_turn(
            turn.conversation_id, question, reply, new_conversation=turn.new_conversation
        )
        turn.new_conversation = None  # written now: a second record on this turn appends to it
        return record

    def _standalone(self, question: str, history: Sequence[Turn]) -> str:
        if not history:
            return question
        if self._llm is not None:
            from advisor.answer.llm import ProviderError

            try:
                return self._llm.rewrite_followup(question, history)
            except ProviderError as exc:
                log.warning("follow-up rewrite failed, using the heuristic: %s", exc)
        return rewrite_followup(question, history)

    def _compose(
        self, question: str, turn: PreparedTurn, passages: list[Passage]
    ) -> Generator[StreamEvent, None, tuple[str, list[Citation], bool, bool]]:
        """Yields deltas; returns (text, citations, grounded, fallback)."""
        if self._llm is not None:
            from advisor.answer.llm import ProviderError

            filt = CitationStreamFilter(len(passages))
            links = OutputStreamFilter(own_urls(passages))  # no images, no links but the sources'
            leak = PromptLeakWatch(self._llm.prompts.render("system"))
            sent: list[str] = []
            try:
                for delta in self._llm.stream_answer(question, turn.initiative_text, turn.history, passages):
                    clean = filt.feed(links.feed(delta))
                    if clean:
                        sent.append(clean)
                        yield StreamEvent("delta", {"text": clean})
                        if leak.feed(clean):
                            break
                tail = filt.feed(links.flush()) + filt.flush()
                if tail:
                    sent.append(tail)
                    yield StreamEvent("delta", {"text": tail})
                    leak.feed(tail)
                text = "".join(sent).strip()
                if leak.finish():
                    # The model repeated its own instructions: withdraw the reply (the caller abstains).
                    log.warning("LLM reply repeated the system prompt; withdrawn")
                    yield StreamEvent("reset", {})
                    return "", [], True, False
                return text, build_citations(text, passages), not filt.removed, False
            except ProviderError as exc:
                log.warning("LLM provider failed, falling back to the extractive answer: %s", exc)
                self._metrics.fallbacks.inc()
                if sent:
                    yield StreamEvent("reset", {})
                composition = compose_sanitised(question, passages, turn.initiative_text)
                text = f"{composition.text}\n\n{FALLBACK_NOTE}" if composition.text else ""
                yield from _words(text)
                return text, build_citations(text, composition.passages), True, True
        composition = compose_sanitised(question, passages, turn.initiative_text)
        yield from _words(composition.text)
        return composition.text, build_citations(composition.text, composition.passages), True, False


class AnswerFailedError(RuntimeError):
    pass


def _words(text: str) -> Iterator[StreamEvent]:
    """Stream a finished text a few words at a time, so every composer streams alike."""
    words = _STREAM_WORDS.findall(text)
    for start in range(0, len(words), 4):
        yield StreamEvent("delta", {"text": "".join(words[start : start + 4])})
