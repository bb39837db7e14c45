"""Reconciliation: Odoo's changes that no webhook brought, and Odoo's drift repaired.

Sales people edit leads in Odoo's UI; automations write; records get deleted. A run:

1. reads, per model, the Odoo records written since the previous run's checkpoint
   (``write_date``; everything on the first run). A lead goes through the same apply as
   Odoo's webhook (:mod:`cauce_crm_sync.sync.odoo_changes`): the fields Odoo owns, and
   the shared ones Odoo changed last, are taken into PostgreSQL; the fields cauce owns
   are repaired. A state record (``manychat.state``, cauce's history) that differs from
   ours is rewritten in full by the sync worker;
2. asks Odoo which of our Odoo ids still exist (``search`` on ``id in [...]``, a page
   at a time); a record deleted in Odoo is created again.

Records still pending in PostgreSQL are skipped (the worker sends them anyway), and
Odoo records cauce never created are left alone. Every call goes through the same rate
limiter as the sync, so a run slows the sync down but never exceeds Odoo's limit. Only
one replica runs at a time (a PostgreSQL advisory lock); the others skip.

It runs every ``CAUCE_RECONCILE_INTERVAL_S`` and on demand (``POST /reconciliations``,
``python -m cauce_crm_sync reconcile``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import asyncpg

from cauce_crm_sync.mapping import Kind, OdooMapping
from cauce_crm_sync.metrics import record_conflicts
from cauce_crm_sync.odoo import OdooApi, OdooError, OdooUnavailable
from cauce_crm_sync.store import sync_state as store
from cauce_crm_sync.store.sync_state import SyncRecord
from cauce_crm_sync.sync.odoo_changes import OdooChange, OdooChanges, odoo_datetime
from cauce_crm_sync.sync.plan import source_key
from cauce_runtime import BackgroundTask, Backoff, TransientError

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: ``pg_try_advisory_lock`` key owned by the reconciliation ("cauce:rc").
LOCK_KEY = int.from_bytes(b"cauce:rc", "big", signed=True)
KINDS: tuple[Kind, ...] = ("contact", "state")
#: Tries of one Odoo call while Odoo is unavailable (others share its rate limit too,
#: so an occasional 429 is normal) before the run stops and reports the error.
CALL_TRIES = 5
#: Waits between those tries (Odoo's ``Retry-After`` instead, when it sends one).
CALL_BACKOFF = Backoff.exponential(1.0, 30.0)


async def patiently(call: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """``call(*args, **kwargs)``, retried while Odoo is unavailable; other errors
    propagate at once."""
    for attempt in range(1, CALL_TRIES + 1):
        try:
            return await call(*args, **kwargs)
        except OdooUnavailable as error:
            if attempt == CALL_TRIES:
                raise
            await asyncio.sleep(CALL_BACKOFF.delay(attempt, error.retry_after))
    raise AssertionError("unreachable: the last try returns or raises")


@dataclass(frozen=True)
class Reconciliation:
    id: int
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    checked: int
    repaired: int
    recreated: int
    #: Fields taken from Odoo (Odoo-owned, or shared ones Odoo changed last).
    pulled: int
    odoo_checkpoint: str | None
    error: str | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Reconciliation:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


class AlreadyRunning(Exception):
    """Another replica (or request) is reconciling right now."""


class Reconciler:
    def __init__(
        self,
        pool: asyncpg.Pool,
        odoo: OdooApi,
        mapping: OdooMapping,
        *,
        page_size: int = 500,
        on_repaired: Callable[[], None] | None = None,
        changes: OdooChanges | None = None,
    ) -> None:
        self.pool = pool
        self.odoo = odoo
        self.mapping = mapping
        self.page_size = page_size
        self.on_repaired = on_repaired
        #: Odoo's changes to leads, applied by field owner (None: every difference is
        #: repaired, as before cauce synced both ways).
        self.changes = changes

    async def run(self, trigger: str) -> Reconciliation:
        """Reconcile now; raises :class:`AlreadyRunning` when a run is in progress."""
        async with self.pool.acquire() as lock:
            if not await lock.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
                raise AlreadyRunning("a reconciliation is already running")
            try:
                return await self._run(trigger)
            finally:
                await lock.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)

    async def is_running(self) -> bool:
        """Whether a run holds the lock now (on any replica)."""
        async with self.pool.acquire() as connection:
            if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
                return True
            await connection.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
            return False

    async def _run(self, trigger: str) -> Reconciliation:
        since = await self.pool.fetchval(
            """
            SELECT odoo_checkpoint FROM crm.reconciliations
            WHERE finished_at IS NOT NULL AND error IS NULL ORDER BY id DESC LIMIT 1
            """
        )
        run_id = await self.pool.fetchval(
            "INSERT INTO crm.reconciliations (trigger) VALUES ($1) RETURNING id", trigger
        )
        checked = repaired = recreated = pulled = 0
        checkpoint = since
        error: str | None = None
        try:
            for kind in KINDS:
                if kind == "contact" and self.changes is not None:
                    seen, fixed, taken, newest = await self._pull(self.changes, since)
                    repaired += fixed
                    pulled += taken
                else:
                    seen, drifted, newest = await self._drift(kind, since)
                    repaired += await store.mark_drifted(self.pool, kind, drifted)
                checked += seen
                checkpoint = max(filter(None, (checkpoint, newest)), default=None)
                recreated += await store.mark_missing(self.pool, kind, await self._missing(kind))
        except OdooError as failure:
            error = str(failure)
            logger.warning("reconciliation stopped: %s", failure)
        row = await self.pool.fetchrow(
            """
            UPDATE crm.reconciliations SET finished_at = now(), checked = $2, repaired = $3,
                recreated = $4, odoo_checkpoint = $5, error = $6, pulled = $7
            WHERE id = $1 RETURNING *
            """,
            run_id,
            checked,
            repaired,
            recreated,
            checkpoint if error is None else since,
            error,
            pulled,
        )
        if (repaired or recreated or pulled) and self.on_repaired is not None:
            self.on_repaired()
        logger.info(
            "reconciliation %s: %d checked, %d repaired, %d recreated, %d pulled",
            run_id,
            checked,
            repaired,
            recreated,
            pulled,
        )
        return Reconciliation.from_row(row)

    async def _pull(
        self, changes: OdooChanges, since: str | None
    ) -> tuple[int, int, int, str | None]:
        """Leads written in Odoo since ``since``, each applied by field owner: (how many
        were ours, how many were repaired, fields taken from Odoo, newest write_date)."""
        checked = repaired = pulled = 0
        newest = since
        domain: list[Any] = [["write_date", ">=", since]] if since else []
        offset = 0
        while True:
            page = await patiently(
                self.odoo.search_read,
                self.mapping.contact.model,
                domain,
                changes.fields,
                limit=self.page_size,
                offset=offset,
                order="write_date asc, id asc",
            )
            for row in page:
                newest = max(filter(None, (newest, row.get("write_date") or None)), default=None)
                written = odoo_datetime(row.get("write_date"))
                if written is None:
                    continue
                try:
                    applied = await changes.apply(
                        OdooChange(int(row["id"]), row, written, path="reconciliation")
                    )
                except TransientError:
                    continue  # being written by cauce now: its write shows up next round
                if applied.known:
                    checked += 1
                    repaired += 1 if applied.repaired else 0
                    pulled += len(applied.pulled)
                    record_conflicts(applied, "reconciliation")
            if len(page) < self.page_size:
                return checked, repaired, pulled, newest
            offset += self.page_size

    async def _drift(self, kind: Kind, since: str | None) -> tuple[int, list[int], str | None]:
        """Odoo records of ``kind`` written since ``since`` whose data differs from ours:
        (how many were checked, their Odoo ids, the newest ``write_date`` seen)."""
        model = self.mapping.by_kind[kind]
        fields = [*model.fields.values(), "write_date"]
        domain: list[Any] = [["write_date", ">=", since]] if since else []
        checked, drifted, newest = 0, [], since
        offset = 0
        while True:
            page = await patiently(
                self.odoo.search_read,
                model.model,
                domain,
                fields,
                limit=self.page_size,
                offset=offset,
                order="write_date asc, id asc",
            )
            ours = await self._ours(kind, [int(row["id"]) for row in page])
            for row in page:
                newest = max(filter(None, (newest, row.get("write_date") or None)), default=None)
                expected = ours.get(int(row["id"]))
                if expected is None:
                    continue
                checked += 1
                if _differs(expected, row, model.fields.values()):
                    drifted.append(int(row["id"]))
            if len(page) < self.page_size:
                return checked, drifted, newest
            offset += self.page_size

    async def _ours(self, kind: Kind, odoo_ids: list[int]) -> dict[int, dict[str, Any]]:
        """What we would send now for the synced records behind ``odoo_ids``."""
        rows = await self.pool.fetch(
            """
            SELECT * FROM crm.sync_records
            WHERE kind = $1 AND odoo_id = ANY($2::int[]) AND status = 'synced'
            """,
            kind,
            odoo_ids,
        )
        records = [SyncRecord.from_row(row) for row in rows]
        if kind == "contact":
            sources: dict[Any, dict[str, Any]] = dict(await store.load_contacts(self.pool, records))
        else:
            sources = dict(await store.load_states(self.pool, records))
        model = self.mapping.by_kind[kind]
        return {
            record.odoo_id or 0: model.vals(sources[source_key(record)])
            for record in records
            if source_key(record) in sources
        }

    async def _missing(self, kind: Kind) -> list[int]:
        """Our Odoo ids of ``kind`` that Odoo no longer has."""
        model = self.mapping.by_kind[kind].model
        missing: list[int] = []
        after = 0
        while True:
            ids = [
                row["odoo_id"]
                for row in await self.pool.fetch(
                    """
                    SELECT odoo_id FROM crm.sync_records
                    WHERE kind = $1 AND odoo_id > $2 AND status <> 'dead'
                    ORDER BY odoo_id LIMIT $3
                    """,
                    kind,
                    after,
                    self.page_size * 2,
                )
            ]
            if not ids:
                return missing
            present = set(await patiently(self.odoo.search, model, [["id", "in", ids]]))
            missing.extend(i for i in ids if i not in present)
            after = ids[-1]


def _differs(expected: dict[str, Any], odoo_row: dict[str, Any], fields: Any) -> bool:
    """Whether Odoo's copy differs from ``expected`` on any mapped field (Odoo's
    ``False`` is an empty value)."""
    for name in fields:
        theirs = odoo_row.get(name)
        theirs = None if theirs is False or theirs == "" else theirs
        if theirs != expected.get(name):
            return True
    return False


class ReconcileSchedule:
    """Runs the reconciliation every ``interval_s`` in the background (0: never)."""

    def __init__(self, reconciler: Reconciler, interval_s: float) -> None:
        self.reconciler = reconciler
        self.interval_s = interval_s
        self._task = BackgroundTask("crm-sync reconcile schedule")

    def start(self) -> None:
        if self.interval_s > 0:
            self._task.start(self._loop())

    async def stop(self) -> None:
        await self._task.stop()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.reconciler.run("schedule")
            except AlreadyRunning:
                logger.info("scheduled reconciliation skipped: another one is running")
            except Exception:  # keep the schedule alive; the next run tries again
                logger.exception("scheduled reconciliation failed")
