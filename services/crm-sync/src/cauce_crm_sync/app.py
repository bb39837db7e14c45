"""crm-sync's bootstrap: settings, PostgreSQL, the Odoo client behind the shared rate
limiter, the consumer, the sync worker, the reconciliation and the operator APIs (built
in :class:`~cauce_crm_sync.bootstrap.CrmSync`)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from cauce_crm_sync import operator_api, reports_api
from cauce_crm_sync.bootstrap import CrmSync
from cauce_crm_sync.consumers import register_consumers
from cauce_crm_sync.settings import CrmSyncSettings
from cauce_runtime import create_service_app, postgres
from cauce_runtime.identity import TokenVerifier
from cauce_runtime.telemetry.metrics import preset_provider_counters

DESCRIPTION = (
    "ManyChat leads, campaign assignments and bot lead states into PostgreSQL and "
    "Odoo, under Odoo's rate limit, with dead letters, reconciliation and reports."
)


def create_app(
    settings: CrmSyncSettings | None = None,
    *,
    odoo_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """crm-sync's app; tests reach its :class:`CrmSync` (worker, reconciler, pool) with
    ``cauce_runtime.wiring_of(app, CrmSync)``."""
    settings = settings or CrmSyncSettings()
    crm = CrmSync.build(settings, odoo_transport=odoo_transport)
    register_consumers(
        crm.bus,
        crm.pool,
        applied=crm.worker.wake,
        odoo_changes=crm.changes,
        ack_wait_s=settings.crm_events_ack_wait_s,
    )
    app = create_service_app(
        settings,
        bus=crm.bus,
        wiring=crm,
        verifier=TokenVerifier.for_service(settings),
        readiness={"postgres": postgres.reachable(crm.pool)},
        routers=(
            reports_api.router,
            reports_api.internal,
            operator_api.router,
            operator_api.reconciliations,
        ),
        on_prepare=[crm.open],
        on_shutdown=[crm.stop],
        on_closed=[crm.close],
        title="cauce crm-sync",
        description=DESCRIPTION,
    )
    # Alerts watch these with increase(): a series must exist before its first event.
    # After create_service_app: instruments record nothing before it installs the
    # meter provider (python -m installs it earlier; a test building the app may not).
    preset_provider_counters("odoo")
    return app
