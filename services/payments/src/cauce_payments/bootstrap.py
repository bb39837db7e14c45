"""The payments service's bootstrap object: settings, bus, PostgreSQL pool and stores,
the SCI TOTAL client and the request handlers, built once at start
(:meth:`Payments.build`); the links API reaches it as :data:`PaymentsDep`, the consumer
is declared over its handlers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

import asyncpg
import httpx
from fastapi import Depends

from cauce_payments.debt_lookups import DebtLookups
from cauce_payments.payment_links import PaymentLinks
from cauce_payments.sci_total import SciTotalClient
from cauce_payments.settings import PaymentsSettings
from cauce_payments.store import LinkStore, LookupStore, migrate
from cauce_payments.transaction_status import TransactionStatuses
from cauce_runtime import Bus, postgres, wired

logger = logging.getLogger(__name__)

#: A login, a call and its one retry after a 401, each up to the timeout: how long a
#: link request may hold its row before another worker treats it as abandoned.
LEASE_CALLS = 3


@dataclass
class Payments:
    settings: PaymentsSettings
    bus: Bus
    #: Opened (and migrated) by :meth:`open`, before the bus starts.
    pool: asyncpg.Pool
    sci: SciTotalClient
    link_store: LinkStore
    lookups: DebtLookups
    links: PaymentLinks
    statuses: TransactionStatuses

    @classmethod
    def build(
        cls,
        settings: PaymentsSettings,
        *,
        sci_transport: httpx.AsyncBaseTransport | None = None,
        bus: Bus | None = None,
    ) -> Payments:
        """Everything built, nothing connected yet (asyncpg returns the pool unopened)."""
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
        link_store = LinkStore(pool)
        bus = bus or Bus(settings)
        links = PaymentLinks(
            bus,
            sci,
            link_store,
            default_email=settings.sci_default_email,
            lease_s=LEASE_CALLS * settings.sci_timeout_s + 10,
            retry_delay_s=settings.sci_retry_delay_s,
        )
        return cls(
            settings=settings,
            bus=bus,
            pool=pool,
            sci=sci,
            link_store=link_store,
            lookups=DebtLookups(bus, sci, LookupStore(pool), settings.sci_retry_delay_s),
            links=links,
            statuses=TransactionStatuses(link_store),
        )

    async def open(self) -> None:
        """Before the bus starts: the pool open and the schema migrated."""
        await self.pool  # asyncpg: awaiting a pool opens it
        applied = await migrate(self.pool)
        if applied:
            logger.info("payments schema migrated to version %d", max(applied))

    async def close(self) -> None:
        """After the bus stopped and its consumer finished."""
        await self.sci.aclose()
        await self.pool.close()


#: What a route or dependency takes to reach the payments service wired at start.
PaymentsDep = Annotated[Payments, Depends(wired(Payments))]
