"""Producing what the metrics score: ranked documents per retrieval strategy, and answers, either
from Advisor itself (in-process, through the same chat core every channel uses) or from a JSONL
file of answers any system produced."""

from __future__ import annotations

import json
import random
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from advisor.auth import LOCAL_PRINCIPAL
from advisor.chat.errors import ChatError
from advisor.chat.model import Caller, ChatRequest
from advisor.compose.grounding import snippet_of
from advisor.evals.datasets import DatasetError, Suite, describe_validation_error
from advisor.retrieval.retriever import IndexNotReadyError, RetrievalResult, Retriever

if TYPE_CHECKING:
    from advisor.container import Container
    from advisor.settings import Settings
    from advisor.store.conversations import ConversationRepository
    from advisor.types import Citation

STRATEGIES = ("dense", "bm25", "hybrid")
DEPTH_DOCS = 10  # documents ranked per question for the retrieval metrics
_DEPTH_PASSAGES = 20  # passages asked for, deduplicated to at most DEPTH_DOCS documents
Degrade = Literal["k1", "shuffle"]
Step = Callable[[str], None]


@dataclass
class AnswerRecord:
    """One answer as the metrics see it; citations carry the full passage text when known."""

    id: str
    answer: str
    citations: list[dict[str, Any]] = field(default_factory=list)
    abstained: bool = False
    latency_ms: float | None = None
    standalone: str | None = None


class DegradedRetriever(Retriever):
    """Retrieval made worse on purpose, to prove the gate notices: ``k1`` keeps one passage,
    ``shuffle`` replaces the ranking with a seeded random order over a wide candidate pool."""

    def __init__(self, mode: Degrade, settings: Settings, container: Container) -> None:
        super().__init__(
            settings, container.embedder, container.vectors, container.index_repository, container.rules
        )
        self.mode = mode

    def retrieve_passages(
        self,
        query: str,
        k: int | None = None,
        topics: Sequence[str] | None = None,
        context: str | None = None,
        strategy: str = "hybrid",
        said: str | None = None,
    ) -> RetrievalResult:
        wanted = k or self._settings.retrieval.k
        if self.mode == "k1":
            return super().retrieve_passages(query, 1, topics, context, strategy, said)
        found = super().retrieve_passages(query, 50, topics, context, strategy, said)
        shuffled = list(found.passages)
        random.Random(zlib.crc32(query.encode())).shuffle(shuffled)
        return RetrievalResult(shuffled[:wanted], found.best_similarity, found.in_scope, strategy)


def ranked_docs(found: RetrievalResult, depth: int = DEPTH_DOCS) -> list[str]:
    """Document ids in the order their first passage was ranked."""
    return list(dict.fromkeys(p.doc_id for p in found.passages))[:depth]


class PassageTexts:
    """Full text of a cited passage, found again from its document, section and snippet (responses
    carry only a snippet, the support test needs the whole passage)."""

    def __init__(self, retriever: Retriever) -> None:
        self._retriever = retriever
        self._by_doc: dict[str, list[tuple[str, str]]] = {}

    def _chunks(self, doc_id: str) -> list[tuple[str, str]]:
        if doc_id not in self._by_doc:
            try:
                chunks = self._retriever.document_sections(doc_id)
            except IndexNotReadyError:
                chunks = []
            self._by_doc[doc_id] = chunks
        return self._by_doc[doc_id]

    def text(self, citation: Citation) -> str:
        chunks = self._chunks(citation.doc_id)
        same = [text for sec, text in chunks if sec == citation.section]
        exact = [text for text in same if snippet_of(text) == citation.snippet]
        return (exact or same or [citation.snippet])[0]


