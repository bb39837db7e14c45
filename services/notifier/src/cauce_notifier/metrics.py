"""The notifier's own metrics (served at ``/metrics`` with the runtime's).

Provider errors, refused credentials and send-slot waits are recorded on the runtime's
shared instruments (:mod:`cauce_runtime.telemetry.metrics`), so every service reports them under
one name: ``cauce_provider_errors_total{provider, code}``,
``cauce_provider_credentials_failing_total{provider}`` and
``cauce_rate_limit_wait_duration_seconds{limiter}``. ``provider`` is the channel
(``whatsapp``, ``chattigo``, ``ycloud``); ``limiter`` is :func:`send_limiter`.
"""

from __future__ import annotations

from opentelemetry import metrics

_meter = metrics.get_meter("cauce_notifier")

STATUS_CHANGES = _meter.create_counter(
    "cauce.notifier.status_changes", "{change}", "Delivery status changes applied, by status"
)
#: ``cauce_campaign_releases_total{outcome}``: recipients handed to the send path
#: (``released``) or kept from it for an opt-out (``suppressed``).
CAMPAIGN_RELEASES = _meter.create_counter(
    "cauce.campaign.releases", "{recipient}", "Campaign recipients released or suppressed"
)
#: ``cauce_campaign_state_changes_total{to, by}``: ``by`` is operator, platform (paused
#: or failed on its own: a template, quality, a failure burst) or schedule.
CAMPAIGN_STATE_CHANGES = _meter.create_counter(
    "cauce.campaign.state_changes", "{change}", "Campaign state changes, by new state and cause"
)


def send_limiter(channel: str) -> str:
    """The ``limiter`` label of a channel's per-account send-rate limiter (one label
    per channel, not per account: accounts are many, the limiter is one mechanism)."""
    return f"notifier.send.{channel}"
