"""The turn pipeline every channel's turns go through: refuse attacks -> standalone question ->
retrieval -> sanitised passages -> composed, cited answer (with the fallback policy) -> recorded turn.
It streams typed events; a collected answer is the same stream."""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING

from advisor import tracing
from advisor.chat.model import ChatEvent, Restart, TextDelta, TurnCompleted, TurnFailed, TurnResult
from advisor.compose.grounding import build_citations
from advisor.compose.guard import is_instruction_attack
from advisor.compose.protocol import Brief, stream_words
from advisor.compose.sanitise import sanitise_passages
from advisor.guidance.facts import extract_facts, facts_for
from advisor.guidance.questions import read_question
from advisor.store.conversations import MessageDraft

if TYPE_CHECKING:
    from advisor.chat.composing import ComposerChain
    from advisor.chat.conversations import Conversations, PreparedTurn
    from advisor.guidance.facts import Fact
    from advisor.guidance.rules import GuidanceRules
    from advisor.observability import Metrics
    from advisor.retrieval.retriever import Retriever
    from advisor.types import Citation, Passage

log = logging.getLogger(__name__)

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

# (text, citations, grounded, abstained, fallback)
_Outcome = tuple[str, list["Citation"], bool, bool, bool]


class TurnPipeline:
    def __init__(
        self,
        retriever: Retriever,
        composers: ComposerChain,
        conversations: Conversations,
        metrics: Metrics,
        rules: GuidanceRules,
    ) -> None:
        self._rules = rules
        self._retriever = retriever
        self._composers = composers
        self._conversations = conversations
        self._metrics = metrics

    @property
    def composer_name(self) -> str:
        return self._composers.name

    def run(self, turn: PreparedTurn) -> Iterator[ChatEvent]:
        """The turn's events; the turn is written once, at the end (question and answer, plus the
        conversation when new). A failed answer still records the question; a stream its client
        abandoned records nothing, as the client never received the conversation id or the answer."""
        reply_by = self._composers.turn_deadline()
        trace = tracing.start_turn(
            conversation_id=turn.conversation_id, channel=turn.caller.channel, follow_up=bool(turn.history)
        )
        try:
            yield from self._traced_run(turn, reply_by, trace)
        finally:
            trace.end()  # also when the client walked away mid-stream

    def _traced_run(
        self, turn: PreparedTurn, reply_by: float | None, trace: tracing.Trace
    ) -> Iterator[ChatEvent]:
        standalone = turn.question
        started = time.perf_counter()
        try:
            with trace.child("advisor.rewrite") if turn.history else nullcontext():
                standalone = self._standalone(turn, reply_by)
            text, citations, grounded, abstained, fallback = yield from self._answer(
                turn, standalone, reply_by, trace
            )
        except Exception as exc:
            log.exception("answer failed for conversation %s", turn.conversation_id)
            trace.annotate({"error": type(exc).__name__})
            try:
                self._conversations.record(turn, None)
            except Exception:
                log.exception("could not record the failed turn of conversation %s", turn.conversation_id)
            yield TurnFailed(f"answer failed: {type(exc).__name__}")
            return
        self._metrics.answers.labels("fallback" if fallback else self.composer_name).inc()
        reply = MessageDraft(
            text,
            standalone_question=standalone,
            citations=tuple(citations),
            grounded=grounded,
            abstained=abstained,
            fallback=fallback,
            latency_ms=round((time.perf_counter() - started) * 1000),
        )
        trace.annotate({"abstained": abstained, "fallback": fallback, "grounded": grounded})
        with trace.child("advisor.store"):
            message = self._conversations.record(turn, reply)
        assert message is not None  # a turn with a reply returns the reply's record
        yield TurnCompleted(
            TurnResult(
                conversation_id=turn.conversation_id,
                message_id=message.id,
                answer=text,
                citations=tuple(citations),
                grounded=grounded,
                abstained=abstained,
                fallback=fallback,
                standalone_question=standalone,
            )
        )

    def _standalone(self, turn: PreparedTurn, reply_by: float | None) -> str:
        if self._refused(turn):
            return turn.question
        return self._composers.standalone_question(turn.question, turn.history, reply_by)

    @staticmethod
    def _refused(turn: PreparedTurn) -> bool:
        # An attack may hide in the initiative as well as in the question.
        return is_instruction_attack(turn.question) or is_instruction_attack(turn.initiative_text or "")

    def _answer(
        self, turn: PreparedTurn, standalone: str, reply_by: float | None, trace: tracing.Trace
    ) -> Generator[ChatEvent, None, _Outcome]:
        if self._refused(turn):
            self._metrics.abstentions.labels("refused").inc()
            yield from _words(REFUSAL)
            return REFUSAL, [], True, True, False
        reading = read_question(turn.question, self._rules)
        query = standalone
        if reading.general and turn.initiative_text:
            # "What should we do first?" is a question about the initiative itself.
            query = f"{standalone} ({turn.initiative_text[:500]})"
        said = [turn.initiative_text or ""] + [t.content for t in turn.history if t.role == "user"]
        with trace.child("advisor.retrieve", kind=reading.kind) as span:
            found = self._retriever.retrieve_passages(
                query, turn.k, turn.topics or None, context=turn.initiative_text, said=" ".join(said)
            )
            tracing.set_attributes(span, passages=len(found.passages), in_scope=found.in_scope)
        if not found.in_scope or not found.passages:
            self._metrics.abstentions.labels("out_of_scope").inc()
            yield from _words(OUT_OF_SCOPE)
            return OUT_OF_SCOPE, [], True, True, False
        readiness = turn.readiness  # the conversation's assessment, weak topics first
        said += [quote for note in readiness for quote in note.said]
        # What the team said about itself, in the initiative, earlier in the conversation, or in its
        # readiness assessment.
        facts = extract_facts(said, self._rules)
        passages = passages_for(self._retriever, found.passages, facts, reading.general)
        # Passages are data: anything written to instruct an AI is removed before composing.
        brief = Brief(
            turn.question,
            standalone,
            turn.initiative_text,
            turn.history,
            tuple(sanitise_passages(passages)),
            turn.temperature,
            reading,
            facts,
            reply_by,
            readiness,
        )
        with trace.child("advisor.compose", composer=self.composer_name) as span:
            composition = yield from self._composers.compose(brief)
            tracing.set_attributes(span, fallback=composition.fallback)
        draft = composition.draft
        if draft.withdrawn:
            log.warning("the composer withdrew its reply (it repeated its instructions)")
            yield Restart()
        citations = [] if draft.withdrawn else build_citations(draft.text, draft.passages)
        if not citations:
            # A composition that cites nothing is not grounded advice: abstain instead.
            self._metrics.abstentions.labels("unsupported").inc()
            if not draft.withdrawn:
                yield Restart()
            yield from _words(OUT_OF_SCOPE)
            return OUT_OF_SCOPE, [], True, True, False
        return draft.text, citations, draft.grounded, False, composition.fallback


def passages_for(
    retriever: Retriever, found: list[Passage], facts: Sequence[Fact], general: bool
) -> list[Passage]:
    """What the composer works from: the passages found, the numbered parts of a section found by
    its introduction, the first steps of the leading documents (when retrieval matched their
    explanation rather than their advice), and the first steps of the documents behind each stated
    fact that matters to the question, ranked below all of them."""
    passages = found + retriever.parts_of(found) + retriever.action_passages(found)
    topics = {t for p in found[:3] for t in p.topics}
    fact_docs = [doc for fact in facts_for(facts, topics, general) for doc in fact.docs[:1]]
    have = {p.chunk_id for p in passages}
    lowest = min(p.score for p in found) * 0.9
    return passages + [p for p in retriever.sections_of(fact_docs, lowest) if p.chunk_id not in have]


def _words(text: str) -> Iterator[TextDelta]:
    for piece in stream_words(text):
        yield TextDelta(piece)
