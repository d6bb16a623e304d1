"""The application factory: one app per Settings, components built once and shared by routers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from advisor.api.errors import install_error_handlers
from advisor.api.middleware import BodySizeLimitMiddleware, MetricsMiddleware, UnexpectedErrorMiddleware
from advisor.api.routers import chat, conversations, health, search
from advisor.container import Container
from advisor.settings import Settings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, warm_up: bool = True) -> FastAPI:
    settings = settings or get_settings()
    container = Container(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Open the database now (migrations run here) so a bad URL fails at start, not on a request.
        await asyncio.to_thread(lambda: container.store)
        task = asyncio.create_task(asyncio.to_thread(container.warm_up)) if warm_up else None
        yield
        if task is not None:
            await task

    app = FastAPI(
        title="Advisor",
        version="0.1.0",
        summary="Grounded, cited advice for taking AI initiatives to production.",
        lifespan=lifespan,
    )
    app.state.container = container
    install_error_handlers(app)
    for router in (chat.router, search.router, conversations.router, health.router):
        app.include_router(router)
    if settings.api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    # The last added runs first: errors are caught outermost, and metrics wrap the size limit so its
    # 413s (and unexpected 500s) are counted too.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.limits.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=container.metrics)
    app.add_middleware(UnexpectedErrorMiddleware)
    return app
