"""The metrics the runtime records for every service, as OpenTelemetry instruments.

:func:`install_meter_provider` (called by the service app and by ``setup_telemetry``)
exports them in Prometheus format at ``/metrics`` and, when
``CAUCE_OTEL_EXPORTER_OTLP_ENDPOINT`` is set, pushes them over OTLP too. Names follow
OpenTelemetry's conventions and become Prometheus names by its rules
(``cauce.bus.published`` -> ``cauce_bus_published_total``,
``cauce.bus.publish.duration`` in seconds -> ``cauce_bus_publish_duration_seconds``).

Attributes are low-cardinality names (stream, consumer, route template, outcome): never
a subject with a contact key, a path with a token, or a phone number.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource

if TYPE_CHECKING:
    from cauce_runtime.settings import ServiceSettings

METER_NAME = "cauce_runtime"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_meter = metrics.get_meter(METER_NAME)

CONSUMER_PROCESSED = _meter.create_counter(
    "cauce.consumer.processed", "{message}", "Messages handled successfully and acked"
)
CONSUMER_FAILED = _meter.create_counter(
    "cauce.consumer.failed",
    "{message}",
    "Handler failures by kind (transient, permanent, invalid, unexpected)",
)
CONSUMER_DEAD_LETTERED = _meter.create_counter(
    "cauce.consumer.dead_lettered", "{message}", "Messages terminated and copied to the DLQ"
)
CONSUMER_REDELIVERIES = _meter.create_counter(
    "cauce.consumer.redeliveries", "{message}", "Deliveries after the first (num_delivered > 1)"
)
CONSUMER_HANDLING_SECONDS = _meter.create_histogram(
    "cauce.consumer.handling.duration",
    "s",
    "Time spent handling one message, outcome included",
    explicit_bucket_boundaries_advisory=_LATENCY_BUCKETS,
)
PUBLISHED = _meter.create_counter(
    "cauce.bus.published",
    "{message}",
    "JetStream publishes by outcome (acked, duplicate, unavailable)",
)
PUBLISH_SECONDS = _meter.create_histogram(
    "cauce.bus.publish.duration",
    "s",
    "Time from publish to JetStream's PubAck",
    explicit_bucket_boundaries_advisory=_LATENCY_BUCKETS,
)
HTTP_REQUEST_SECONDS = _meter.create_histogram(
    "http.server.request.duration",
    "s",
    "HTTP server request latency by route template",
    explicit_bucket_boundaries_advisory=_LATENCY_BUCKETS,
)

PROVIDER_ERRORS = _meter.create_counter(
    "cauce.provider.errors",
    "{error}",
    "Errors answered by an external provider, by provider and its error code or name",
)
PROVIDER_CREDENTIALS_FAILING = _meter.create_counter(
    "cauce.provider.credentials_failing",
    "{event}",
    "Times a provider refused our credentials (alert on any increase)",
)
RATE_LIMIT_WAIT_SECONDS = _meter.create_histogram(
    "cauce.rate_limit.wait.duration",
    "s",
    "Time spent waiting for a shared rate limiter's slot, by limiter",
    explicit_bucket_boundaries_advisory=(
        0.0,
        0.01,
        0.05,
        0.1,
        0.25,
        0.5,
        1.0,
        2.0,
        5.0,
        10.0,
        30.0,
    ),
)

_install_lock = threading.Lock()
_installed: MeterProvider | None = None


def install_meter_provider(settings: ServiceSettings) -> MeterProvider:
    """Install the process's meter provider once: a Prometheus reader for ``/metrics``,
    plus an OTLP/HTTP exporter when an endpoint is configured. Later calls return it."""
    global _installed
    with _install_lock:
        if _installed is None:
            readers: list[MetricReader] = [PrometheusMetricReader()]
            if settings.otel_exporter_otlp_endpoint:
                from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
                    OTLPMetricExporter,
                )

                endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/")
                readers.append(
                    PeriodicExportingMetricReader(OTLPMetricExporter(f"{endpoint}/v1/metrics"))
                )
            resource = Resource.create({SERVICE_NAME: settings.service_name})
            _installed = MeterProvider(resource=resource, metric_readers=readers)
            metrics.set_meter_provider(_installed)
        return _installed
