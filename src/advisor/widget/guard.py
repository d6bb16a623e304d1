"""Checks on widget requests before they reach the API: the page's origin for same-origin calls,
per-IP and per-conversation rate limits (429 + Retry-After) and the widget's message length."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from advisor.api.middleware import send_json
from advisor.auth import api_key_id
from advisor.settings import Settings
from advisor.widget.cors import WIDGET_PATHS
from advisor.widget.keys import WidgetKeyring
from advisor.widget.ratelimit import WidgetRateLimiter


class WidgetGuardMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings, keyring: WidgetKeyring) -> None:
        self.app = app
        self.keyring = keyring
        self.max_chars = min(settings.widget.max_message_chars, settings.limits.max_message_chars)
        self.limiter = WidgetRateLimiter(settings.widget) if self.keyring else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keyring or not WIDGET_PATHS.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None and headers.get("sec-fetch-site") == "same-origin" and "host" in headers:
            # Browsers omit Origin on same-origin GETs; the page is then on the service's own origin.
            origin = f"{scope['scheme']}://{headers['host']}"
            scope = {**scope, "headers": [*scope["headers"], (b"origin", origin.encode("latin-1"))]}
        scheme, _, token = headers.get("authorization", "").partition(" ")
        path = scope["path"]
        if (
            scope["method"] != "POST"
            or path not in ("/v1/chat", "/v1/feedback")
            or scheme.lower() != "bearer"
            or not self.keyring.allows(token.strip(), origin)
        ):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        refusal = self._check(path, token.strip(), scope, body)
        if refusal is not None:
            await refusal(send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _check(
        self, path: str, token: str, scope: Scope, body: bytes
    ) -> Callable[[Send], Awaitable[None]] | None:
        """None to let the request through, else the refusal to send."""
        assert self.limiter is not None
        payload = _json_object(body)
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        key = api_key_id(token)
        if path == "/v1/feedback":
            verdicts = [self.limiter.hit("feedback-ip", key, ip)]
        else:
            message = payload.get("message")
            if isinstance(message, str) and len(message.strip()) > self.max_chars:
                reason = f"message is {len(message.strip())} characters; the widget limit is {self.max_chars}"
                return lambda send: send_json(send, 422, {"error": "invalid_request", "reason": reason})
            verdicts = [self.limiter.hit("chat-ip", key, ip)]
            conversation = payload.get("conversation_id")
            if verdicts[0].allowed and isinstance(conversation, str) and conversation:
                verdicts.append(self.limiter.hit("chat-conversation", key, conversation))
        for verdict in verdicts:
            if not verdict.allowed:
                reason = f"too many requests ({verdict.limit}); retry in {verdict.retry_after} s"
                retry = [(b"retry-after", str(verdict.retry_after).encode())]
                return lambda send: send_json(send, 429, {"error": "rate_limited", "reason": reason}, retry)
        return None


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}  # the API itself answers malformed JSON with its own 422
    return value if isinstance(value, dict) else {}


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
