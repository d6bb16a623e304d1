"""What an assessment is made of: the answers (read from the team's words or chosen), each topic's
level with the reasons that set it, cited actions, the three biggest risks and a 30/60/90-day plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from advisor.types import Citation

AnswerSource = Literal["read", "chosen"]


@dataclass(frozen=True)
class Answer:
    question: str
    choice: str
    source: AnswerSource  # read from the description, or chosen by the user
    said: str = ""  # the user's own words it was read from


@dataclass(frozen=True)
class Reason:
    """Why a topic is at its level: an answer's level, or a rule that capped it."""

    text: str
    level: int
    rule: str = ""  # the cap rule's id; "" for an answer


@dataclass(frozen=True)
class Action:
    text: str
    n: int  # the citation number, into Scorecard.citations


@dataclass(frozen=True)
class TopicScore:
    topic: str
    group: str
    level: int | None  # None: nothing answered about it yet
    label: str
    facts: tuple[str, ...]  # the user's words that led to the level
    reasons: tuple[Reason, ...]
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True)
class PlanItem:
    days: Literal[30, 60, 90]
    topic: str
    action: Action


@dataclass(frozen=True)
class Choice:
    id: str
    label: str


@dataclass(frozen=True)
class OpenQuestion:
    id: str
    topic: str
    text: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class Scorecard:
    topics: tuple[TopicScore, ...]
    risks: tuple[TopicScore, ...]  # the three biggest, weakest first
    plan: tuple[PlanItem, ...]
    citations: tuple[Citation, ...]  # numbered 1..n as the actions cite them
    open_questions: tuple[OpenQuestion, ...]  # what is still unknown, to ask next

    def level_of(self, topic: str) -> int | None:
        return next((t.level for t in self.topics if t.topic == topic), None)


@dataclass(frozen=True)
class Assessment:
    initiative: str
    answers: tuple[Answer, ...]
    scorecard: Scorecard
    changes: tuple[tuple[str, int | None, int | None], ...] = field(default=())  # topic, before, after
