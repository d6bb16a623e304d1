"""The OpenAI chat-completions protocol, so portals and the official SDKs can use Advisor unchanged.

Stateless as the protocol expects: the conversation is the message list the client sends. Answers
come from the same chat core as /v1/chat; errors use OpenAI's shape (see api/errors.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from advisor.api.deps import ChatServiceDep, ModelsCaller, OpenAICaller, SettingsDep
from advisor.api.openai.completion import CompletionWriter, read_request
from advisor.api.openai.schemas import (
    MODEL_CREATED,
    MODEL_ID,
    ChatCompletionIn,
    OpenAIHTTPError,
    openai_error_body,
)
from advisor.api.responses import error_responses

log = logging.getLogger(__name__)
router = APIRouter(
    prefix="/v1", tags=["openai"], responses=error_responses(400, 401, 403, 404, 413, 429, 503, openai=True)
)

_MODEL = {"id": MODEL_ID, "object": "model", "created": MODEL_CREATED, "owned_by": "advisor"}


@router.get("/models")
async def list_models(_caller: ModelsCaller) -> dict[str, Any]:
    return {"object": "list", "data": [_MODEL]}


@router.get("/models/{model_id}")
async def get_model(model_id: str, _caller: ModelsCaller) -> dict[str, Any]:
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
async def chat_completions(
    body: ChatCompletionIn, chat: ChatServiceDep, caller: OpenAICaller, settings: SettingsDep
) -> Any:
    request, prompt_tokens = read_request(body)
    turn = await run_in_threadpool(chat.start_turn, request, caller)
    log.info(
        "chat completion for key %s, user %s, conversation %s",
        caller.key_id or "-",
        (body.user or "-")[:64],
        turn.conversation_id,
    )
    writer = CompletionWriter(turn.conversation_id, body.token_limit, prompt_tokens)
    if not body.stream:
        return JSONResponse(writer.completion(await run_in_threadpool(chat.answer, turn)))

    include_usage = body.stream_options is not None and body.stream_options.include_usage

    async def sse() -> AsyncIterator[dict[str, str]]:
        try:
            async for chunk in iterate_in_threadpool(writer.chunks(chat.stream(turn))):
                yield {"data": json.dumps(chunk)}
            if include_usage:
                yield {"data": json.dumps(writer.usage_chunk())}
        except Exception as exc:  # the response has started: report in-band, as OpenAI does
            log.warning("chat completion stream failed for conversation %s: %s", turn.conversation_id, exc)
            error = openai_error_body(503, "the answer failed; please try again", code="answer_failed")
            yield {"data": json.dumps(error)}
        yield {"data": "[DONE]"}

    # sse-starlette, as /v1/chat: a ": keep-alive" comment while the answer is quiet, so idle-timeout
    # proxies keep the stream open (clients of the protocol skip comments); "\n" as OpenAI frames it.
    return EventSourceResponse(
        sse(),
        ping=settings.api.stream_keepalive_seconds,
        ping_message_factory=lambda: ServerSentEvent(comment="keep-alive", sep="\n"),
        sep="\n",
        headers={"X-Accel-Buffering": "no"},
    )
