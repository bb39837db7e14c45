"""Prometheus metrics the runtime records for every service (served at ``/metrics``).

Labels are low-cardinality names (stream, consumer, route template, outcome): never a
subject with a contact key, a path with a token, or a phone number.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

CONSUMER_PROCESSED = Counter(
    "cauce_consumer_processed_total",
    "Messages handled successfully and acked",
    ["stream", "consumer"],
)
CONSUMER_FAILED = Counter(
    "cauce_consumer_failed_total",
    "Handler failures by kind (transient, permanent, invalid, unexpected)",
    ["stream", "consumer", "kind"],
)
CONSUMER_DEAD_LETTERED = Counter(
    "cauce_consumer_dead_lettered_total",
    "Messages terminated and copied to the DLQ stream",
    ["stream", "consumer"],
)
CONSUMER_REDELIVERIES = Counter(
    "cauce_consumer_redeliveries_total",
    "Deliveries after the first (num_delivered > 1)",
    ["stream", "consumer"],
)
CONSUMER_HANDLING_SECONDS = Histogram(
    "cauce_consumer_handling_seconds",
    "Time spent handling one message, outcome included",
    ["stream", "consumer"],
    buckets=_LATENCY_BUCKETS,
)
PUBLISHED = Counter(
    "cauce_bus_published_total",
    "JetStream publishes by outcome (acked, duplicate, unavailable)",
    ["outcome"],
)
PUBLISH_SECONDS = Histogram(
    "cauce_bus_publish_seconds",
    "Time from publish to JetStream's PubAck",
    buckets=_LATENCY_BUCKETS,
)
HTTP_REQUEST_SECONDS = Histogram(
    "cauce_http_request_duration_seconds",
    "HTTP server request latency by route template",
    ["method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
)
