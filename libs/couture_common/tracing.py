"""OpenTelemetry tracing: one trace per DAG run, carried in the events' ``trace`` header.

The gateway's request span starts the trace of a manual run; the scheduler starts one for a
scheduled run; every event about the run carries the W3C ``traceparent`` of a span in that trace,
and the executor continues it around each try. Export is configured by the standard variables:
``OTEL_TRACES_EXPORTER=otlp`` (with ``OTEL_EXPORTER_OTLP_ENDPOINT``) or ``console``; unset, spans
are made but not exported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

TRACER_NAME = "couture"


def configure_tracing(service_name: str) -> None:
    """Install the process's tracer provider once, with the exporter the environment names."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    exporter = _exporter_from_env()
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)


def _exporter_from_env() -> SpanExporter | None:
    name = os.environ.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
    if name in ("", "none"):
        return None
    if name == "console":
        return ConsoleSpanExporter()
    if name == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise ValueError(
                "OTEL_TRACES_EXPORTER=otlp needs the opentelemetry-exporter-otlp-proto-http package"
            ) from None
        otlp: SpanExporter = OTLPSpanExporter()
        return otlp
    raise ValueError(f"OTEL_TRACES_EXPORTER: {name!r} is not one of none, console, otlp")


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def current_trace_headers() -> dict[str, str]:
    """The active span's context as W3C headers (empty outside any span)."""
    headers: dict[str, str] = {}
    inject(headers)
    return headers


@contextmanager
def continued_span(
    name: str,
    headers: Mapping[str, str],
    *,
    kind: trace.SpanKind = trace.SpanKind.INTERNAL,
    attributes: Mapping[str, str | int] | None = None,
) -> Iterator[trace.Span]:
    """A span whose parent is the context in ``headers`` (a new trace when they carry none)."""
    parent = extract(dict(headers))
    token = otel_context.attach(parent)
    try:
        with tracer().start_as_current_span(name, kind=kind, attributes=attributes) as span:
            yield span
    finally:
        otel_context.detach(token)


def span_headers(
    name: str, headers: Mapping[str, str], attributes: Mapping[str, str | int] | None = None
) -> dict[str, str]:
    """Record a point-in-time span continuing ``headers`` and return its own headers, so the event
    it describes hangs in the trace at the step that produced it."""
    with continued_span(name, headers, attributes=attributes):
        return current_trace_headers()
