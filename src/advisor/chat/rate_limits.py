"""Per-caller rate limits, on the `limits` library. Which limits apply depends on the caller: widget keys
(public, in a page's HTML) are limited per client address and per conversation; other keys are not
limited today. Counters live in memory (one process) or in Redis (shared by replicas)."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from advisor.chat.errors import RateLimited

if TYPE_CHECKING:
    from limits import RateLimitItem

    from advisor.channel_settings import WidgetSettings
    from advisor.chat.model import Caller

log = logging.getLogger(__name__)

Action = Literal["chat", "feedback", "read"]


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds until the exhausted window frees a slot
    limit: str = ""


class RateLimiter:
    def __init__(self, widget: WidgetSettings) -> None:
        from limits import parse_many
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        self._storage = storage_from_string(widget.rate_limit_storage)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._rules = {
            "chat-ip": parse_many(widget.rate_limit_per_ip),
            "chat-conversation": parse_many(widget.rate_limit_per_conversation),
            "feedback-ip": parse_many(widget.feedback_rate_limit_per_ip),
            "read-ip": parse_many(widget.read_rate_limit_per_ip),
        }
        self._parsed: dict[str, list[RateLimitItem]] = {}

    def admit(self, caller: Caller, action: Action, conversation_id: str | None = None) -> None:
        """Count one request of ``caller``; RateLimited when a limit is exhausted."""
        if caller.principal.kind != "widget":
            return
        key = caller.key_id or "-"
        address = caller.client_address or "unknown"
        if action in ("feedback", "read"):
            self._raise_if_refused(self.hit(f"{action}-ip", key, address))
            return
        own = caller.principal.rate_limit
        self._raise_if_refused(self.hit("chat-ip", key, address, items=self._own(own) if own else None))
        if conversation_id:
            self._raise_if_refused(self.hit("chat-conversation", key, conversation_id))

    @staticmethod
    def _raise_if_refused(verdict: Verdict) -> None:
        if not verdict.allowed:
            raise RateLimited(
                f"too many requests ({verdict.limit}); retry in {verdict.retry_after} s",
                retry_after=verdict.retry_after,
            )

    def _own(self, text: str) -> list[RateLimitItem]:
        """A key's own limits, parsed once."""
        from limits import parse_many

        if text not in self._parsed:
            self._parsed[text] = parse_many(text)
        return self._parsed[text]

    def hit(self, rule: str, *identifiers: str, items: list[RateLimitItem] | None = None) -> Verdict:
        """Count one request against every limit of ``rule`` (or ``items``, a key's own); the first
        exhausted one refuses it."""
        try:
            for item in self._rules[rule] if items is None else items:
                if not self._limiter.hit(item, rule, *identifiers):
                    stats = self._limiter.get_window_stats(item, rule, *identifiers)
                    wait = max(1, math.ceil(stats.reset_time - time.time()))
                    return Verdict(False, wait, str(item))
        except Exception as exc:  # storage down: serving answers matters more than counting them
            log.warning("rate limit storage failed (%s); request let through", exc)
        return Verdict(True)
