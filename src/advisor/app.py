"""The HTTP application factory: one app per Settings, serving the HTTP channels (the JSON API, the
OpenAI-compatible route, the widget's assets and demo page, and Slack's events when configured) over
one container."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse

from advisor.api.errors import install_error_handlers
from advisor.api.middleware import (
    BodySizeLimitMiddleware,
    MetricsMiddleware,
    RequestIdMiddleware,
    UnexpectedErrorMiddleware,
)
from advisor.api.openai import router as openai_routes
from advisor.api.routers import assessments, chat, conversations, docs, documents, health, search
from advisor.container import Container, short_reason
from advisor.settings import Settings, get_settings
from advisor.startup_gc import resume_collection
from advisor.widget.cors import OriginPolicyCORSMiddleware
from advisor.widget.router import router as widget_router

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from advisor.chat.retention import RetentionSweeper

log = logging.getLogger(__name__)

_WARM_RETRY_SECONDS = 3.0


def create_app(
    settings: Settings | None = None, *, warm_up: bool = True, container: Container | None = None
) -> FastAPI:
    """``container`` lets a caller hand in prepared components (tests use a fake embedder)."""
    settings = settings or (container.settings if container else get_settings())
    container = container or Container(settings)
    if settings.tracing.otlp_endpoint:
        from advisor import tracing

        tracing.configure(settings.tracing.otlp_endpoint, settings.tracing.service_name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await _open_database(container)
        stopping = asyncio.Event()

        async def warm() -> None:
            await _warm_until_ready(container, stopping)
            resume_collection()  # paused by `advisor serve` for its start (see advisor.startup_gc)

        task = asyncio.create_task(warm()) if warm_up else None
        if task is None:
            resume_collection()
        scraper = _metrics_listener(settings, container)
        sweeper = getattr(app.state, "slack_sweeper", None)  # Slack questions a crash left unanswered
        if sweeper is not None:
            sweeper.start()
        retention = _retention_sweeper(container)
        try:
            yield
        finally:
            stopping.set()
            if scraper is not None:
                scraper.shutdown()
            if sweeper is not None:
                sweeper.stop()
            if retention is not None:
                retention.stop()
        if task is not None:
            await task
        resume_collection()

    app = FastAPI(
        # Served by api.routers.docs, behind the same keys as the API.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        title="Advisor",
        version="0.1.0",
        summary="Grounded, cited advice for taking AI initiatives to production.",
        lifespan=lifespan,
    )
    app.state.container = container
    install_error_handlers(app)
    routers = (
        chat.router,
        search.router,
        conversations.router,
        documents.router,
        assessments.router,
        health.router,
        openai_routes.router,
        docs.router,
    )
    for router in routers:
        app.include_router(router)
    app.include_router(widget_router)
    if settings.admin.enabled:
        from advisor.admin.conversations import router as admin_conversations
        from advisor.admin.corpus import router as admin_corpus
        from advisor.admin.ingest import router as admin_ingest
        from advisor.admin.insights import router as admin_insights
        from advisor.admin.keys import router as admin_keys
        from advisor.admin.keys import widgets as admin_widget_keys
        from advisor.admin.retention import router as admin_retention
        from advisor.admin.router import NotSignedIn
        from advisor.admin.router import router as admin_router

        app.include_router(admin_router)
        app.include_router(admin_retention)  # before /{conversation_id}/... routes of the same prefix
        app.include_router(admin_conversations)
        app.include_router(admin_insights)
        app.include_router(admin_corpus)
        app.include_router(admin_ingest)
        app.include_router(admin_keys)
        app.include_router(admin_widget_keys)

        @app.exception_handler(NotSignedIn)
        async def to_sign_in(request: Request, exc: NotSignedIn) -> RedirectResponse:
            return RedirectResponse("/admin/sign-in", status_code=303)

    if settings.slack.http_enabled:
        from advisor.slack.http import mount_slack

        mount_slack(app, container)
    # The last added runs first: errors are caught outermost, metrics wrap the size limit so its 413s
    # (and unexpected 500s) are counted too, and CORS runs outside the size limit, so 413s still carry
    # CORS headers the widget can read.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.limits.max_body_bytes)
    app.add_middleware(
        OriginPolicyCORSMiddleware,
        api_origins=settings.api.cors_origins,
        widget_origins=container.widget_keyring.allowed_origins,
    )
    app.add_middleware(MetricsMiddleware, metrics=container.metrics)
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(RequestIdMiddleware)  # outermost: every log line of the request carries its id
    return app


def _retention_sweeper(container: Container) -> RetentionSweeper | None:
    """Started when the retention settings delete anything (see advisor.chat.retention)."""
    from advisor.chat.retention import RetentionSweeper

    sweeper = RetentionSweeper(container.settings.retention, lambda: container.conversations)
    if not sweeper.wanted:
        return None
    sweeper.start()
    return sweeper


async def _open_database(container: Container) -> None:
    """Open the database now (migrations run here), so a bad URL fails at start, not on a request. A
    database server that does not answer yet is not fatal: the replica serves /readyz as not ready
    (with the reason) until it does, as a load balancer expects of a replica started first."""
    from sqlalchemy.exc import OperationalError

    try:
        await asyncio.to_thread(lambda: container.engine)
    except OperationalError as exc:
        if container.settings.database_url.startswith("sqlite"):
            raise  # a local file that cannot be opened will not start to work by waiting
        log.warning("the database does not answer (%s); not ready until it does", short_reason(exc))


async def _warm_until_ready(container: Container, stopping: asyncio.Event) -> None:
    """Load the model and the index; while that fails (Chroma or the database down, no index yet),
    try again every few seconds, so the replica becomes ready once they are there."""
    while True:
        await asyncio.to_thread(container.warm_up)
        if container.warm_error is None:
            return
        try:
            await asyncio.wait_for(stopping.wait(), _WARM_RETRY_SECONDS)
            return
        except TimeoutError:
            continue


def _metrics_listener(settings: Settings, container: Container) -> WSGIServer | None:
    """/metrics without a key on ``api.metrics_port``, for a scraper that holds no API key."""
    if settings.api.metrics_port is None:
        return None
    from prometheus_client import start_http_server

    server, _ = start_http_server(
        settings.api.metrics_port, settings.api.metrics_host, registry=container.metrics.registry
    )
    log.info("metrics on http://%s:%d/metrics", settings.api.metrics_host, settings.api.metrics_port)
    return server
