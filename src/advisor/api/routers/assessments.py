"""Readiness assessments: create one from a description and/or answers, read it, re-score it with
changed answers. Scoring is fast and deterministic, so no streaming or polling is needed."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from advisor.api.assessment_schemas import AssessmentIn, AssessmentOut, AssessmentPatch
from advisor.api.bodies import UsableText
from advisor.api.deps import AssessmentsDep, ChatCaller, SettingsDep
from advisor.api.responses import COMMON, error_responses

router = APIRouter(prefix="/v1", tags=["assessments"], responses=error_responses(*COMMON, 404, 409))


@router.post("/assessments", response_model=AssessmentOut, status_code=201)
async def create_assessment(
    body: AssessmentIn, desk: AssessmentsDep, caller: ChatCaller, settings: SettingsDep
) -> AssessmentOut:
    """Score an initiative: a level per topic with the facts and rules behind it, cited actions, the
    three biggest risks, a 30/60/90-day plan and the questions still open."""
    record = await run_in_threadpool(
        desk.create,
        body.initiative_text(settings.limits.max_message_chars),
        body.answers,
        body.conversation_id,
        caller,
    )
    return AssessmentOut.of(record, desk.questions)


@router.get("/assessments/{assessment_id}", response_model=AssessmentOut)
async def get_assessment(
    assessment_id: UsableText, desk: AssessmentsDep, caller: ChatCaller
) -> AssessmentOut:
    return AssessmentOut.of(await run_in_threadpool(desk.get, assessment_id, caller), desk.questions)


@router.patch("/assessments/{assessment_id}", response_model=AssessmentOut)
async def update_assessment(
    assessment_id: UsableText, body: AssessmentPatch, desk: AssessmentsDep, caller: ChatCaller
) -> AssessmentOut:
    """Re-score with changed answers; `changes` lists the topics whose level moved."""
    record = await run_in_threadpool(
        desk.update, assessment_id, body.initiative, body.answers, caller, body.conversation_id
    )
    return AssessmentOut.of(record, desk.questions)
