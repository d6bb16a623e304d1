"""Every error is JSON with a reason: {"error": code, "reason": text}."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from advisor.api.openai.schemas import is_openai_path, openai_error_response
from advisor.chat.errors import ChatError, RateLimited

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
    503: "not_ready",
}


#: The HTTP status of each kind of refusal from the chat core.
REFUSAL_STATUS = {
    "invalid": 422,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "rate_limited": 429,
    "not_ready": 503,
    "failed": 503,
}


# The question and the initiative come from the message list on the OpenAI route.
_OPENAI_PARAMS = {"message": "messages", "initiative": "messages"}


def error_response(
    status: int, reason: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"error": _CODES.get(status, "error"), "reason": reason, **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def _describe(errors: list[Any]) -> str:
    parts = []
    for err in errors[:3]:
        if err.get("type") == "json_invalid":
            # loc is ("body", <character offset>): name the problem, not a field called "1".
            position = err.get("loc", ("body", "?"))[-1]
            parts.append(f"request body is not valid JSON (error at character {position})")
            continue
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


_UNPARSABLE = "There was an error parsing the body"


def _why_unparsable(cause: BaseException | None) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return f"request body is not valid UTF-8 (byte {cause.start})"
    if isinstance(cause, RecursionError):
        return "request body is nested too deeply"
    return "request body could not be read as JSON"


def _unknown_v1_path(request: Request) -> bool:
    """A /v1/ path no route serves, with any method."""
    if not request.url.path.startswith("/v1/"):
        return False
    routes = request.app.router.routes
    return all(route.matches(request.scope)[0] == Match.NONE for route in routes)


_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})


def _allowed_methods(request: Request, given: str) -> str:
    """Every method the API document lists for this path, with Starlette's own list (which names
    only the first route on the path)."""
    methods = {m.strip() for m in given.split(",") if m.strip()}
    for template, item in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {m.upper() for m in item if m in _HTTP_METHODS}
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        reason = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 400 and reason == _UNPARSABLE:
            # FastAPI's bare 400 for a body json cannot even read (bad UTF-8, nesting too deep). The
            # cause says which; the body is not read again (after the size limit cut it, it cannot be).
            reason = _why_unparsable(exc.__cause__)
            if is_openai_path(request.url.path):
                return openai_error_response(400, reason)
            return error_response(422, reason)
        if exc.status_code == 404 and _unknown_v1_path(request):
            # A client of the OpenAI API calling what Advisor does not serve (/v1/responses,
            # /v1/embeddings...) gets the error its SDK can read.
            return openai_error_response(
                404,
                f"Invalid URL ({request.method} {request.url.path}): Advisor serves /v1/chat/completions "
                "and /v1/models of the OpenAI API",
                code="unknown_url",
            )
        if exc.status_code == 405:
            # Starlette's Allow names the methods of the first route on the path only.
            given = (getattr(exc, "headers", None) or {}).get("Allow", "")
            return error_response(405, reason, headers={"Allow": _allowed_methods(request, given)})
        if is_openai_path(request.url.path):
            code, param = getattr(exc, "code", None), getattr(exc, "param", None)
            return openai_error_response(
                exc.status_code, reason, code=code, param=param, headers=getattr(exc, "headers", None)
            )
        return error_response(exc.status_code, reason, headers=getattr(exc, "headers", None))

    @app.exception_handler(ChatError)
    async def refused(request: Request, exc: ChatError) -> JSONResponse:
        status = REFUSAL_STATUS[exc.kind]
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        if is_openai_path(request.url.path):
            # OpenAI answers an unusable request with a 400 naming the parameter.
            status = 400 if exc.kind == "invalid" else status
            param = _OPENAI_PARAMS.get(exc.field or "", exc.field) if exc.kind == "invalid" else None
            code = "answer_failed" if exc.kind == "failed" else None
            return openai_error_response(status, exc.reason, code=code, param=param, headers=headers)
        return error_response(status, exc.reason, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        if is_openai_path(request.url.path):  # OpenAI answers a malformed request with a 400
            loc = [str(p) for p in errors[0].get("loc", ()) if p != "body"] if errors else []
            param = ".".join(loc) if loc and errors[0].get("type") != "json_invalid" else None
            return openai_error_response(400, _describe(errors), param=param)
        return error_response(422, _describe(errors), details=errors)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if is_openai_path(request.url.path):
            return openai_error_response(500, "internal error; the event was logged")
        return error_response(500, "internal error; the event was logged")
