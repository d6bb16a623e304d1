"""Request and response bodies of the readiness assessment routes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, Field

from advisor.api.bodies import RequestBody
from advisor.assessment.model import Answer, OpenQuestion, Scorecard
from advisor.chat.assessments import AssessmentRecord


class AssessmentIn(RequestBody):
    initiative: str | None = Field(
        default=None, description="The initiative in the team's own words; answers are read from it."
    )
    answers: dict[str, str] = Field(
        default_factory=dict,
        description="Answers the user chose, question id -> answer id (see scorecard.open_questions); "
        "they win over what the description says.",
    )
    conversation_id: str | None = Field(
        default=None,
        max_length=64,
        description="A conversation of yours whose answers should use this assessment.",
    )


class AssessmentPatch(RequestBody):
    initiative: str | None = Field(default=None, description="A new description; default: keep the last one.")
    answers: dict[str, str] = Field(
        default_factory=dict, description="Changed answers, question id -> answer id."
    )
    conversation_id: str | None = Field(
        default=None,
        max_length=64,
        description="Tie the assessment to this conversation of yours from now on.",
    )


class LevelChange(BaseModel):
    topic: str
    before: int | None
    after: int | None


class AssessmentOut(BaseModel):
    id: str
    conversation_id: str | None
    initiative: str
    answers: list[Answer]
    scorecard: Scorecard
    changes: list[LevelChange] = Field(description="Topics whose level moved since the last scoring.")
    questions: list[OpenQuestion] = Field(
        description="Every guided question with its answers, to correct what was read from the description."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: AssessmentRecord, questions: Sequence[OpenQuestion]) -> AssessmentOut:
        a = record.assessment
        return cls(
            id=record.id,
            conversation_id=record.conversation_id,
            initiative=a.initiative,
            answers=list(a.answers),
            scorecard=a.scorecard,
            changes=[LevelChange(topic=t, before=b, after=n) for t, b, n in a.changes],
            questions=list(questions),
            created_at=record.created_at,
            updated_at=record.updated_at,
        )
