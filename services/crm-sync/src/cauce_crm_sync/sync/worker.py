"""The sync worker: a background loop of every crm-sync replica that drains pending
records to Odoo under the shared rate limit.

One round: claim up to ``batch_size`` due records (a lease, so replicas never send the
same record at once), read their current data, plan the calls
(:mod:`~cauce_crm_sync.sync.plan`), make them (:mod:`~cauce_crm_sync.sync.pusher`).
Nothing waits for the next event: while a round's calls queue for rate-limit slots,
new changes pile up and the next round sends them together, which is what keeps
throughput far above one event per second.

When Odoo is down the worker pauses, exponentially longer up to ``sync_backoff_max_s``
(or as long as Odoo's ``Retry-After`` says), and releases what it held.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
from opentelemetry.trace import Link, SpanContext, get_current_span

from cauce_crm_sync.mapping import OdooMapping
from cauce_crm_sync.metrics import BACKLOG
from cauce_crm_sync.odoo import OdooApi
from cauce_crm_sync.store.sync_state import SyncRecord, SyncStateStore
from cauce_crm_sync.sync.plan import SyncPlan, plan_sync, source_key
from cauce_crm_sync.sync.pusher import OdooDown, Pusher, RetryPolicy
from cauce_runtime import BackgroundTask, extract_context, get_tracer

logger = logging.getLogger(__name__)

#: Seconds between refreshes of the backlog gauges.
BACKLOG_REFRESH_S = 5.0


def _span_context(traceparent: str) -> SpanContext:
    return get_current_span(extract_context({"traceparent": traceparent})).get_span_context()


@contextlib.contextmanager
def traced_round(records: list[SyncRecord]) -> Iterator[None]:
    """A span for one sync round that continues the trace of its oldest change and links
    the traces of the others: a round sends many events' changes in one Odoo call, so
    each webhook's trace leads to the call that carried it (OpenTelemetry's batch
    pattern: parent + links)."""
    contexts = list(dict.fromkeys(r.trace_context for r in records if r.trace_context))
    parent = extract_context({"traceparent": contexts[0]}) if contexts else None
    others = (_span_context(traceparent) for traceparent in contexts[1:])
    links = [Link(context) for context in others if context.is_valid]
    attributes = {"cauce.crm.sync.records": len(records), "cauce.crm.sync.traces": len(contexts)}
    with get_tracer().start_as_current_span(
        "crm-sync round", context=parent, links=links, attributes=attributes
    ):
        yield


class SyncWorker:
    def __init__(
        self,
        pool: asyncpg.Pool,
        odoo: OdooApi,
        mapping: OdooMapping,
        policy: RetryPolicy,
        *,
        batch_size: int,
        lease_s: float,
        idle_poll_s: float,
        before_round: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.pool = pool
        self.store = SyncStateStore(pool)
        #: Awaited before claiming (the rate limiter's next free slot): what arrives
        #: while a round would only queue for Odoo joins that round instead.
        self.before_round = before_round
        self.mapping = mapping
        self.policy = policy
        self.batch_size = batch_size
        self.lease_s = lease_s
        self.idle_poll_s = idle_poll_s
        self.pusher = Pusher(odoo, self.store, mapping, policy, batch_size=batch_size)
        self.owner = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self._outages = 0
        self._task = BackgroundTask("crm-sync worker")
        self._wake = asyncio.Event()
        #: Until when (``time.monotonic()``) Odoo is left alone after it was found down:
        #: new changes do not wake the worker before then.
        self._resume_at = 0.0

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        self._task.start(self._run())

    async def stop(self) -> None:
        await self._task.stop()

    def wake(self) -> None:
        """Look for pending records now (an event was just applied)."""
        self._wake.set()

    async def refresh_backlog(self) -> None:
        """Update the backlog gauges (``cauce_crm_sync_pending`` & co.)."""
        counts = await self.store.counts()
        BACKLOG.pending, BACKLOG.in_flight, BACKLOG.failed = (
            counts.pending,
            counts.in_flight,
            counts.failed,
        )
        oldest = counts.oldest_pending_since
        BACKLOG.oldest_pending_age_s = (
            max(0.0, (datetime.now(UTC) - oldest).total_seconds()) if oldest else 0.0
        )

    async def _run(self) -> None:
        refreshed = 0.0
        while True:
            try:
                pause = await self.run_round()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug or PostgreSQL down: log it, keep the loop alive
                logger.exception("sync round failed")
                pause = self.policy.delay(1)
            # After a round that did something, or every few seconds when idle.
            if pause != self.idle_poll_s or time.monotonic() - refreshed >= BACKLOG_REFRESH_S:
                refreshed = time.monotonic()
                with contextlib.suppress(Exception):  # gauges must never stop the sync
                    await self.refresh_backlog()
            if pause:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), pause)
            outage_left = self._resume_at - time.monotonic()
            if outage_left > 0:
                # Woken by a new change during an outage pause: sit the pause out. A
                # round now would call Odoo early, and would send the newer changes
                # ahead of the ones given back until the pause ends.
                await asyncio.sleep(outage_left)

    # --- one round -----------------------------------------------------------------------
    async def run_round(self) -> float:
        """Sync one batch; return how long to pause before the next (0: go on)."""
        if self.before_round is not None:
            await self.before_round()
        records = await self.store.claim(self.batch_size, self.owner, self.lease_s)
        if not records:
            return self.idle_poll_s
        with traced_round(records):
            plan = await self._plan(records)
            try:
                await self.pusher.push(plan)
            except OdooDown as down:
                return await self._odoo_down(records, down)
        self._outages = 0
        return 0.0

    async def _plan(self, records: list[SyncRecord]) -> SyncPlan:
        sources: dict[Any, dict[str, Any]] = {}
        contacts = [r for r in records if r.kind == "contact"]
        states = [r for r in records if r.kind == "state"]
        if contacts:
            sources.update(await self.store.load_contacts(contacts))
        if states:
            sources.update(await self.store.load_states(states))
        plan = plan_sync(records, sources, self.mapping)
        missing = [r for r in records if source_key(r) not in sources]
        if missing:
            logger.error("%d sync record(s) without their data", len(missing))
        return plan

    async def _odoo_down(self, records: list[SyncRecord], down: OdooDown) -> float:
        self._outages += 1
        pause = self.policy.delay(self._outages, down.cause.retry_after)
        logger.warning(
            "Odoo unavailable (%s): pausing the sync %.1fs", down.cause.short_name, pause
        )
        # Records settled before Odoo went down are no longer leased by us; the rest are.
        await self.store.release(records, self.owner, delay_s=pause, error=down.cause)
        self._resume_at = time.monotonic() + pause
        return pause
