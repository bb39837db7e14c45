"""crm-sync's bootstrap object: settings, bus, PostgreSQL pool, the Odoo client behind
the shared rate limiter, the sync worker and the reconciliation, built once at start
(:meth:`CrmSync.build`); the operator and reports APIs reach it as :data:`CrmSyncDep`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

import asyncpg
import httpx
from fastapi import Depends

from cauce_contracts.crm import LeadStateChanged
from cauce_contracts.registry import subject_of
from cauce_crm_sync.mapping import ContactOwnership, OdooMapping
from cauce_crm_sync.odoo import OdooApi, connect_odoo
from cauce_crm_sync.settings import CrmSyncSettings
from cauce_crm_sync.store.migrations import migrate
from cauce_crm_sync.sync.odoo_changes import OdooChanges
from cauce_crm_sync.sync.pusher import RetryPolicy
from cauce_crm_sync.sync.reconciliation import Reconciler, ReconcileSchedule, Reconciliation
from cauce_crm_sync.sync.worker import SyncWorker
from cauce_runtime import Backoff, Bus, postgres, wired
from cauce_runtime.postgres import SharedRateLimiter

logger = logging.getLogger(__name__)

#: Name of the Odoo bucket in ``crm.rate_buckets`` (and the limiter metric's label).
ODOO_BUCKET = "odoo"


@dataclass
class CrmSync:
    settings: CrmSyncSettings
    bus: Bus
    #: Opened (and migrated) by :meth:`open`, before the bus starts.
    pool: asyncpg.Pool
    odoo: OdooApi
    mapping: OdooMapping
    worker: SyncWorker
    #: Odoo's changes to leads (its webhook, the reconciliation), applied by field owner.
    changes: OdooChanges
    reconciler: Reconciler
    schedule: ReconcileSchedule
    #: Reconciliations started through the operator API and still running here.
    reconciliations: set[asyncio.Task[Reconciliation]] = field(default_factory=set)

    @classmethod
    def build(
        cls,
        settings: CrmSyncSettings,
        *,
        odoo_transport: httpx.AsyncBaseTransport | None = None,
        bus: Bus | None = None,
    ) -> CrmSync:
        """Everything built, nothing connected yet (asyncpg returns the pool unopened)."""
        pool = postgres.create_pool(
            settings.postgres_url, settings.postgres_pool_size, session_state=True
        )
        odoo, next_free_slot = rate_limited_odoo(pool, settings, odoo_transport)
        mapping = mapping_of(settings)
        worker = SyncWorker(
            pool,
            odoo,
            mapping,
            retry_policy_of(settings),
            batch_size=settings.sync_batch_size,
            lease_s=settings.sync_lease_s,
            idle_poll_s=settings.sync_idle_poll_s,
            before_round=next_free_slot,
        )
        bus = bus or Bus(settings)

        async def publish_state(event: LeadStateChanged) -> None:
            await bus.publish(event, subject_of(event))

        changes = OdooChanges(pool, mapping, ownership_of(settings), publish_state)
        reconciler = Reconciler(pool, odoo, mapping, on_repaired=worker.wake, changes=changes)
        return cls(
            settings=settings,
            bus=bus,
            pool=pool,
            odoo=odoo,
            mapping=mapping,
            worker=worker,
            changes=changes,
            reconciler=reconciler,
            schedule=ReconcileSchedule(reconciler, settings.reconcile_interval_s),
        )

    async def open(self) -> None:
        """Before the bus starts: the pool open, the schema migrated, the sync worker and
        the reconciliation schedule running."""
        await self.pool  # asyncpg: awaiting a pool opens it
        applied = await migrate(self.pool)
        if applied:
            logger.info("crm schema migrated to version %d", max(applied))
        self.worker.start()
        self.schedule.start()

    async def stop(self) -> None:
        """Before the bus stops: the schedule and the worker stopped."""
        await self.schedule.stop()
        await self.worker.stop()

    async def close(self) -> None:
        """After the bus stopped and its consumer finished."""
        await self.odoo.aclose()
        await self.pool.close()

    async def reconcile_in_background(self) -> bool:
        """Start a reconciliation, unless one is running (here or in another replica)."""
        if self.reconciliations or await self.reconciler.is_running():
            return False
        task = asyncio.create_task(self.reconciler.run("api"))
        self.reconciliations.add(task)
        task.add_done_callback(self.reconciliations.discard)
        return True


#: What an operator or reports route (or a guard) takes to reach crm-sync wired at start.
CrmSyncDep = Annotated[CrmSync, Depends(wired(CrmSync))]


def mapping_of(settings: CrmSyncSettings) -> OdooMapping:
    return OdooMapping.from_settings(
        settings.odoo_contact_model,
        settings.odoo_state_model,
        settings.odoo_contact_fields,
        settings.odoo_state_fields,
    )


def ownership_of(settings: CrmSyncSettings) -> ContactOwnership:
    return ContactOwnership.build(
        settings.odoo_contact_shared_fields, settings.odoo_contact_odoo_fields
    )


def retry_policy_of(settings: CrmSyncSettings) -> RetryPolicy:
    return RetryPolicy(
        settings.sync_max_attempts,
        Backoff.exponential(settings.sync_backoff_base_s, settings.sync_backoff_max_s),
        settings.sync_uncertain_retry_s,
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
