"""Requests straight into the ASGI app, in this process and on this thread's own event loop.

This is what "in-process" measures: the app's routing, validation, auth, thread hand-off and work,
with no socket. Starlette's TestClient is not used here: it drives the app from another thread
through a blocking portal, and that hand-off alone cost about 2 ms per request on this machine (a
/healthz round trip), which belongs to the test harness, not to the service.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx


class InProcessClient:
    def __init__(self, app: Any) -> None:
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50000)),
            base_url="http://127.0.0.1",
            timeout=60.0,
        )
        self._lifespan: AbstractAsyncContextManager[Any] | None = None

    def get(self, url: str) -> httpx.Response:
        return self._loop.run_until_complete(self._client.get(url))

    def post(self, url: str, json: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.post(url, json=json))

    def __enter__(self) -> InProcessClient:
        # ASGITransport sends no lifespan events: run the app's lifespan (store, warm-up) ourselves.
        self._lifespan = self._app.router.lifespan_context(self._app)
        self._loop.run_until_complete(self._lifespan.__aenter__())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._lifespan is not None:
                self._loop.run_until_complete(self._lifespan.__aexit__(None, None, None))
            self._loop.run_until_complete(self._client.aclose())
        finally:
            self._loop.close()
