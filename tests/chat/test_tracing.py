"""Traces of a chat turn (issue 17, operator habits): with a tracer provider installed, each turn is a
trace with retrieve, compose and store spans under one root (and rewrite for a follow-up), carrying
what an operator looks for; without one, nothing is recorded. A real OpenTelemetry SDK provider with
its in-memory exporter stands in for the OTLP collector."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from advisor import tracing
from tests.chat.helpers import NOTEBOOK_QUESTION, NOTHING_IN_SCOPE, OFF_TOPIC_QUESTION, ask, stream
from tests.plugins.fast import FastContainer


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.install(None)


def test_a_turn_is_one_trace_of_retrieve_compose_and_store(
    fast_container: FastContainer, spans: InMemorySpanExporter
) -> None:
    container = fast_container()
    first = ask(container, NOTEBOOK_QUESTION)
    follow_up = ask(container, "And who should own it?", conversation_id=first["conversation_id"])
    assert follow_up["abstained"] is False

    finished = spans.get_finished_spans()
    roots = [s for s in finished if s.name == "advisor.turn"]
    assert len(roots) == 2
    for root, expected in zip(
        roots, (["retrieve", "compose", "store"], ["rewrite", "retrieve", "compose", "store"]), strict=True
    ):
        children = sorted(
            (s for s in finished if s.parent is not None and s.parent.span_id == root.context.span_id),
            key=lambda s: s.start_time or 0,
        )
        assert [s.name.removeprefix("advisor.") for s in children] == expected
        assert all(s.context.trace_id == root.context.trace_id for s in children)
        assert root.attributes is not None and root.attributes["channel"] == "api"
        assert root.attributes["fallback"] is False and root.attributes["abstained"] is False
    retrieve = next(s for s in finished if s.name == "advisor.retrieve")
    assert retrieve.attributes is not None and retrieve.attributes["passages"] > 0
    assert retrieve.attributes["in_scope"] is True
    assert (
        roots[0].attributes is not None and roots[0].attributes["conversation_id"] == first["conversation_id"]
    )


def test_a_streamed_turn_and_an_abstention_are_traced_too(
    fast_container: FastContainer, spans: InMemorySpanExporter
) -> None:
    events = stream(fast_container(), NOTEBOOK_QUESTION)
    assert events[-1].kind == "done"
    assert ask(fast_container(**NOTHING_IN_SCOPE), OFF_TOPIC_QUESTION)["abstained"] is True
    roots = [s for s in spans.get_finished_spans() if s.name == "advisor.turn"]
    assert len(roots) == 2 and roots[1].attributes is not None and roots[1].attributes["abstained"] is True


def test_without_a_provider_nothing_is_recorded(fast_container: FastContainer) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))  # built, but never installed
    ask(fast_container(), NOTEBOOK_QUESTION)
    assert exporter.get_finished_spans() == ()


def test_an_otlp_endpoint_in_the_settings_turns_tracing_on(fast_container: FastContainer) -> None:
    from advisor.app import create_app

    container = fast_container(
        tracing={"otlp_endpoint": "http://127.0.0.1:4317", "service_name": "advisor-test"}
    )
    try:
        create_app(container=container, warm_up=False)
        provider = tracing._provider
        assert provider is not None
        assert provider.resource.attributes["service.name"] == "advisor-test"
    finally:
        if tracing._provider is not None:
            tracing._provider.shutdown()
        tracing.install(None)
