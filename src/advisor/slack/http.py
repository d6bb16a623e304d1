"""POST /slack/events: the Events API, slash commands and interactivity, mounted only when Slack is
configured. Requests go to the bolt App through slack-bolt's Starlette/FastAPI request conversion;
dispatch runs in the thread pool because bolt's sync App (signature check, ack) blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, Request, Response
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool

from advisor.slack.app import build_app
from advisor.slack.recovery import build_sweeper

if TYPE_CHECKING:
    from advisor.container import Container


def mount_slack(app: FastAPI, container: Container) -> None:
    """Build the bolt App once, now (not in racing first requests), and serve /slack/events."""
    bolt = build_app(container)
    router = APIRouter(tags=["slack"])

    @router.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        bolt_response = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

    app.state.slack = bolt
    app.state.slack_sweeper = build_sweeper(bolt.client, container)  # run by the app's lifespan
    app.include_router(router)
