from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException
from sse_starlette import EventSourceResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from advisor.answer.service import AnswerFailedError, ChatRequest, ConversationNotFoundError, PreparedTurn
from advisor.api.deps import AnswerServiceDep, ChatAuth, ContainerDep, SettingsDep
from advisor.api.schemas import ChatIn, ChatOut, InitiativeObject
from advisor.retrieval.retriever import IndexNotReadyError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["chat"])


@router.post(
    "/chat",
    response_model=ChatOut,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when stream is true"}
    },
)
async def chat(
    body: ChatIn,
    settings: SettingsDep,
    service: AnswerServiceDep,
    container: ContainerDep,
    principal: ChatAuth,
) -> object:
    limits = settings.limits
    if len(body.message) > limits.max_message_chars:
        raise HTTPException(
            422, f"message is {len(body.message)} characters; the limit is {limits.max_message_chars}"
        )
    initiative: str | dict[str, Any] | None = (
        body.initiative.model_dump(exclude_none=True)
        if isinstance(body.initiative, InitiativeObject)
        else body.initiative
    )
    if initiative is not None and len(json.dumps(initiative)) > limits.max_initiative_chars:
        raise HTTPException(422, f"initiative is longer than {limits.max_initiative_chars} characters")
    if body.k is not None and body.k > limits.max_k:
        raise HTTPException(422, f"k is {body.k}; the limit is {limits.max_k}")
    request = ChatRequest(body.message, body.conversation_id, initiative, body.k)
    # The answer pipeline turns a missing index into a failed answer (an SSE error event, or a 500
    # in JSON): refuse up front instead, before a conversation is created or a byte is streamed.
    if not await run_in_threadpool(container.retriever.ready):
        raise HTTPException(503, "the index is not loaded yet: run `advisor ingest` (see /readyz)")
    try:
        turn: PreparedTurn = await run_in_threadpool(service.prepare, request, principal.key_id)
        if not body.stream:
            return await run_in_threadpool(service.answer, turn)
    except ConversationNotFoundError:
        raise HTTPException(404, "conversation not found for this API key") from None
    except IndexNotReadyError as exc:
        raise HTTPException(503, str(exc)) from None
    except AnswerFailedError as exc:
        raise HTTPException(503, f"{exc}; please try again") from None

    async def events() -> AsyncIterator[dict[str, str]]:
        citations: list[object] = []
        try:
            async for event in iterate_in_threadpool(service.stream(turn)):
                data = event.data
                if event.kind == "citations":
                    citations = data["citations"]
                elif event.kind == "done":
                    # `done` carries the same final object as the JSON response, citations included.
                    data = {**data, "citations": citations}
                yield {"event": event.kind, "data": json.dumps(data)}
        except Exception as exc:  # the response has started: report it in-band, never cut it short
            log.exception("chat stream failed for conversation %s", turn.conversation_id)
            yield {"event": "error", "data": json.dumps({"reason": f"answer failed: {type(exc).__name__}"})}

    return EventSourceResponse(events(), ping=15)
