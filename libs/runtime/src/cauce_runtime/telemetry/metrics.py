"""The metrics the runtime records for every service, as OpenTelemetry instruments.

:func:`install_meter_provider` (called by the service app and by ``setup_telemetry``)
exports them in Prometheus format at ``/metrics`` and, when
``CAUCE_OTEL_EXPORTER_OTLP_ENDPOINT`` is set, pushes them over OTLP too. Names follow
OpenTelemetry's conventions and become Prometheus names by its rules
(``cauce.bus.published`` -> ``cauce_bus_published_total``,
``cauce.bus.publish.duration`` in seconds -> ``cauce_bus_publish_duration_seconds``).

Attributes are low-cardinality names (stream, consumer, route template, outcome): never
a subject with a contact key, a path with a token, or a phone number. Every series also
carries ``service_name`` (the resource's ``service.name``), so dashboards can tell
services apart however Prometheus scrapes them.

Exemplars: the OTLP exporter sends them, but ``opentelemetry-exporter-prometheus`` drops
them from ``/metrics``; there, logs (``trace_id`` on every line) join metrics to traces
(``docs/runbook.md`` says how). So the SDK samples them (trace-based) only when an OTLP
endpoint is set: sampling one costs a measurement more than the rest of its recording,
and a campaign send records several. ``OTEL_METRICS_EXEMPLAR_FILTER`` (the SDK's own
setting: ``trace_based``, ``always_on``, ``always_off``) overrides either default.

The consumer and stream gauges (pending, ack pending, redelivered, stream size) are
observed from :data:`LAG_READINGS`, which :mod:`cauce_runtime.bus._lag` fills by
polling JetStream.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.environment_variables import OTEL_METRICS_EXEMPLAR_FILTER
from opentelemetry.sdk.metrics import (
    AlwaysOffExemplarFilter,
    ExemplarFilter,
    MeterProvider,
    TraceBasedExemplarFilter,
)
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource

if TYPE_CHECKING:
    from cauce_runtime._settings import ServiceSettings

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
    "JetStream publishes by outcome (acked, duplicate, unavailable) and subject template",
)
PUBLISH_SECONDS = _meter.create_histogram(
    "cauce.bus.publish.duration",
    "s",
    "Time from publish to JetStream's PubAck, by subject template",
    explicit_bucket_boundaries_advisory=_LATENCY_BUCKETS,
)
HTTP_REQUEST_SECONDS = _meter.create_histogram(
    "http.server.request.duration",
    "s",
    "HTTP server request latency by route template",
    explicit_bucket_boundaries_advisory=_LATENCY_BUCKETS,
)
HTTP_CLIENT_SECONDS = _meter.create_histogram(
    "http.client.request.duration",
    "s",
    "Outgoing HTTP request latency (provider calls) by host, method and status",
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

#: The kinds of handler failure ``cauce.consumer.failed`` counts.
FAILURE_KINDS = ("transient", "permanent", "invalid", "unexpected")


def preset_consumer_counters(stream: str, consumer: str) -> None:
    """Start the counters alerts watch with ``increase()`` at 0 for a consumer.

    A series that appears with its first event has no earlier sample, so ``increase()``
    over it is empty and the first dead letter of a pod would raise no alert; a series
    that exists from the start at 0 shows it.
    """
    labels = {"stream": stream, "consumer": consumer}
    CONSUMER_DEAD_LETTERED.add(0, labels)
    for kind in FAILURE_KINDS:
        CONSUMER_FAILED.add(0, {**labels, "kind": kind})


def preset_provider_counters(*providers: str) -> None:
    """``cauce.provider.credentials_failing`` at 0 for each provider a service calls
    (see :func:`preset_consumer_counters`)."""
    for provider in providers:
        PROVIDER_CREDENTIALS_FAILING.add(0, {"provider": provider})


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


@dataclass(frozen=True)
class ConsumerLag:
    """One durable's state as JetStream reported it (``consumer_info``)."""

    pending: int
    ack_pending: int
    redelivered: int


@dataclass(frozen=True)
class StreamSize:
    """One stream's state as JetStream reported it (``stream_info``)."""

    messages: int
    bytes: int


@dataclass(frozen=True)
class StorageUse:
    """JetStream file storage: what the account's streams use and, when known, the
    limit (the account's own, else the server's ``max_file_store`` from settings)."""

    used_bytes: int
    limit_bytes: int | None


