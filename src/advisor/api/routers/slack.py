"""POST /slack/events: the Events API, slash commands and interactivity, mounted only when Slack is
configured. Requests go to the bolt App through slack-bolt's Starlette/FastAPI request conversion;
dispatch runs in the thread pool because bolt's sync App (signature check, ack) blocks."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool

from advisor.api.deps import ContainerDep

router = APIRouter(tags=["slack"])


@router.post("/slack/events", include_in_schema=False)
async def slack_events(request: Request, container: ContainerDep) -> Response:
    body = await request.body()
    bolt_response = await run_in_threadpool(container.slack.dispatch, to_bolt_request(request, body))
    return to_starlette_response(bolt_response)
