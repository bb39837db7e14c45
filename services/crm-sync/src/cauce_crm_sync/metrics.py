"""crm-sync's own metrics (served at ``/metrics`` with the runtime's).

Provider-wide signals (``cauce.provider.errors``, ``cauce.provider.credentials_failing``)
are the runtime's shared instruments, recorded with ``provider="odoo"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

_meter = metrics.get_meter("cauce_crm_sync")

ODOO_REQUESTS = _meter.create_counter(
    "cauce.crm.odoo.requests",
    "{request}",
    "HTTP requests to Odoo by ORM method (create, write, authenticate...) and outcome "
    "(ok, rejected, unavailable, credentials_rejected)",
)


ODOO_CHANGES = _meter.create_counter(
    "cauce.crm.odoo.changes",
    "{record}",
    "Changes of cauce's leads received from Odoo, by path (webhook, reconciliation)",
)
ODOO_PULLED = _meter.create_counter(
    "cauce.crm.odoo.pulled",
    "{field}",
    "Fields taken from Odoo into cauce, by path (webhook, reconciliation)",
)
ODOO_CONFLICTS = _meter.create_counter(
    "cauce.crm.odoo.conflicts",
    "{field}",
    "Fields Odoo and cauce disagreed on, by the rule that settled them (cauce_owned: "
    "repaired; odoo_newer: taken from Odoo; cauce_newer: repaired)",
)


def record_conflicts(applied: Any, path: str) -> None:
    """Count one Odoo change of a lead of cauce's, what it took and what settled it (an
    ``Applied``)."""
    if not applied.known:
        return
    ODOO_CHANGES.add(1, {"path": path})
    if applied.pulled:
        ODOO_PULLED.add(len(applied.pulled), {"path": path})
    for rule in applied.repaired.values():
        ODOO_CONFLICTS.add(1, {"rule": rule})
    if applied.odoo_won:
        ODOO_CONFLICTS.add(len(applied.odoo_won), {"rule": "odoo_newer"})


class SyncBacklog:
    """The latest sync counts, refreshed by the worker, read by the gauges below
    (observable gauges are read synchronously at scrape time: no query there)."""

    pending: int = 0
    in_flight: int = 0
    failed: int = 0
    oldest_pending_age_s: float = 0.0


BACKLOG = SyncBacklog()


def _observe(value: Callable[[], float]) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def callback(options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(value())]

    return callback


_meter.create_observable_gauge(
    "cauce.crm.sync.pending",
    [_observe(lambda: BACKLOG.pending)],
    "{record}",
    "Records waiting to be sent to Odoo (not in flight)",
)
_meter.create_observable_gauge(
    "cauce.crm.sync.in_flight",
    [_observe(lambda: BACKLOG.in_flight)],
    "{record}",
    "Records claimed by a sync worker right now",
)
_meter.create_observable_gauge(
    "cauce.crm.sync.dead_letters",
    [_observe(lambda: BACKLOG.failed)],
    "{record}",
    "Records Odoo rejected, waiting for an operator (dead letters)",
)
_meter.create_observable_gauge(
    "cauce.crm.sync.oldest_pending_age",
    [_observe(lambda: BACKLOG.oldest_pending_age_s)],
    "s",
    "Age of the oldest change not yet in Odoo (the sync's lag)",
)
