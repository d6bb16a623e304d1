"""The chat core's readiness assessments: create one (from a description and/or answers), read it,
and re-score it with changed answers, showing what moved. Admission is chat's (scope, size, rate
limits, a ready index); an assessment may belong to one of the caller's conversations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from advisor.chat.errors import Conflict, InvalidRequest, NotFound
from advisor.chat.model import Caller

if TYPE_CHECKING:
    from datetime import datetime

    from advisor.assessment.model import Assessment, OpenQuestion
    from advisor.assessment.service import Assessor
    from advisor.chat.admission import Admission
    from advisor.store.assessments import AssessmentStore, StoredAssessment
    from advisor.store.conversations import ConversationRepository
    from advisor.types import ReadinessNote

MAX_ANSWERS = 64


@dataclass(frozen=True)
class AssessmentRecord:
    id: str
    conversation_id: str | None
    assessment: Assessment
    created_at: datetime
    updated_at: datetime


class AssessmentDesk:
    def __init__(
        self,
        assessor: Assessor,
        store: AssessmentStore,
        admission: Admission,
        conversations: ConversationRepository,
    ) -> None:
        self._assessor = assessor
        self._store = store
        self._admission = admission
        self._conversations = conversations

    @property
    def questions(self) -> tuple[OpenQuestion, ...]:
        """Every guided question with its answers, in the rules' order."""
        from advisor.assessment.service import open_question

        return tuple(open_question(q) for q in self._assessor.rules.questions)

    def _admit(self, initiative: str | None, answers: Mapping[str, str], caller: Caller) -> str:
        text = (
            self._admission.message(initiative, caller, field="initiative") if initiative is not None else ""
        )
        if len(answers) > MAX_ANSWERS:
            raise InvalidRequest(
                f"answers has {len(answers)} entries; the limit is {MAX_ANSWERS}", field="answers"
            )
        self._admission.rate_limit(caller)
        self._admission.ready()
        return text

    def _score(
        self, initiative: str, chosen: Mapping[str, str], before: Assessment | None = None
    ) -> Assessment:
        from advisor.assessment.service import AnswerError

        try:
            return self._assessor.assess(initiative, chosen, before.scorecard if before else None)
        except AnswerError as exc:
            raise InvalidRequest(str(exc), field="answers") from None

    def create(
        self, initiative: str | None, answers: Mapping[str, str], conversation_id: str | None, caller: Caller
    ) -> AssessmentRecord:
        from advisor.assessment.report import assessment_json

        text = self._admit(initiative, answers, caller)
        if not text and not answers:
            raise InvalidRequest("describe the initiative, or give answers", field="initiative")
        self._check_conversation(conversation_id, caller)
        result = self._score(text, answers)
        if conversation_id is not None:
            self._conversations.set_readiness(conversation_id, weak_topics(result))
        stored = self._store.create(
            caller.key_id, conversation_id, text, dict(answers), assessment_json(result)
        )
        return AssessmentRecord(
            stored.id, stored.conversation_id, result, stored.created_at, stored.updated_at
        )

    def _check_conversation(self, conversation_id: str | None, caller: Caller) -> None:
        if conversation_id is not None and (
            self._conversations.get_conversation(conversation_id, caller.key_id) is None
        ):
            # A 409, not a 404: the assessment asked for exists; the conversation named in the body does not.
            raise Conflict(
                f"conversation_id: no conversation {conversation_id} of yours", field="conversation_id"
            )

    def _stored(self, assessment_id: str, caller: Caller) -> StoredAssessment:
        stored = self._store.get(assessment_id, caller.key_id)
        if stored is None:
            raise NotFound(f"assessment {assessment_id} not found")
        return stored

    def get(self, assessment_id: str, caller: Caller) -> AssessmentRecord:
        from advisor.assessment.report import assessment_from_json

        stored = self._stored(assessment_id, caller)
        return AssessmentRecord(
            stored.id,
            stored.conversation_id,
            assessment_from_json(stored.result),
            stored.created_at,
            stored.updated_at,
        )

    def update(
        self,
        assessment_id: str,
        initiative: str | None,
        answers: Mapping[str, str],
        caller: Caller,
        conversation_id: str | None = None,
    ) -> AssessmentRecord:
        """Re-score with changed answers (and the description, when given): what improved or slipped
        shows in the result's changes."""
        from advisor.assessment.report import assessment_from_json, assessment_json

        stored = self._stored(assessment_id, caller)
        before = assessment_from_json(stored.result)
        text = self._admit(initiative, answers, caller) or before.initiative
        self._check_conversation(conversation_id, caller)
        chosen = {**stored.chosen, **answers}
        result = self._score(text, chosen, before)
        joined = conversation_id or stored.conversation_id
        if joined is not None:
            self._conversations.set_readiness(joined, weak_topics(result))
        updated = self._store.update(assessment_id, text, chosen, assessment_json(result), joined)
        if updated is None:
            raise NotFound(f"assessment {assessment_id} not found")
        return AssessmentRecord(
            updated.id, updated.conversation_id, result, updated.created_at, updated.updated_at
        )


def weak_topics(assessment: Assessment) -> tuple[ReadinessNote, ...]:
    """What the conversation's answers use: the topics at risk or worse, weakest first, with the team's
    words behind each."""
    from advisor.types import ReadinessNote

    notes = [
        ReadinessNote(t.topic, t.level, t.label, t.facts)
        for t in assessment.scorecard.topics
        if t.level is not None and t.level <= 2
    ]
    return tuple(sorted(notes, key=lambda n: n.level))
