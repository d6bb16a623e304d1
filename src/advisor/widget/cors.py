"""CORS that answers only known origins: api.cors_origins on every /v1 path, and the origins of the
widget keys only on the paths a widget reaches. Anything else gets no CORS headers, so browsers block
the response; a refused preflight is a 403 with a reason."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from advisor.api.deps import WIDGET_ROUTES
from advisor.api.middleware import send_json
from advisor.channel_settings import normalise_origin


def _widget_paths() -> re.Pattern[str]:
    """The paths of the routes a widget key may call (api.deps.WIDGET_ROUTES), as one pattern."""
    templates = sorted({path for _, path in WIDGET_ROUTES})
    patterns = [re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) for path in templates]
    return re.compile("^(?:" + "|".join(patterns) + ")$")


# What the widget calls: chat, feedback and reading back its conversation after a reload.
WIDGET_PATHS = _widget_paths()
_ALLOW_HEADERS = "Authorization, Content-Type, Accept"
_ALLOW_METHODS = "GET, POST, PATCH"


class OriginPolicyCORSMiddleware:
    def __init__(self, app: ASGIApp, api_origins: list[str], widget_origins: Callable[[], set[str]]) -> None:
        self.app = app
        self.api_origins = {o for o in (normalise_origin(x) for x in api_origins) if o}
        # Asked per request: widget keys issued in the admin console hold without a restart.
        self.widget_origins = widget_origins

    def allowed(self, origin: str, path: str) -> bool:
        normal = normalise_origin(origin)
        if normal is None:
            return False
        if normal in self.api_origins and path.startswith("/v1/"):
            return True
        return WIDGET_PATHS.match(path) is not None and normal in self.widget_origins()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        allowed = self.allowed(origin, scope["path"])
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(send, origin, allowed)
            return
        if not allowed:
            await self.app(scope, receive, send)
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out["Access-Control-Allow-Origin"] = origin
                out["Access-Control-Expose-Headers"] = "Retry-After"
                out.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, with_cors)

    async def _preflight(self, send: Send, origin: str, allowed: bool) -> None:
        if not allowed:
            await send_json(send, 403, {"error": "forbidden", "reason": f"origin {origin!r} is not allowed"})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [
                    (b"access-control-allow-origin", origin.encode("latin-1")),
                    (b"access-control-allow-methods", _ALLOW_METHODS.encode()),
                    (b"access-control-allow-headers", _ALLOW_HEADERS.encode()),
                    (b"access-control-max-age", b"600"),
                    (b"vary", b"Origin"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})
