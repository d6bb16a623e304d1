"""ASGI middleware: unexpected errors as JSON, request body size limit (enforced while reading) and
request metrics."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from advisor.api.openai.schemas import is_openai_path, openai_error_body
from advisor.observability import Metrics, new_request_id, request_id

log = logging.getLogger(__name__)
access_log = logging.getLogger("advisor.access")


async def send_json(
    send: Send, status: int, body: dict[str, Any], extra_headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*headers, *extra_headers]})
    await send({"type": "http.response.body", "body": data})


class UnexpectedErrorMiddleware:
    """An exception no handler took becomes a JSON 500 here, and is not re-raised.

    Starlette's own last-resort handler re-raises after answering, and uvicorn then drops the
    connection, so a keep-alive client's next request fails with a connection reset.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            method, path = scope.get("method"), scope.get("path", "")
            status, reason, headers = 500, "internal error; the event was logged", []
            if _database_unavailable(exc):
                # The database went away or is not up yet: this replica is not ready, not broken.
                log.error("database unavailable on %s %s: %s", method, path, exc)
                status, reason, headers = (
                    503,
                    "the database does not answer; retry shortly",
                    [(b"retry-after", b"5")],
                )
            else:
                log.exception("unhandled error on %s %s (request %s)", method, path, request_id.get())
            if not started:
                if is_openai_path(path):
                    await send_json(send, status, openai_error_body(status, reason), headers)
                else:
                    error = "not_ready" if status == 503 else "internal_error"
                    await send_json(send, status, {"error": error, "reason": reason}, headers)


def _database_unavailable(exc: Exception) -> bool:
    """A database server that does not answer (refused, reset, timed out). SQLite is a local file:
    its errors ("no such table") are faults to log, not an outage to wait out."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    return isinstance(exc, OperationalError) and not isinstance(exc.orig, sqlite3.Error)


class RequestIdMiddleware:
    """Each request gets an id (the client's X-Request-ID, or a new one): set for every log line
    written while serving it, and returned in the X-Request-ID response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = new_request_id(offered)
        token = request_id.set(rid)

        async def tagged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())],
                }
            await send(message)

        try:
            await self.app(scope, receive, tagged_send)
        finally:
            request_id.reset(token)


class _TooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, send)
            return
        received = 0
        started = False
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if too_large and not started:
                # The app's own reply to the aborted read (FastAPI turns any error while reading the
                # body into a 400): drop it, the 413 below goes out instead.
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, limited_receive, tracking_send)
        if too_large and not started:
            await self._reject(scope, send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        reason = f"request body exceeds {self.max_bytes} bytes"
        if is_openai_path(scope.get("path", "")):  # OpenAI clients expect their own error shape
            await send_json(send, 413, openai_error_body(413, reason))
            return
        await send_json(send, 413, {"error": "payload_too_large", "reason": reason})


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            # Label by route template, never the raw path, so ids do not explode cardinality.
            name = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(scope["method"], name, str(status)).inc()
            elapsed = time.perf_counter() - started
            self.metrics.latency.labels(scope["method"], name).observe(elapsed)
            # The caller's key id (set by api.deps.get_principal), never the key itself.
            principal = (scope.get("state") or {}).get("principal")
            key_id = getattr(principal, "key_id", None) or "-"
            access_log.info(
                "%s %s %s %.0f ms key=%s",
                scope["method"],
                scope.get("path", ""),
                status,
                elapsed * 1000,
                key_id,
            )
