"""The widget rate limiter on its own: moving windows, Retry-After, separate counters per identity,
and a storage outage that lets requests through rather than refusing every visitor."""

from __future__ import annotations

import logging
import uuid

import pytest

from advisor.channel_settings import WidgetSettings
from advisor.chat.rate_limits import RateLimiter


def limiter(storage: str = "memory://", **rates: str) -> RateLimiter:
    return RateLimiter(WidgetSettings(rate_limit_storage=storage, **rates))


@pytest.mark.parametrize("storage", ["memory://", "redis://127.0.0.1:6379"])
def test_the_limit_refuses_with_a_retry_after_within_the_window(storage: str) -> None:
    limits = limiter(storage, rate_limit_per_ip="2/minute; 10/hour")
    ip = f"ip-{uuid.uuid4().hex}"  # unique counters in a shared Redis
    assert [limits.hit("chat-ip", "key", ip).allowed for _ in range(2)] == [True, True]
    refused = limits.hit("chat-ip", "key", ip)
    assert not refused.allowed and refused.limit == "2 per 1 minute"
    assert 55 <= refused.retry_after <= 60
    assert limits.hit("chat-ip", "key", f"other-{ip}").allowed  # another visitor is unaffected
    assert limits.hit("chat-ip", "other-key", ip).allowed  # and so is another widget key
    assert limits.hit("feedback-ip", "key", ip).allowed  # feedback counts separately


def test_an_unreachable_storage_lets_requests_through(caplog: pytest.LogCaptureFixture) -> None:
    limits = limiter("redis://127.0.0.1:1", rate_limit_per_ip="1/minute")
    with caplog.at_level(logging.WARNING, logger="advisor.chat.rate_limits"):
        assert all(limits.hit("chat-ip", "key", "1.2.3.4").allowed for _ in range(3))
    assert "rate limit storage failed" in caplog.text
