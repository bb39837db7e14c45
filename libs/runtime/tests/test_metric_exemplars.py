"""Exemplars are sampled only where an exporter sends them (see
:mod:`cauce_runtime.telemetry.metrics`)."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider

from cauce_runtime.telemetry.metrics import _exemplar_filter


def _exemplars_of_a_traced_measurement(*, exported: bool) -> int:
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        metric_readers=[reader], exemplar_filter=_exemplar_filter(exported=exported)
    )
    histogram = provider.get_meter("test").create_histogram("cauce.test.duration", unit="s")
    with TracerProvider().get_tracer("test").start_as_current_span("sampled"):
        histogram.record(0.5)
    data = reader.get_metrics_data()
    assert data is not None
    points = [
        point
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        for point in metric.data.data_points
    ]
    assert len(points) == 1
    return len(points[0].exemplars)


def test_a_measurement_in_a_trace_gets_an_exemplar_where_it_is_exported() -> None:
    assert _exemplars_of_a_traced_measurement(exported=True) == 1


def test_prometheus_alone_samples_no_exemplar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_METRICS_EXEMPLAR_FILTER", raising=False)
    assert _exemplars_of_a_traced_measurement(exported=False) == 0


def test_the_sdk_setting_overrides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_METRICS_EXEMPLAR_FILTER", "always_on")
    assert _exemplars_of_a_traced_measurement(exported=False) == 1
