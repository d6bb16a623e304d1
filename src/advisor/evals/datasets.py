"""The evaluation datasets: JSONL files validated row by row, so a bad row is reported with its file
and line instead of surfacing later as a wrong metric."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from advisor.corpus.markdown import FrontMatterError, parse_front_matter
from advisor.corpus.taxonomy import BUILTIN_TOPICS

ANSWERABLE = "answerable.jsonl"
UNANSWERABLE = "unanswerable.jsonl"
INJECTION = "injection.jsonl"
MULTITURN = "multiturn.jsonl"
SUPPORT_PAIRS = "support_pairs.jsonl"
DATASET_FILES = (ANSWERABLE, UNANSWERABLE, INJECTION, MULTITURN, SUPPORT_PAIRS)


class DatasetError(ValueError):
    """A dataset problem, already phrased as ``file:line: reason``."""


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    id: str = Field(min_length=1)


Phrasings = list[str]


def _check_concepts(concepts: list[Phrasings]) -> list[Phrasings]:
    for concept in concepts:
        if not concept or any(not p.strip() for p in concept):
            raise ValueError("every concept needs at least one non-empty phrasing")
    return concepts


def _check_grades(relevant: dict[str, int]) -> dict[str, int]:
    bad = {doc: grade for doc, grade in relevant.items() if grade not in (1, 2)}
    if bad:
        raise ValueError(f"grades must be 1 (useful) or 2 (answers it), got {bad}")
    return relevant


class AnswerableCase(_Row):
    question: str = Field(min_length=1)
    initiative: str | None = None
    topics: list[str] = Field(min_length=1)
    relevant: dict[str, int] = Field(min_length=1)
    must_include: list[Phrasings] = Field(min_length=2, max_length=5)
    must_not_include: list[str] = Field(default_factory=list)  # phrasings a good answer never has
    reference: str = Field(min_length=1)

    _concepts = field_validator("must_include")(_check_concepts)
    _grades = field_validator("relevant")(_check_grades)

    @field_validator("topics")
    @classmethod
    def _known_topics(cls, topics: list[str]) -> list[str]:
        unknown = [t for t in topics if t not in BUILTIN_TOPICS]
        if unknown:
            raise ValueError(f"unknown topic(s) {unknown}; known: {sorted(BUILTIN_TOPICS)}")
        return topics


class UnanswerableCase(_Row):
    question: str = Field(min_length=1)
    initiative: str | None = None
    kind: Literal["off_topic", "near_miss", "unsupported"]
    note: str = ""


class InjectionCase(_Row):
    vector: Literal["direct", "indirect"]
    attack: str = Field(min_length=1)
    question: str = Field(min_length=1)
    initiative: str | None = None
    # None for a benign control: a security question that must be answered, not refused.
    canary: str | None = Field(default=None, pattern=r"^CANARY-[0-9A-Fa-f]{8}$")
    poisoned_doc: str | None = None
    exfil_domain: str | None = None

    @model_validator(mode="after")
    def _indirect_names_its_doc(self) -> InjectionCase:
        if self.vector == "indirect" and not self.poisoned_doc:
            raise ValueError("an indirect case needs poisoned_doc (the planted document's id)")
        return self


class ConversationTurn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    message: str = Field(min_length=1)
    relevant: dict[str, int] = Field(default_factory=dict)
    must_include: list[Phrasings] = Field(default_factory=list)
    must_not_include: list[str] = Field(default_factory=list)

    _concepts = field_validator("must_include")(_check_concepts)
    _grades = field_validator("relevant")(_check_grades)


class MultiturnCase(_Row):
    initiative: str | None = None
    turns: list[ConversationTurn] = Field(min_length=2)


class SupportPair(_Row):
    sentence: str = Field(min_length=1)
    passage: str = Field(min_length=1)
    supported: bool
    note: str | None = None


RowT = TypeVar("RowT", bound=_Row)


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "row"
        message = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def load_rows(path: Path, model: type[RowT]) -> list[tuple[int, RowT]]:
    """Rows of a JSONL file with their 1-based line numbers; raises DatasetError naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such dataset file") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 ({exc.reason})") from None
    rows: list[tuple[int, RowT]] = []
    first_seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{number}: invalid JSON: {exc.msg} (column {exc.colno})") from None
        if not isinstance(data, dict):
            raise DatasetError(f"{path}:{number}: each line must be a JSON object")
        try:
            row = model.model_validate(data)
        except ValidationError as exc:
            raise DatasetError(f"{path}:{number}: {describe_validation_error(exc)}") from None
        if row.id in first_seen:
            raise DatasetError(
                f"{path}:{number}: duplicate id {row.id!r} (first on line {first_seen[row.id]})"
            )
        first_seen[row.id] = number
        rows.append((number, row))
    return rows


