"""Per-IP and per-conversation rate limits for widget requests, on the `limits` library.

Memory storage by default (one process); a redis:// storage shares the counters between replicas.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from advisor.channel_settings import WidgetSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds until the exhausted window frees a slot
    limit: str = ""


class WidgetRateLimiter:
    def __init__(self, settings: WidgetSettings) -> None:
        from limits import parse_many
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        self._storage = storage_from_string(settings.rate_limit_storage)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._rules = {
            "chat-ip": parse_many(settings.rate_limit_per_ip),
            "chat-conversation": parse_many(settings.rate_limit_per_conversation),
            "feedback-ip": parse_many(settings.feedback_rate_limit_per_ip),
        }

    def hit(self, rule: str, *identifiers: str) -> Verdict:
        """Count one request against every limit of ``rule``; the first exhausted one refuses it."""
        try:
            for item in self._rules[rule]:
                if not self._limiter.hit(item, rule, *identifiers):
                    stats = self._limiter.get_window_stats(item, rule, *identifiers)
                    wait = max(1, math.ceil(stats.reset_time - time.time()))
                    return Verdict(False, wait, str(item))
        except Exception as exc:  # storage down: serving answers matters more than counting them
            log.warning("widget rate limit storage failed (%s); request let through", exc)
        return Verdict(True)