class LagReadings:
    """The latest JetStream readings of every poller in this process, by owner.

    Several services can run in one process (tests); each poller owns its readings and
    drops them when it stops or cannot reach JetStream, so a gauge never shows a stale
    value as if it were current.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._consumers: dict[object, dict[tuple[str, str], ConsumerLag]] = {}
        self._streams: dict[object, dict[str, StreamSize]] = {}
        self._storage: dict[object, StorageUse] = {}

    def update(
        self,
        owner: object,
        consumers: Mapping[tuple[str, str], ConsumerLag],
        streams: Mapping[str, StreamSize],
        storage: StorageUse | None = None,
    ) -> None:
        with self._lock:
            self._consumers[owner] = dict(consumers)
            self._streams[owner] = dict(streams)
            if storage is None:
                self._storage.pop(owner, None)
            else:
                self._storage[owner] = storage

    def forget(self, owner: object) -> None:
        with self._lock:
            self._consumers.pop(owner, None)
            self._streams.pop(owner, None)
            self._storage.pop(owner, None)

    def storage(self) -> StorageUse | None:
        """The latest storage reading (every poller of a process reads the same account)."""
        with self._lock:
            return next(reversed(self._storage.values()), None)

    def consumers(self) -> dict[tuple[str, str], ConsumerLag]:
        with self._lock:
            return {k: v for readings in self._consumers.values() for k, v in readings.items()}

    def streams(self) -> dict[str, StreamSize]:
        with self._lock:
            return {k: v for readings in self._streams.values() for k, v in readings.items()}


LAG_READINGS = LagReadings()


def _consumer_observations(field: str) -> Iterator[Observation]:
    for (stream, consumer), lag in LAG_READINGS.consumers().items():
        yield Observation(getattr(lag, field), {"stream": stream, "consumer": consumer})


def _observe_pending(_: CallbackOptions) -> Iterable[Observation]:
    return list(_consumer_observations("pending"))


def _observe_ack_pending(_: CallbackOptions) -> Iterable[Observation]:
    return list(_consumer_observations("ack_pending"))


def _observe_redelivered(_: CallbackOptions) -> Iterable[Observation]:
    return list(_consumer_observations("redelivered"))


def _observe_stream_messages(_: CallbackOptions) -> Iterable[Observation]:
    return [Observation(s.messages, {"stream": n}) for n, s in LAG_READINGS.streams().items()]


def _observe_stream_bytes(_: CallbackOptions) -> Iterable[Observation]:
    return [Observation(s.bytes, {"stream": n}) for n, s in LAG_READINGS.streams().items()]


def _observe_storage_used(_: CallbackOptions) -> Iterable[Observation]:
    storage = LAG_READINGS.storage()
    return [] if storage is None else [Observation(storage.used_bytes)]


def _observe_storage_limit(_: CallbackOptions) -> Iterable[Observation]:
    storage = LAG_READINGS.storage()
    if storage is None or storage.limit_bytes is None:
        return []
    return [Observation(storage.limit_bytes)]


CONSUMER_PENDING = _meter.create_observable_gauge(
    "cauce.consumer.pending",
    [_observe_pending],
    "{message}",
    "Messages in the stream not yet delivered to the durable (its lag)",
)
CONSUMER_ACK_PENDING = _meter.create_observable_gauge(
    "cauce.consumer.ack_pending",
    [_observe_ack_pending],
    "{message}",
    "Messages delivered to the durable and not yet acknowledged",
)
CONSUMER_REDELIVERED = _meter.create_observable_gauge(
    "cauce.consumer.redelivered",
    [_observe_redelivered],
    "{message}",
    "Messages delivered more than once and not yet acknowledged",
)
STREAM_MESSAGES = _meter.create_observable_gauge(
    "cauce.stream.messages",
    [_observe_stream_messages],
    "{message}",
    "Messages a stream holds (DLQ: dead letters kept)",
)
STREAM_BYTES = _meter.create_observable_gauge(
    "cauce.stream.size", [_observe_stream_bytes], "By", "Bytes a stream holds"
)
JETSTREAM_STORAGE_USED = _meter.create_observable_gauge(
    "cauce.jetstream.storage.used",
    [_observe_storage_used],
    "By",
    "JetStream file storage the account's streams use",
)
JETSTREAM_STORAGE_LIMIT = _meter.create_observable_gauge(
    "cauce.jetstream.storage.limit",
    [_observe_storage_limit],
    "By",
    "JetStream file storage the account may use (its limit, else the server's)",
)

_install_lock = threading.Lock()
_installed: MeterProvider | None = None


def install_meter_provider(settings: ServiceSettings) -> MeterProvider:
    """Install the process's meter provider once: a Prometheus reader for ``/metrics``,
    plus an OTLP/HTTP exporter when an endpoint is configured. Later calls return it."""
    global _installed
    with _install_lock:
        if _installed is None:
            readers: list[MetricReader] = [
                PrometheusMetricReader(resource_attribute_filter=_service_name_only)
            ]
            if settings.otel_exporter_otlp_endpoint:
                from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
                    OTLPMetricExporter,
                )

                endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/")
                readers.append(
                    PeriodicExportingMetricReader(OTLPMetricExporter(f"{endpoint}/v1/metrics"))
                )
            resource = Resource.create({SERVICE_NAME: settings.service_name})
            _installed = MeterProvider(
                resource=resource,
                metric_readers=readers,
                exemplar_filter=_exemplar_filter(
                    exported=bool(settings.otel_exporter_otlp_endpoint)
                ),
            )
            metrics.set_meter_provider(_installed)
        return _installed


def _exemplar_filter(*, exported: bool) -> ExemplarFilter | None:
    """Trace-based exemplars where an exporter sends them, none where only Prometheus
    reads the metrics; None (the SDK reads its environment variable) when that is set."""
    if os.environ.get(OTEL_METRICS_EXEMPLAR_FILTER):
        return None
    return TraceBasedExemplarFilter() if exported else AlwaysOffExemplarFilter()


def _service_name_only(key: str) -> bool:
    return key == SERVICE_NAME
