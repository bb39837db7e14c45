"""Traces, metrics and logs: one trace from webhook to provider call, nothing personal in
clear. ``python -m cauce_runtime.telemetry.traces`` prints a trace tree."""

from cauce_runtime.telemetry import metrics
from cauce_runtime.telemetry._logs import (
    configure_logging,
    mask_phone,
    mask_secrets,
    mask_sensitive,
)
from cauce_runtime.telemetry._server_spans import (
    HttpTelemetryMiddleware,
    end_server_span,
    observe_request,
    start_server_span,
)
from cauce_runtime.telemetry._tracing import (
    Telemetry,
    extract_context,
    get_tracer,
    inject_headers,
    record_exception,
    setup_telemetry,
)
from cauce_runtime.telemetry.metrics import install_meter_provider

__all__ = [
    "HttpTelemetryMiddleware",
    "Telemetry",
    "configure_logging",
    "end_server_span",
    "extract_context",
    "get_tracer",
    "inject_headers",
    "install_meter_provider",
    "mask_phone",
    "mask_secrets",
    "mask_sensitive",
    "metrics",
    "observe_request",
    "record_exception",
    "setup_telemetry",
    "start_server_span",
]
