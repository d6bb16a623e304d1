"""Prometheus metrics, one registry per app so tests can build many apps in one process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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
