"""The payments service's bootstrap: settings, PostgreSQL, the SCI TOTAL client, the
``payments-requests`` consumer and the operator API (built in
:class:`~cauce_payments.bootstrap.Payments`)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from cauce_payments import links_api
from cauce_payments.bootstrap import Payments
from cauce_payments.consumers import register_consumers
from cauce_payments.sci_total.client import PROVIDER
from cauce_payments.settings import PaymentsSettings
from cauce_runtime import create_service_app, postgres
from cauce_runtime.identity import TokenVerifier
from cauce_runtime.telemetry.metrics import preset_provider_counters

DESCRIPTION = (
    "Vehicle-tax debt lookups and payment links through SCI TOTAL: one SCI "
    "transaction per request key at most, payment statuses from SCI's webhook."
)


def create_app(
    settings: PaymentsSettings | None = None,
    *,
    sci_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or PaymentsSettings()
    payments = Payments.build(settings, sci_transport=sci_transport)
    register_consumers(
        payments.bus, lookups=payments.lookups, links=payments.links, statuses=payments.statuses
    )
    app = create_service_app(
        settings,
        bus=payments.bus,
        wiring=payments,
        verifier=TokenVerifier.for_service(settings),
        readiness={"postgres": postgres.reachable(payments.pool)},
        routers=(links_api.router,),
        on_prepare=[payments.open],
        on_closed=[payments.close],
        title="cauce payments",
        description=DESCRIPTION,
    )
    # Alerts watch these with increase(): a series must exist before its first event.
    # After create_service_app: instruments record nothing before it installs the
    # meter provider (python -m installs it earlier; a test building the app may not).
    preset_provider_counters(PROVIDER)
    return app
