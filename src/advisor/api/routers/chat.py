"""POST /v1/chat: one turn, answered as JSON or streamed as Server-Sent Events."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter
from sse_starlette import EventSourceResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from advisor.api.deps import ChatCaller, ChatServiceDep, SettingsDep
from advisor.api.responses import COMMON, error_responses
from advisor.api.schemas import ChatIn, ChatOut
from advisor.chat.model import ChatEvent, Restart, TextDelta, TurnCompleted, TurnFailed

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["chat"], responses=error_responses(*COMMON, 404))


@router.post(
    "/chat",
    response_model=ChatOut,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when stream is true"}
    },
)
async def chat(body: ChatIn, chat: ChatServiceDep, caller: ChatCaller, settings: SettingsDep) -> object:
    # Refusals (ChatError) are raised here, before anything is streamed; api.errors renders them.
    turn = await run_in_threadpool(chat.start_turn, body.to_request(), caller)
    if not body.stream:
        return ChatOut.of(await run_in_threadpool(chat.answer, turn))

    async def events() -> AsyncIterator[dict[str, str]]:
        try:
            async for event in iterate_in_threadpool(chat.stream(turn)):
                for name, data in sse_events(event):
                    yield {"event": name, "data": json.dumps(data)}
        except Exception as exc:  # the response has started: report it in-band, never cut it short
            log.exception("chat stream failed for conversation %s", turn.conversation_id)
            yield {"event": "error", "data": json.dumps({"reason": f"answer failed: {type(exc).__name__}"})}

    # sse-starlette sends its ": ping" comment while the answer is quiet.
    return EventSourceResponse(events(), ping=settings.api.stream_keepalive_seconds)


def sse_events(event: ChatEvent) -> list[tuple[str, object]]:
    """The SSE events of one core event: delta, reset, citations + done (the JSON response), error."""
    if isinstance(event, TextDelta):
        return [("delta", {"text": event.text})]
    if isinstance(event, Restart):
        return [("reset", {})]
    if isinstance(event, TurnFailed):
        return [("error", {"reason": event.reason})]
    assert isinstance(event, TurnCompleted)
    done = ChatOut.of(event.result).model_dump(mode="json")
    return [("citations", {"citations": done["citations"]}), ("done", done)]
