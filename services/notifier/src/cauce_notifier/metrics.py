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

#: ``cauce_notifier_sends_in_doubt_total{provider, outcome}``: sends recorded from the
#: status webhook naming their request (``recorded_by_status``: the send's own answer was
#: lost, or the status overtook it), and sends made again because no status named a call
#: whose answer was lost (``resent``: the customer may get the message twice).
SENDS_IN_DOUBT = _meter.create_counter(
    "cauce.notifier.sends_in_doubt",
    "{message}",
    "Sends recorded from a status webhook, or made again after a lost answer",
)


#: ``cauce_notifier_send_slots_missed_total{provider}``: sends that woke too long after
#: their send slot (a busy process) and took a new one rather than bunch with the sends
#: of later slots. A steady rise: the notifier lacks CPU for its accounts' rates.
SEND_SLOTS_MISSED = _meter.create_counter(
    "cauce.notifier.send_slots_missed",
    "{send}",
    "Sends that woke too late for their send slot and took another",
)


def preset_sends_in_doubt(*providers: str) -> None:
    """Start :data:`SENDS_IN_DOUBT` at 0 for every label pair (an alert's ``increase()``
    cannot see a series' first event)."""
    for provider in providers:
        for outcome in ("recorded_by_status", "resent"):
            SENDS_IN_DOUBT.add(0, {"provider": provider, "outcome": outcome})


def send_limiter(channel: str) -> str:
    """The ``limiter`` label of a channel's per-account send-rate limiter (one label
    per channel, not per account: accounts are many, the limiter is one mechanism)."""
    return f"notifier.send.{channel}"
