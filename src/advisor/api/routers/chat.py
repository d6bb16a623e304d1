from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, HTTPException
from sse_starlette import EventSourceResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from advisor.answer.service import ChatRequest, ConversationNotFoundError, PreparedTurn
from advisor.api.deps import AnswerServiceDep, ApiKeyDep, SettingsDep
from advisor.api.schemas import ChatIn, ChatOut
from advisor.retrieval.retriever import IndexNotReadyError

router = APIRouter(prefix="/v1", tags=["chat"])


@router.post(
    "/chat",
    response_model=ChatOut,
    responses={200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when stream is true"}},
)
async def chat(body: ChatIn, settings: SettingsDep, service: AnswerServiceDep, key_id: ApiKeyDep) -> object:
    limits = settings.limits
    if len(body.message) > limits.max_message_chars:
        raise HTTPException(422, f"message is {len(body.message)} characters; the limit is {limits.max_message_chars}")
    initiative = body.initiative.model_dump(exclude_none=True) if hasattr(body.initiative, "model_dump") else body.initiative
    if initiative is not None and len(json.dumps(initiative)) > limits.max_initiative_chars:
        raise HTTPException(422, f"initiative is longer than {limits.max_initiative_chars} characters")
    if body.k is not None and body.k > limits.max_k:
        raise HTTPException(422, f"k is {body.k}; the limit is {limits.max_k}")
    request = ChatRequest(body.message, body.conversation_id, initiative, body.k)  # type: ignore[arg-type]
    try:
        turn: PreparedTurn = await run_in_threadpool(service.prepare, request, key_id)
        if not body.stream:
            return await run_in_threadpool(service.answer, turn)
    except ConversationNotFoundError:
        raise HTTPException(404, "conversation not found for this API key") from None
    except IndexNotReadyError as exc:
        raise HTTPException(503, str(exc)) from None

    async def events() -> AsyncIterator[dict[str, str]]:
        async for event in iterate_in_threadpool(service.stream(turn)):
            yield {"event": event.kind, "data": json.dumps(event.data)}

    return EventSourceResponse(events(), ping=15)
