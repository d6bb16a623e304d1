"""Why the core refuses a request. Each channel maps these to its own protocol (an HTTP status and
JSON body, an OpenAI error object, a Slack message, a CLI exit code), so the reason a user reads is
written once, here in the core, and is the same on every channel."""

from __future__ import annotations

from typing import Literal

RefusalKind = Literal["invalid", "forbidden", "not_found", "conflict", "rate_limited", "not_ready", "failed"]


class ChatError(Exception):
    """A refusal with a reason fit to show the caller as it is."""

    kind: RefusalKind = "failed"

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        # The request field at fault ("message", "initiative", "k", "topics"), when there is one.
        self.field = field


class InvalidRequest(ChatError):
    kind = "invalid"


class Forbidden(ChatError):
    kind = "forbidden"


class NotFound(ChatError):
    kind = "not_found"


class Conflict(ChatError):
    """The request names something that is not in a state to take it (another resource of the
    caller's that does not exist, say), though the resource asked for exists."""

    kind = "conflict"


class RateLimited(ChatError):
    kind = "rate_limited"

    def __init__(self, reason: str, *, retry_after: int) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class NotReady(ChatError):
    kind = "not_ready"


class AnswerFailed(ChatError):
    """The turn was admitted but no answer could be produced (the store or the index failed)."""

    kind = "failed"
