"""The error responses each route can give, declared in the OpenAPI document with their JSON shape,
so a client generated from the document knows every status it must handle."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorOut(BaseModel):
    """Every error of the JSON API."""

    error: str = Field(description="A short code: unauthorized, forbidden, not_found, invalid_request, ...")
    reason: str = Field(description="What was wrong, in words; names the field when one was.")
    details: list[dict[str, Any]] | None = Field(default=None, description="Each invalid field (422 only).")


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIErrorOut(BaseModel):
    """Every error of the OpenAI-compatible route, in OpenAI's shape."""

    error: OpenAIErrorDetail


_WHY = {
    400: "malformed request: the message names the parameter",
    401: "missing, unknown or revoked API key",
    403: "the key lacks the scope, or a widget key called a route it may not",
    404: "no such conversation or message for this key (or unknown model)",
    409: "the body names a conversation this key does not have",
    413: "request body larger than limits.max_body_bytes",
    422: "invalid request: the reason names the field",
    429: "rate limited: Retry-After says when to try again",
    503: "not ready: no index yet, or the index or database cannot be read",
}


def error_responses(*statuses: int, openai: bool = False) -> dict[int | str, dict[str, Any]]:
    model = OpenAIErrorOut if openai else ErrorOut
    return {status: {"model": model, "description": _WHY[status]} for status in statuses}


#: What any route that takes a key and a JSON body may answer.
COMMON = (401, 403, 413, 422, 429, 503)
