"""The API's own description (/openapi.json, /docs, /redoc), as the running service behaves: with
API keys on, reading it needs a key unless ``api.public_docs``; in keyless local mode no operation
declares a key; ``k`` carries this deployment's limit and ``topics`` the index's topics."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from advisor.api.assessment_schemas import profile_field_chars
from advisor.api.deps import ContainerDep, DocsAccess
from advisor.api.schemas import InitiativeObject
from advisor.container import Container

router = APIRouter(include_in_schema=False)


@router.get("/openapi.json")
async def openapi_document(request: Request, container: ContainerDep, _: DocsAccess) -> JSONResponse:
    return JSONResponse(await run_in_threadpool(describe_api, request.app.openapi(), container))


@router.get("/docs")
async def swagger_ui(_: DocsAccess) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Advisor API")


@router.get("/redoc")
async def redoc(_: DocsAccess) -> HTMLResponse:
    return get_redoc_html(openapi_url="/openapi.json", title="Advisor API")


def describe_api(generated: dict[str, Any], container: Container) -> dict[str, Any]:
    doc = copy.deepcopy(generated)
    keyless = not container.authenticator.auth_required()
    for path, operations in doc.get("paths", {}).items():
        for operation in operations.values():
            if keyless:
                operation.pop("security", None)  # local mode: nobody sends a key
            if path.startswith("/v1/chat/completions") or path.startswith("/v1/models"):
                operation.get("responses", {}).pop("422", None)  # the OpenAI route answers 400
    try:
        topics = sorted(container.retriever.known_topics())
    except Exception:  # no index yet: the schema still describes the limits it knows
        topics = []
    for name in ("ChatIn", "SearchIn"):
        properties = doc.get("components", {}).get("schemas", {}).get(name, {}).get("properties", {})
        for branch in properties.get("k", {}).get("anyOf", []):
            if branch.get("type") == "integer":
                branch["maximum"] = container.settings.limits.max_k
        for branch in properties.get("topics", {}).get("anyOf", []):
            if branch.get("type") == "array" and topics:
                branch["items"] = {"type": "string", "enum": topics}
    _describe_assessments(doc, container)
    return doc


def _describe_assessments(doc: dict[str, Any], container: Container) -> None:
    """The assessment bodies as the loaded rules define them: each question's answers by id, and
    a description or at least one answer to create one."""
    schemas = doc.get("components", {}).get("schemas", {})
    questions = container.assessor.rules.questions
    answers = {
        "type": "object",
        "properties": {
            q.id: {"type": "string", "enum": [c.id for c in q.choices], "description": q.text}
            for q in questions
        },
        "additionalProperties": False,
    }
    text = {"type": "string", "pattern": r"\S", "maxLength": container.settings.limits.max_message_chars}
    field_chars = profile_field_chars(container.settings.limits.max_message_chars)
    profile = {
        "type": "object",
        "properties": {
            f: {"type": "string", "pattern": r"\S", "maxLength": field_chars}
            for f in InitiativeObject.model_fields
        },
        "additionalProperties": False,
        "minProperties": 1,
    }
    for name in ("AssessmentIn", "AssessmentPatch"):
        properties = schemas.get(name, {}).get("properties", {})
        if "answers" in properties:
            properties["answers"] = {**answers, "description": properties["answers"].get("description", "")}
        if name == "AssessmentIn" and "initiative" in properties:
            properties["initiative"] = {"anyOf": [text, profile, {"type": "null"}]}
        for branch in properties.get("initiative", {}).get("anyOf", []):
            if branch.get("type") == "string":
                branch.update(text)
    if "AssessmentIn" in schemas:
        schemas["AssessmentIn"]["anyOf"] = [
            {"required": ["initiative"], "properties": {"initiative": {"anyOf": [text, profile]}}},
            {"required": ["answers"], "properties": {"answers": {"minProperties": 1}}},
        ]
