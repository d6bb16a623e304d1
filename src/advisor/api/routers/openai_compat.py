"""The OpenAI chat-completions protocol, so portals and the official SDKs can use Advisor unchanged.

Stateless as the protocol expects: the conversation is the message list the client sends. Answers
come from the same AnswerService as /v1/chat; errors use OpenAI's shape (see api/errors.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from advisor.answer.service import AnswerFailedError, ChatRequest
from advisor.api.deps import ChatAuth, ContainerDep, PrincipalDep
from advisor.api.openai_completion import CompletionWriter, answer_service_for, read_conversation
from advisor.api.openai_schemas import (
    MODEL_CREATED,
    MODEL_ID,
    ChatCompletionIn,
    OpenAIHTTPError,
    openai_error_body,
)

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["openai"])

_MODEL = {"id": MODEL_ID, "object": "model", "created": MODEL_CREATED, "owned_by": "advisor"}


@router.get("/models")
async def list_models(_principal: PrincipalDep) -> dict[str, Any]:
    return {"object": "list", "data": [_MODEL]}


@router.get("/models/{model_id}")
async def get_model(model_id: str, _principal: PrincipalDep) -> dict[str, Any]:
    if model_id != MODEL_ID:
        raise OpenAIHTTPError(
            404, f"The model {model_id!r} does not exist.", code="model_not_found", param="model"
        )
    return _MODEL


@router.post(
    "/chat/completions",
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "chat.completion, or chunks when streamed"}
    },
)
async def chat_completions(body: ChatCompletionIn, container: ContainerDep, principal: ChatAuth) -> Any:
    conversation = read_conversation(body, container.settings.limits)
    if not await run_in_threadpool(container.retriever.ready):
        raise OpenAIHTTPError(503, "the index is not loaded yet: run `advisor ingest`")
    service = answer_service_for(container, body.temperature)
    request = ChatRequest(conversation.question, None, conversation.initiative)
    turn = await run_in_threadpool(
        service.prepare_with_history, request, conversation.history, principal.key_id
    )
    log.info(
        "chat completion for key %s, user %s, conversation %s",
        principal.key_id or "-",
        (body.user or "-")[:64],
        turn.conversation_id,
    )
    writer = CompletionWriter(turn.conversation_id, body.token_limit, conversation.prompt_tokens)
    if not body.stream:
        try:
            answer = await run_in_threadpool(service.answer, turn)
        except AnswerFailedError as exc:
            raise OpenAIHTTPError(503, f"{exc}; please try again", code="answer_failed") from None
        return JSONResponse(writer.completion(answer))

    include_usage = body.stream_options is not None and body.stream_options.include_usage

    async def sse() -> AsyncIterator[str]:
        try:
            async for chunk in iterate_in_threadpool(writer.chunks(service.stream(turn))):
                yield f"data: {json.dumps(chunk)}\n\n"
            if include_usage:
                yield f"data: {json.dumps(writer.usage_chunk())}\n\n"
        except Exception as exc:  # the response has started: report in-band, as OpenAI does
            log.warning("chat completion stream failed for conversation %s: %s", turn.conversation_id, exc)
            error = openai_error_body(503, "the answer failed; please try again", code="answer_failed")
            yield f"data: {json.dumps(error)}\n\n"
        yield "data: [DONE]\n\n"

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(sse(), media_type="text/event-stream", headers=headers)