def corpus_doc_ids(*folders: Path) -> set[str]:
    """Document ids declared in the front matter of the Markdown files under ``folders``."""
    ids: set[str] = set()
    for folder in folders:
        for path in sorted(folder.rglob("*.md")):
            try:
                front = parse_front_matter(path.read_text(encoding="utf-8"))
            except (FrontMatterError, UnicodeDecodeError):
                continue  # `advisor corpus check` reports these; here they simply name no document
            if front is not None and isinstance(front.data.get("id"), str):
                ids.add(front.data["id"])
    return ids


@dataclass(frozen=True)
class Suite:
    answerable: list[AnswerableCase]
    unanswerable: list[UnanswerableCase]
    injection: list[InjectionCase]
    multiturn: list[MultiturnCase]
    support_pairs: list[SupportPair]

    def case_ids(self) -> set[str]:
        ids = {c.id for c in self.answerable} | {c.id for c in self.unanswerable}
        ids |= {c.id for c in self.injection}
        ids |= {f"{c.id}#{i}" for c in self.multiturn for i in range(1, len(c.turns) + 1)}
        return ids


def _unknown_docs(path: Path, line: int, docs: Iterable[str], known: set[str], field: str) -> None:
    missing = sorted(set(docs) - known)
    if missing:
        raise DatasetError(f"{path}:{line}: {field}: unknown document id(s) {missing}")


def load_suite(datasets: Path, knowledge: Path, poisoned: Path | None) -> Suite:
    """Load and cross-check every dataset: relevant documents must exist in ``knowledge``, planted
    documents in ``poisoned``, and canaries must be unique."""
    known = corpus_doc_ids(knowledge)
    planted = corpus_doc_ids(poisoned) if poisoned is not None and poisoned.is_dir() else set()
    answerable = load_rows(datasets / ANSWERABLE, AnswerableCase)
    for line, case in answerable:
        _unknown_docs(datasets / ANSWERABLE, line, case.relevant, known, "relevant")
    multiturn = load_rows(datasets / MULTITURN, MultiturnCase)
    for line, conv in multiturn:
        for turn in conv.turns:
            _unknown_docs(datasets / MULTITURN, line, turn.relevant, known, "turns.relevant")
    injection = load_rows(datasets / INJECTION, InjectionCase)
    canaries: dict[str, int] = {}
    for line, inj in injection:
        if inj.poisoned_doc:
            _unknown_docs(datasets / INJECTION, line, [inj.poisoned_doc], planted, "poisoned_doc")
        if inj.canary is None:
            continue
        key = inj.canary.upper()
        if key in canaries:
            raise DatasetError(
                f"{datasets / INJECTION}:{line}: canary {inj.canary} already used on line {canaries[key]}"
            )
        canaries[key] = line
    return Suite(
        answerable=[c for _, c in answerable],
        unanswerable=[c for _, c in load_rows(datasets / UNANSWERABLE, UnanswerableCase)],
        injection=[c for _, c in injection],
        multiturn=[c for _, c in multiturn],
        support_pairs=[c for _, c in load_rows(datasets / SUPPORT_PAIRS, SupportPair)],
    )
