"""The OpenAI chat-completions protocol as Advisor speaks it: request bodies and the error shape.

Requests are validated strictly (a string where a number belongs is a 400, as OpenAI answers) but
unknown fields are ignored, so any client of the protocol can call in unchanged.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from advisor.api.bodies import RequestBody

#: The one model Advisor serves.
MODEL_ID = "advisor"
#: Fixed creation time (2026-11-26) so GET /v1/models is stable across restarts and replicas.
MODEL_CREATED = 1_795_651_200

# Only these routes answer errors in OpenAI's shape; the rest of the API keeps {"error", "reason"}.
OPENAI_PATHS = ("/v1/chat/completions", "/v1/models")

_ERROR_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "server_error",
}
_ERROR_CODES = {
    401: "invalid_api_key",
    403: "insufficient_scope",
    404: "not_found",
    413: "request_too_large",
    429: "rate_limit_exceeded",
    500: "internal_error",
    503: "service_unavailable",
}


def is_openai_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in OPENAI_PATHS)


def openai_error_body(
    status: int, message: str, *, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": _ERROR_TYPES.get(status, "invalid_request_error"),
            "param": param,
            "code": code or _ERROR_CODES.get(status),
        }
    }


def openai_error_response(
    status: int,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(openai_error_body(status, message, code=code, param=param), status, headers)


class OpenAIHTTPError(HTTPException):
    """An HTTPException that also names the offending parameter and an OpenAI error code."""

    def __init__(
        self, status: int, message: str, *, code: str | None = None, param: str | None = None
    ) -> None:
        super().__init__(status, message)
        self.code = code
        self.param = param


def _whole(value: object) -> object:
    """2.0 is an integer in JSON Schema (and to OpenAI): accept it; 2.5 and "2" still fail."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# The bound first, inside: after the validator, or on "int | None", it reaches the schema as a bare "ge".
WholeNumber = Annotated[int, Field(ge=1), BeforeValidator(_whole)]


class TextPart(RequestBody):
    model_config = ConfigDict(extra="ignore", strict=True)
    type: Literal["text"]
    text: str


class MessageIn(RequestBody):
    model_config = ConfigDict(extra="ignore", strict=True)
    # "developer" is what newer OpenAI clients send instead of "system".
    role: Literal["system", "developer", "user", "assistant"]
    # A string or text parts; null only makes sense for an assistant turn that called tools.
    content: str | list[TextPart] | None = None

    @property
    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    include_usage: bool = False


class ResponseFormat(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    type: Literal["text", "json_object", "json_schema"]


class ChatCompletionIn(RequestBody):
    model_config = ConfigDict(extra="ignore", strict=True)

    model: str = Field(min_length=1, description=f"Always {MODEL_ID!r}.")
    messages: list[MessageIn] = Field(
        min_length=1,
        description="The conversation so far, ending with the user's question. System messages describe "
        "the initiative.",
    )
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: WholeNumber | None = Field(
        default=None, description="Cut the reply after about this many tokens."
    )
    max_completion_tokens: WholeNumber | None = Field(default=None, description="Same as max_tokens.")
    temperature: float | None = Field(
        default=None, ge=0, le=2, description="Passed to the language model when one is configured."
    )
    user: str | None = Field(default=None, max_length=256, description="Your end user's id, for the logs.")
    metadata: dict[str, str] | None = Field(
        default=None, description="`initiative` here describes the initiative (instead of a system message)."
    )
    # Accepted so a client gets a clear 400 instead of having them silently ignored.
    n: WholeNumber | None = Field(default=None, description="Advisor writes one answer: only 1.")
    tools: list[dict[str, Any]] | None = Field(
        default=None, description="Not supported: Advisor calls no tools."
    )
    tool_choice: str | dict[str, Any] | None = Field(
        default=None, description='Only "none" or "auto" without tools.'
    )
    functions: list[dict[str, Any]] | None = Field(default=None, description="Not supported (legacy tools).")
    function_call: str | dict[str, Any] | None = Field(default=None, description='Only "none" or "auto".')
    response_format: ResponseFormat | None = Field(
        default=None, description='Only "text": answers are cited prose, never JSON.'
    )

    @property
    def token_limit(self) -> int | None:
        limits = [n for n in (self.max_tokens, self.max_completion_tokens) if n is not None]
        return min(limits) if limits else None
