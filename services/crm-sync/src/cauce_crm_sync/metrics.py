"""crm-sync's own metrics (served at ``/metrics`` with the runtime's).

Provider-wide signals (``cauce.provider.errors``, ``cauce.provider.credentials_failing``)
are the runtime's shared instruments, recorded with ``provider="odoo"``.
"""

from __future__ import annotations

from opentelemetry import metrics

_meter = metrics.get_meter("cauce_crm_sync")

ODOO_REQUESTS = _meter.create_counter(
    "cauce.crm.odoo.requests",
    "{request}",
    "HTTP requests to Odoo by ORM method (create, write, authenticate...) and outcome "
    "(ok, rejected, unavailable, credentials_rejected)",
)
