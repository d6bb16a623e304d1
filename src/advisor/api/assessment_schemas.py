"""Request and response bodies of the readiness assessment routes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from advisor.api.bodies import RequestBody
from advisor.api.schemas import InitiativeObject
from advisor.assessment.model import Answer, OpenQuestion, Scorecard
from advisor.chat.assessments import AssessmentRecord
from advisor.chat.errors import InvalidRequest


class AssessmentIn(RequestBody):
    initiative: str | InitiativeObject | None = Field(
        default=None,
        description="The initiative in the team's own words, or as chat's object (goal, industry, stage, "
        "data, team, constraints); answers are read from it.",
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

    @field_validator("initiative", mode="before")
    @classmethod
    def _filled_profile(cls, value: object) -> object:
        # An object describes the initiative only with text in it: {} or {"goal": null} says nothing.
        if isinstance(value, dict) and (
            not value or not all(isinstance(v, str) and v.strip() for v in value.values())
        ):
            raise ValueError("initiative fields must be non-empty text, at least one of them")
        return value

    def initiative_text(self, message_chars: int) -> str | None:
        """The description as text; an object's fields each within their share of the length limit
        (what the OpenAPI document says: see profile_field_chars)."""
        if not isinstance(self.initiative, InitiativeObject):
            return self.initiative
        fields = self.initiative.model_dump(exclude_none=True)
        limit = profile_field_chars(message_chars)
        if long := [k for k, v in fields.items() if len(v) > limit]:
            raise InvalidRequest(
                f"initiative.{long[0]} is longer than {limit} characters", field="initiative"
            )
        return "; ".join(f"{k}: {v}" for k, v in fields.items())


def profile_field_chars(message_chars: int) -> int:
    """Each field of an initiative object: six fields and their labels stay within the limit."""
    return max(1, (message_chars - 100) // len(InitiativeObject.model_fields))


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