class InProcessRunner:
    """Runs the suite against a container's configuration. Conversations go to a throwaway
    database, never to the operator's."""

    def __init__(self, container: Container, degrade: Degrade | None = None) -> None:
        self.container = container
        settings = container.settings
        if degrade == "k1":
            settings = settings.model_copy(
                update={"retrieval": settings.retrieval.model_copy(update={"k": 1})}
            )
        self.retriever: Retriever = (
            DegradedRetriever(degrade, settings, container) if degrade else container.retriever
        )
        self._scratch = tempfile.TemporaryDirectory(prefix="advisor-eval-")
        self.chat = container.chat_service(
            retriever=self.retriever, conversations=_scratch_store(Path(self._scratch.name))
        )
        self._caller = Caller(LOCAL_PRINCIPAL, "eval")
        self._texts = PassageTexts(container.retriever)

    def close(self) -> None:
        self._scratch.cleanup()

    def rankings(self, suite: Suite, step: Step) -> dict[str, dict[str, list[str]]]:
        """strategy -> case id -> ranked document ids, for every answerable case."""
        runs: dict[str, dict[str, list[str]]] = {s: {} for s in STRATEGIES}
        for case in suite.answerable:
            for strategy in STRATEGIES:
                found = self.retriever.retrieve_passages(
                    case.question, _DEPTH_PASSAGES, context=case.initiative, strategy=strategy
                )
                runs[strategy][case.id] = ranked_docs(found)
            step(case.id)
        return runs

    def ask(
        self, case_id: str, message: str, initiative: str | None, conversation: str | None = None
    ) -> tuple[AnswerRecord, str]:
        started = time.perf_counter()
        try:
            result = self.chat.ask(ChatRequest(message, conversation, initiative), self._caller)
        except ChatError as exc:  # a case the service refuses to take is a broken case, not a score
            raise DatasetError(f"case {case_id}: refused: {exc.reason}") from None
        latency = (time.perf_counter() - started) * 1000
        citations = [dict(c.as_dict(), text=self._texts.text(c)) for c in result.citations]
        record = AnswerRecord(
            case_id,
            result.answer,
            citations,
            result.abstained,
            round(latency, 1),
            result.standalone_question,
        )
        return record, result.conversation_id

    def answers(self, suite: Suite, step: Step, injection: bool = False) -> dict[str, AnswerRecord]:
        records: dict[str, AnswerRecord] = {}
        if injection:
            for inj in suite.injection:
                records[inj.id], _ = self.ask(inj.id, inj.question, inj.initiative)
                step(inj.id)
            return records
        singles = [(c.id, c.question, c.initiative) for c in suite.answerable]
        singles += [(c.id, c.question, c.initiative) for c in suite.unanswerable]
        for case_id, question, initiative in singles:
            records[case_id], _ = self.ask(case_id, question, initiative)
            step(case_id)
        for conv in suite.multiturn:
            conversation: str | None = None
            for number, turn in enumerate(conv.turns, 1):
                key = f"{conv.id}#{number}"
                first = conv.initiative if number == 1 else None
                records[key], conversation = self.ask(key, turn.message, first, conversation)
            step(conv.id)
        return records


def _scratch_store(folder: Path) -> ConversationRepository:
    from advisor.store.conversations import ConversationRepository
    from advisor.store.db import create_db_engine, upgrade_database

    engine = create_db_engine(f"sqlite:///{folder / 'eval.db'}")
    upgrade_database(engine)
    return ConversationRepository(engine)


# -- answers produced elsewhere ---------------------------------------------------------------------


class _CitationRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    n: int
    doc_id: str = ""
    text: str = ""
    snippet: str = ""
    title: str = ""
    section: str = ""
    source: str = ""


class _AnswerRow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    answer: str
    citations: list[_CitationRow] = Field(default_factory=list)
    abstained: bool | None = None
    latency_ms: float | None = Field(default=None, ge=0)


def load_answers(path: Path, suite: Suite) -> dict[str, AnswerRecord]:
    """Answers from a JSONL file (schema in evals/README.md). Without ``abstained``, an answer that
    cites nothing counts as an abstention."""
    known = suite.case_ids()
    records: dict[str, AnswerRecord] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read answers ({exc})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = _AnswerRow.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{number}: invalid JSON: {exc.msg}") from None
        except ValidationError as exc:
            raise DatasetError(f"{path}:{number}: {describe_validation_error(exc)}") from None
        if row.id not in known:
            raise DatasetError(f"{path}:{number}: id {row.id!r} is not a case of the suite")
        if row.id in records:
            raise DatasetError(f"{path}:{number}: duplicate answer for {row.id!r}")
        citations = [dict(c.model_dump(), text=c.text or c.snippet) for c in row.citations]
        abstained = row.abstained if row.abstained is not None else not citations
        records[row.id] = AnswerRecord(row.id, row.answer, citations, abstained, row.latency_ms)
    return records
