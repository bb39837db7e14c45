"""crm-sync's bootstrap: settings, PostgreSQL, the Odoo client behind the shared rate
limiter, the consumer, the sync worker, the reconciliation and the operator APIs."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
from fastapi import FastAPI

from cauce_crm_sync.consumers import register_consumers
from cauce_crm_sync.mapping import OdooMapping
from cauce_crm_sync.odoo import OdooApi, connect_odoo
from cauce_crm_sync.operator_api import operator_router
from cauce_crm_sync.reports_api import reports_router
from cauce_crm_sync.settings import CrmSyncSettings
from cauce_crm_sync.store.migrations import migrate
from cauce_crm_sync.sync.pusher import RetryPolicy
from cauce_crm_sync.sync.reconciliation import Reconciler, ReconcileSchedule
from cauce_crm_sync.sync.worker import SyncWorker
from cauce_runtime import Backoff, Bus, create_service_app, postgres
from cauce_runtime.postgres import SharedRateLimiter

logger = logging.getLogger(__name__)

#: Name of the Odoo bucket in ``crm.rate_buckets`` (and the limiter metric's label).
ODOO_BUCKET = "odoo"


def mapping_of(settings: CrmSyncSettings) -> OdooMapping:
    return OdooMapping.from_settings(
        settings.odoo_contact_model,
        settings.odoo_state_model,
        settings.odoo_contact_fields,
        settings.odoo_state_fields,
    )


def rate_limited_odoo(
    pool: asyncpg.Pool,
    settings: CrmSyncSettings,
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[OdooApi, Callable[[], Awaitable[None]]]:
    """The Odoo client, every request of which waits for the Odoo bucket shared by
    replicas, and a wait for that bucket's next free slot (reserving nothing)."""
    limiter = SharedRateLimiter(pool, "crm.rate_buckets", headroom=settings.odoo_rate_headroom)
    throttle = functools.partial(limiter.acquire, ODOO_BUCKET, settings.odoo_rate_limit_per_s)
    odoo = connect_odoo(settings, throttle=throttle, transport=transport)
    return odoo, functools.partial(limiter.until_free, ODOO_BUCKET)


def create_app(
    settings: CrmSyncSettings | None = None,
    *,
    odoo_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or CrmSyncSettings()
    pool = postgres.create_pool(
        settings.postgres_url, settings.postgres_pool_size, session_state=True
    )
    odoo, next_free_slot = rate_limited_odoo(pool, settings, odoo_transport)
    mapping = mapping_of(settings)
    worker = SyncWorker(
        pool,
        odoo,
        mapping,
        RetryPolicy(
            settings.sync_max_attempts,
            Backoff.exponential(settings.sync_backoff_base_s, settings.sync_backoff_max_s),
            settings.sync_uncertain_retry_s,
        ),
        batch_size=settings.sync_batch_size,
        lease_s=settings.sync_lease_s,
        idle_poll_s=settings.sync_idle_poll_s,
        before_round=next_free_slot,
    )
    reconciler = Reconciler(pool, odoo, mapping, on_repaired=worker.wake)
    schedule = ReconcileSchedule(reconciler, settings.reconcile_interval_s)
    bus = Bus(settings)
    register_consumers(bus, pool, applied=worker.wake)

    async def open_store() -> None:
        await pool  # asyncpg: awaiting a pool opens it
        applied = await migrate(pool)
        if applied:
            logger.info("crm schema migrated to version %d", max(applied))
        worker.start()
        schedule.start()

    async def stop_worker() -> None:
        await schedule.stop()
        await worker.stop()

    async def close_store() -> None:
        await odoo.aclose()
        await pool.close()

    app = create_service_app(
        settings,
        bus=bus,
        readiness={"postgres": postgres.reachable(pool)},
        routers=(
            reports_router(pool, settings.reports_token),
            operator_router(pool, mapping, reconciler, settings.admin_token, replayed=worker.wake),
        ),
        on_prepare=[open_store],
        on_shutdown=[stop_worker],
        on_closed=[close_store],
        title="cauce crm-sync",
        description=(
            "ManyChat leads, campaign assignments and bot lead states into PostgreSQL and "
            "Odoo, under Odoo's rate limit, with dead letters, reconciliation and reports."
        ),
    )
    app.state.worker = worker
    app.state.reconciler = reconciler
    app.state.pool = pool
    return app
