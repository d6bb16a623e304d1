"""OpenTelemetry traces of a chat turn (retrieve, compose, store), off unless configured.

With ``tracing.otlp_endpoint`` set (and the ``tracing`` extra installed) each turn is a trace exported
over OTLP/gRPC. Spans are started explicitly, never made "current": a turn is a generator resumed
in whichever worker thread streams it, where attaching and detaching a context would not pair up.
Without a provider every call here is a no-op costing a function call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span

AttributeValue = str | bool | int | float

_provider: TracerProvider | None = None


def install(provider: TracerProvider | None) -> None:
    """Use ``provider`` for Advisor's spans (None: stop tracing). Kept here, not as OpenTelemetry's
    global provider, so a process (or a test) can switch it."""
    global _provider
    _provider = provider


def configure(endpoint: str, service_name: str) -> None:
    """Export to an OTLP/gRPC collector at ``endpoint``; a clear error names the missing extra."""
    try:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise RuntimeError(
            "tracing.otlp_endpoint is set but OpenTelemetry is not installed: pip install 'advisor[tracing]'"
        ) from exc
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    install(provider)


class Trace:
    """The spans of one turn: a root, and children started under it."""

    def __init__(self, root: Span | None) -> None:
        self._root = root

    @contextmanager
    def child(self, name: str, **attributes: AttributeValue) -> Iterator[Span | None]:
        if self._root is None or _provider is None:
            yield None
            return
        from opentelemetry import trace

        span = _provider.get_tracer("advisor").start_span(
            name, context=trace.set_span_in_context(self._root), attributes=attributes
        )
        try:
            yield span
        except BaseException as exc:
            span.record_exception(exc)
            raise
        finally:
            span.end()

    def annotate(self, attributes: Mapping[str, AttributeValue]) -> None:
        if self._root is not None:
            self._root.set_attributes(dict(attributes))

    def end(self, error: BaseException | None = None) -> None:
        if self._root is None:
            return
        if error is not None:
            self._root.record_exception(error)
        self._root.end()


def start_turn(name: str = "advisor.turn", **attributes: Any) -> Trace:
    if _provider is None:
        return Trace(None)
    return Trace(_provider.get_tracer("advisor").start_span(name, attributes=attributes))


def set_attributes(span: Span | None, **attributes: AttributeValue) -> None:
    if span is not None:
        span.set_attributes(attributes)
