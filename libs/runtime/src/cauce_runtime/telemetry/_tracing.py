"""OpenTelemetry tracing (and the meter provider): setup, exporters, trace context in NATS headers.

Every service calls :func:`setup_telemetry` once at start. With
``CAUCE_OTEL_EXPORTER_OTLP_ENDPOINT`` set, spans go to an OTLP/HTTP collector (what
Kubernetes runs); otherwise they are appended as JSON lines to ``span_file``, which all
local services share and ``python -m cauce_runtime.telemetry.traces`` prints as a tree.

It also installs the database spans (:mod:`cauce_runtime.telemetry._db_spans`): PostgreSQL
queries through asyncpg and MongoDB commands through PyMongo become CLIENT spans of the
trace that issued them.

Trace context travels in message headers (W3C ``traceparent``/``tracestate``). NATS
headers are case-sensitive and Go producers send ``Traceparent``, so extraction looks
keys up case-insensitively.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import traceback
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from pydantic_core import to_json

from cauce_runtime.telemetry._db_spans import instrument_databases
from cauce_runtime.telemetry._logs import mask_sensitive
from cauce_runtime.telemetry.metrics import install_meter_provider

if TYPE_CHECKING:
    from cauce_runtime._settings import ServiceSettings

logger = logging.getLogger(__name__)

#: The instrumentation scope of spans created by the runtime.
TRACER_NAME = "cauce_runtime"


def get_tracer(name: str = TRACER_NAME) -> trace.Tracer:
    return trace.get_tracer(name)


class _CaseInsensitiveGetter(Getter[Mapping[str, str]]):
    """Reads ``traceparent`` whatever the case the producer used (Go: ``Traceparent``)."""

    def get(self, carrier: Mapping[str, str], key: str) -> list[str] | None:
        wanted = key.lower()
        for name, value in carrier.items():
            if name.lower() == wanted:
                return [value]
        return None

    def keys(self, carrier: Mapping[str, str]) -> list[str]:
        return [name.lower() for name in carrier]


CASE_INSENSITIVE_GETTER = _CaseInsensitiveGetter()


def inject_headers(headers: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Write the current trace context (``traceparent``/``tracestate``) into ``headers``."""
    carrier: MutableMapping[str, str] = {} if headers is None else headers
    propagate.inject(carrier)
    return carrier


def extract_context(headers: Mapping[str, str] | None) -> Context:
    """The trace context carried by ``headers``, matching header names case-insensitively."""
    return propagate.extract(headers or {}, getter=CASE_INSENSITIVE_GETTER)


def record_exception(span: trace.Span, exc: BaseException) -> None:
    """``span.record_exception`` with phone numbers and secrets masked in the message
    and the traceback (exception texts can quote a payload or a URL)."""
    span.record_exception(
        exc,
        attributes={
            "exception.message": mask_sensitive(str(exc)),
            "exception.stacktrace": mask_sensitive("".join(traceback.format_exception(exc))),
        },
    )


def _iso(ns: int | None) -> str | None:
    if ns is None:
        return None
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="microseconds")


def span_to_json(span: ReadableSpan) -> dict[str, Any]:
    """One span as the JSON object written to the span file (and read by ``traces``)."""
    context = span.get_span_context()
    parent = span.parent
    start, end = span.start_time, span.end_time
    return {
        "trace_id": f"{context.trace_id:032x}" if context else None,
        "span_id": f"{context.span_id:016x}" if context else None,
        "parent_span_id": f"{parent.span_id:016x}" if parent else None,
        "name": span.name,
        "kind": span.kind.name,
        "start": _iso(start),
        "end": _iso(end),
        "duration_ms": round((end - start) / 1e6, 3) if start and end else None,
        "attributes": dict(span.attributes or {}),
        "status": {"code": span.status.status_code.name, "description": span.status.description},
        "events": [
            {
                "name": event.name,
                "time": _iso(event.timestamp),
                "attributes": dict(event.attributes or {}),
            }
            for event in span.events
        ],
        "links": [
            {"trace_id": f"{link.context.trace_id:032x}", "span_id": f"{link.context.span_id:016x}"}
            for link in span.links
        ],
        "service": (span.resource.attributes.get(SERVICE_NAME) if span.resource else None),
    }


class JsonLinesSpanExporter(SpanExporter):
    """Appends one JSON object per span to a file shared by every local service.

    Each batch is written with one ``write`` on an unbuffered ``O_APPEND`` file, so lines
    from several processes interleave whole. The file stays open between batches (opening
    it per batch cost more than writing); it is reopened when the path no longer names
    the open file (deleted or rotated).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._handle: BinaryIO | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        # pydantic-core's serialiser: a quarter of the stdlib's time per span, on the
        # thread that shares the GIL with every service's event loop.
        lines = b"".join(to_json(span_to_json(s), fallback=str) + b"\n" for s in spans)
        try:
            with self._lock:
                self._open_handle().write(lines)
        except OSError:
            logger.exception("could not write spans to %s", self.path)
            self._close_handle()
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def _open_handle(self) -> BinaryIO:
        handle = self._handle
        if handle is not None:
            try:
                if os.stat(self.path).st_ino == os.fstat(handle.fileno()).st_ino:
                    return handle
            except FileNotFoundError:
                pass
            handle.close()
        self._handle = handle = self.path.open("ab", buffering=0)
        return handle

    def _close_handle(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()
            self._handle = None

    def shutdown(self) -> None:
        with self._lock:
            self._close_handle()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


@dataclass
class Telemetry:
    """What :func:`setup_telemetry` installed; ``shutdown()`` flushes pending spans."""

    tracer_provider: TracerProvider
    service_name: str
    processors: list[SpanProcessor] = field(default_factory=list)

    @property
    def tracer(self) -> trace.Tracer:
        return self.tracer_provider.get_tracer(TRACER_NAME)

    def force_flush(self, timeout_millis: int = 5000) -> bool:
        return all(p.force_flush(timeout_millis) for p in self.processors)

    def shutdown(self) -> None:
        for processor in self.processors:
            processor.shutdown()
        self.processors.clear()


def _build_exporter(settings: ServiceSettings) -> SpanExporter:
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        return OTLPSpanExporter(endpoint=endpoint)
    return JsonLinesSpanExporter(settings.span_file)


def setup_telemetry(settings: ServiceSettings) -> Telemetry:
    """Install the global tracer provider for this service (once per process).

    A second call in the same process (tests) keeps the first provider, which the
    OpenTelemetry API cannot replace, and adds this call's exporter to it.
    """
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        provider = current
    else:
        provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.service_name}))
        trace.set_tracer_provider(provider)
    install_meter_provider(settings)
    if settings.trace_database_calls:
        instrument_databases()
    # Small, frequent batches: the exporter thread serialises spans while holding the
    # GIL, and large batches stalled the event loop long enough to show in p99
    # (README's performance section has the figures).
    processor = BatchSpanProcessor(
        _build_exporter(settings), schedule_delay_millis=100, max_export_batch_size=64
    )
    provider.add_span_processor(processor)
    return Telemetry(
        tracer_provider=provider, service_name=settings.service_name, processors=[processor]
    )
