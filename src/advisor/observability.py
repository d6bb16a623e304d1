"""Prometheus metrics, one registry per app so tests can build many apps in one process."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

#: The id of the HTTP request being served ("-" outside one); threads started for it copy it.
request_id: ContextVar[str] = ContextVar("advisor_request_id", default="-")
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def new_request_id(offered: str | None = None) -> str:
    """The client's X-Request-ID when it is a sane token (a proxy's id ties logs together), else new."""
    if offered and _CLIENT_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex[:16]


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id (and the traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RequestIdFilter(logging.Filter):
    """Gives every log record a ``request_id`` attribute, for formats that show it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class ProviderHealth(Protocol):
    """What /metrics reads of the LLM provider's guard (advisor.compose.provider_guard)."""

    @property
    def state(self) -> str: ...
    @property
    def in_flight(self) -> int: ...
    @property
    def max_concurrent(self) -> int: ...
    @property
    def refused(self) -> Mapping[str, int]: ...
    @property
    def times_opened(self) -> int: ...


class _ProviderCollector(Collector):
    def __init__(self, guard: ProviderHealth, states: Sequence[str]) -> None:
        self._guard = guard
        self._states = states

    def collect(self) -> Iterator[Metric]:
        state = GaugeMetricFamily(
            "advisor_llm_breaker_state",
            "The LLM circuit breaker's state (1 for the current one)",
            labels=["state"],
        )
        current = self._guard.state
        for name in self._states:
            state.add_metric([name], 1.0 if name == current else 0.0)
        yield state
        yield GaugeMetricFamily(
            "advisor_llm_calls_in_flight", "LLM calls in flight", value=self._guard.in_flight
        )
        yield GaugeMetricFamily(
            "advisor_llm_calls_limit", "LLM calls allowed in flight", value=self._guard.max_concurrent
        )
        refused = CounterMetricFamily(
            "advisor_llm_calls_refused",
            "LLM calls not attempted (busy: the limit was reached; open: the breaker was open)",
            labels=["reason"],
        )
        for reason, count in sorted(self._guard.refused.items()):
            refused.add_metric([reason], float(count))
        yield refused
        yield CounterMetricFamily(
            "advisor_llm_breaker_opened",
            "Times the LLM circuit breaker opened",
            value=self._guard.times_opened,
        )


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # The standard process_*, python_info and python_gc_* series, as every Python exporter has.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.requests = Counter(
            "advisor_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "advisor_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.answers = Counter("advisor_answers_total", "Answers given", ["composer"], registry=self.registry)
        self.abstentions = Counter(
            "advisor_abstentions_total", "Answers that abstained", ["reason"], registry=self.registry
        )
        self.fallbacks = Counter(
            "advisor_llm_fallbacks_total",
            "LLM failures answered by the extractive composer",
            registry=self.registry,
        )
        self.feedback = Counter(
            "advisor_feedback_total", "Feedback received", ["rating"], registry=self.registry
        )

    def watch_provider(self, guard: ProviderHealth, states: Sequence[str]) -> None:
        """Export the LLM guard's state, read at each scrape."""
        self.registry.register(_ProviderCollector(guard, states))
