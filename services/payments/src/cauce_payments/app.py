"""The payments service's bootstrap: settings, PostgreSQL, the SCI TOTAL client, the
``payments-requests`` consumer and the operator API."""

from __future__ import annotations

import logging

import httpx
from fastapi import FastAPI

from cauce_contracts.payments import (
    DebtLookupRequested,
    PaymentLinkRequested,
    PaymentTransactionStatusChanged,
)
from cauce_payments.consumers import REQUESTS
from cauce_payments.debt_lookups import DebtLookups
from cauce_payments.links_api import links_router
from cauce_payments.payment_links import PaymentLinks
from cauce_payments.sci_total import SciTotalClient
from cauce_payments.settings import PaymentsSettings
from cauce_payments.store import LinkStore, LookupStore, migrate
from cauce_payments.transaction_status import TransactionStatuses
from cauce_runtime import Bus, Delivery, consumer, create_service_app, postgres

logger = logging.getLogger(__name__)

PaymentRequest = DebtLookupRequested | PaymentLinkRequested | PaymentTransactionStatusChanged
#: A login, a call and its one retry after a 401, each up to the timeout: how long a
#: link request may hold its row before another worker treats it as abandoned.
LEASE_CALLS = 3


def create_app(
    settings: PaymentsSettings | None = None,
    *,
    sci_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or PaymentsSettings()
    pool = postgres.create_pool(settings.postgres_url, settings.postgres_pool_size)
    sci = SciTotalClient.create(
        settings.sci_base_url,
        settings.sci_username,
        settings.sci_password,
        settings.sci_id_parametro,
        settings.sci_id_cliente,
        timeout_s=settings.sci_timeout_s,
        transport=sci_transport,
    )
    links_store = LinkStore(pool)
    bus = Bus(settings)
    lookups = DebtLookups(bus, sci, LookupStore(pool), settings.sci_retry_delay_s)
    links = PaymentLinks(
        bus,
        sci,
        links_store,
        default_email=settings.sci_default_email,
        lease_s=LEASE_CALLS * settings.sci_timeout_s + 10,
        retry_delay_s=settings.sci_retry_delay_s,
    )
    statuses = TransactionStatuses(links_store)

    @consumer(
        bus,
        REQUESTS,
        (DebtLookupRequested, PaymentLinkRequested, PaymentTransactionStatusChanged),
        batch_size=16,
    )
    async def on_request(event: PaymentRequest, delivery: Delivery) -> None:
        if isinstance(event, DebtLookupRequested):
            await lookups.handle(event, delivery)
        elif isinstance(event, PaymentLinkRequested):
            await links.handle(event, delivery)
        else:
            await statuses.handle(event, delivery)

    async def open_store() -> None:
        await pool  # asyncpg: awaiting a pool opens it
        applied = await migrate(pool)
        if applied:
            logger.info("payments schema migrated to version %d", max(applied))

    async def close_store() -> None:
        await sci.aclose()
        await pool.close()

    return create_service_app(
        settings,
        bus=bus,
        readiness={"postgres": postgres.reachable(pool)},
        routers=(links_router(links_store, settings.admin_token),),
        on_prepare=[open_store],
        on_closed=[close_store],
        title="cauce payments",
        description=(
            "Vehicle-tax debt lookups and payment links through SCI TOTAL: one SCI "
            "transaction per request key at most, payment statuses from SCI's webhook."
        ),
    )
