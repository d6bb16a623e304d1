"""Loading ``knowledge/rules/assessment.toml``: the questions, their answers and what each says about
readiness, the topics' search words and the rules that cap a level. A mistake is a RulesError naming
the file and the key, at start-up."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from advisor.guidance.rules import RulesError, bundled_rules_dir

LEVELS = (1, 2, 3, 4)
FILE = "assessment.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoiceRule(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    level: int = Field(ge=1, le=4)
    query: str = ""
    patterns: tuple[str, ...] = ()

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r} ({exc})") from None
        return patterns

    def matcher(self) -> re.Pattern[str] | None:
        return re.compile("|".join(f"(?:{p})" for p in self.patterns), re.I) if self.patterns else None


class QuestionRule(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    topic: str
    text: str
    choices: tuple[ChoiceRule, ...] = Field(min_length=2)

    def choice(self, choice_id: str) -> ChoiceRule | None:
        return next((c for c in self.choices if c.id == choice_id), None)


class CapRule(_Strict):
    id: str
    when: dict[str, tuple[str, ...]]
    topic: str
    at_most: int = Field(ge=1, le=4)
    reason: str


class GroupRule(_Strict):
    name: str
    topics: tuple[str, ...] = Field(min_length=1)


class TopicRule(_Strict):
    query: str


class _Document(_Strict):
    groups: tuple[GroupRule, ...] = Field(min_length=1)
    levels: dict[int, str]
    topics: dict[str, TopicRule]
    questions: tuple[QuestionRule, ...] = Field(min_length=1)
    caps: tuple[CapRule, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> _Document:
        if sorted(self.levels) != list(LEVELS):
            raise ValueError("levels must name exactly the levels 1, 2, 3 and 4")
        scored = [t for g in self.groups for t in g.topics]
        if len(set(scored)) != len(scored):
            raise ValueError("a topic appears in two groups")
        if missing := sorted(set(scored) - set(self.topics)):
            raise ValueError(f"topics {missing} are scored but have no [topics.<id>] query")
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError("two questions share an id")
        for question in self.questions:
            if question.topic not in scored:
                raise ValueError(f"question {question.id!r}: topic {question.topic!r} is not in any group")
            if len({c.id for c in question.choices}) != len(question.choices):
                raise ValueError(f"question {question.id!r}: two answers share an id")
        if unasked := sorted(set(scored) - {q.topic for q in self.questions}):
            raise ValueError(f"topics {unasked} have no question")
        by_id = {q.id: q for q in self.questions}
        for cap in self.caps:
            if cap.topic not in scored:
                raise ValueError(f"cap {cap.id!r}: topic {cap.topic!r} is not scored")
            for question_id, choices in cap.when.items():
                asked = by_id.get(question_id)
                if asked is None:
                    raise ValueError(f"cap {cap.id!r}: no question {question_id!r}")
                if unknown := [c for c in choices if asked.choice(c) is None]:
                    raise ValueError(f"cap {cap.id!r}: question {question_id!r} has no answer {unknown}")
        return self


@dataclass(frozen=True)
class AssessmentRules:
    groups: tuple[GroupRule, ...]
    levels: dict[int, str]
    topics: dict[str, TopicRule]
    questions: tuple[QuestionRule, ...]
    caps: tuple[CapRule, ...]
    matchers: dict[tuple[str, str], re.Pattern[str]]  # (question, choice) -> its patterns

    @property
    def scored_topics(self) -> tuple[str, ...]:
        return tuple(t for g in self.groups for t in g.topics)

    def question(self, question_id: str) -> QuestionRule | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def group_of(self, topic: str) -> str:
        return next(g.name for g in self.groups if topic in g.topics)


def load_assessment_rules(folder: Path | None = None) -> AssessmentRules:
    path = (folder or bundled_rules_dir()) / FILE
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise RulesError(f"{path}: missing rules file") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not valid TOML ({exc})") from None
    try:
        doc = _Document.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise RulesError(f"{path}: {where}: {first['msg']}") from None
    matchers = {
        (q.id, c.id): matcher
        for q in doc.questions
        for c in q.choices
        if (matcher := c.matcher()) is not None
    }
    return AssessmentRules(doc.groups, doc.levels, doc.topics, doc.questions, doc.caps, matchers)
