"""The notifier's own metrics (served at ``/metrics`` with the runtime's)."""

from __future__ import annotations

from opentelemetry import metrics

_meter = metrics.get_meter("cauce_notifier")

PROVIDER_ERRORS = _meter.create_counter(
    "cauce.notifier.provider_errors",
    "{error}",
    "Provider errors by channel and provider code (e.g. 130429, 131047, 190)",
)
CREDENTIALS_FAILING = _meter.create_counter(
    "cauce.notifier.credentials_failing",
    "{event}",
    "Times an account's credentials were refused (alert on any increase)",
)
STATUS_CHANGES = _meter.create_counter(
    "cauce.notifier.status_changes", "{change}", "Delivery status changes applied, by status"
)
