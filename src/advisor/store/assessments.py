"""Stored readiness assessments: the initiative and the chosen answers (what re-scoring starts from)
and the last result, found by id (for its owner's key) or by the conversation it belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from advisor.store.models import AssessmentRow, new_id, utcnow
from advisor.store.sessions import SessionScopes


@dataclass(frozen=True, slots=True)
class StoredAssessment:
    id: str
    api_key_id: str | None
    conversation_id: str | None
    initiative: str
    chosen: dict[str, str]
    result: dict[str, Any]  # advisor.assessment.report.assessment_json's shape
    created_at: datetime
    updated_at: datetime


def _stored(row: AssessmentRow) -> StoredAssessment:
    return StoredAssessment(
        row.id,
        row.api_key_id,
        row.conversation_id,
        row.initiative,
        dict(row.chosen),
        dict(row.result),
        row.created_at,
        row.updated_at,
    )


class AssessmentStore(SessionScopes):
    def create(
        self,
        api_key_id: str | None,
        conversation_id: str | None,
        initiative: str,
        chosen: dict[str, str],
        result: dict[str, Any],
    ) -> StoredAssessment:
        now = utcnow()
        row = AssessmentRow(
            id=new_id(),
            api_key_id=api_key_id,
            conversation_id=conversation_id,
            initiative=initiative,
            chosen=chosen,
            result=result,
            created_at=now,
            updated_at=now,
        )
        with self._write() as session:
            session.add(row)
            session.flush()
            return _stored(row)

    def get(self, assessment_id: str, api_key_id: str | None) -> StoredAssessment | None:
        """The assessment, if it is this key's (another key's is as good as absent)."""
        with self._read() as session:
            row = session.get(AssessmentRow, assessment_id)
            return _stored(row) if row is not None and row.api_key_id == api_key_id else None

    def update(
        self,
        assessment_id: str,
        initiative: str,
        chosen: dict[str, str],
        result: dict[str, Any],
        conversation_id: str | None = None,
    ) -> StoredAssessment | None:
        with self._write() as session:
            row = session.get(AssessmentRow, assessment_id)
            if row is None:
                return None
            row.initiative, row.chosen, row.result, row.updated_at = initiative, chosen, result, utcnow()
            row.conversation_id = conversation_id
            session.flush()
            return _stored(row)
