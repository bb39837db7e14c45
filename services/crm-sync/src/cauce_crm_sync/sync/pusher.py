"""Carry out a :class:`~cauce_crm_sync.sync.plan.SyncPlan` against Odoo and record
each record's outcome in PostgreSQL.

Failures, per call:

- :class:`~cauce_crm_sync.odoo.OdooRejected` (bad data): a call for one record
  dead-letters it with Odoo's error; a call for several is split in halves until the
  culprits are alone, so one bad lead never holds back 199 good ones (a batch
  ``create`` is one transaction at Odoo: all or nothing). A ``MissingError`` on a
  write means the record was deleted in Odoo: it is created again.
- :class:`~cauce_crm_sync.odoo.OdooUnavailable` while Odoo as a whole is down
  (unreachable, 429, 502/503/504, credentials refused) raises
  :class:`OdooDown`: the worker pauses and every record still claimed is released
  *without* using up an attempt, so a long outage dead-letters nothing.
- any other :class:`~cauce_crm_sync.odoo.OdooUnavailable` (a 500, a timeout) uses up
  one attempt of those records and retries them after the policy's
  :class:`~cauce_runtime.Backoff`; after ``max_attempts`` they are dead-lettered with
  the last error.

Outcomes are recorded through :class:`SyncOutcomes` (implemented by
:class:`~cauce_crm_sync.store.sync_state.SyncStateStore`), Odoo is an
:class:`~cauce_crm_sync.odoo.OdooApi`: the unit tests run the pusher on in-memory ones.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from cauce_crm_sync.mapping import Kind, OdooMapping
from cauce_crm_sync.odoo import (
    OdooApi,
    OdooCredentialsRejected,
    OdooError,
    OdooRejected,
    OdooUnavailable,
    Vals,
)
from cauce_crm_sync.store.sync_state import SyncRecord
from cauce_crm_sync.sync.plan import Item, SyncPlan
from cauce_runtime import Backoff

logger = logging.getLogger(__name__)

#: Statuses that mean "Odoo (or the way to it) is down", not "this call failed".
OUTAGE_STATUSES = frozenset({429, 502, 503, 504})


class OdooDown(Exception):
    """Odoo is unavailable as a whole; carries the error that said so."""

    def __init__(self, cause: OdooUnavailable) -> None:
        super().__init__(str(cause))
        self.cause = cause


def is_outage(error: OdooUnavailable) -> bool:
    """Odoo as a whole is down: our credentials refused, a front-door status, or Odoo
    not reachable at all (nothing was sent)."""
    unreachable = isinstance(error.__cause__, httpx.RequestError) and not error.outcome_unknown
    return (
        isinstance(error, OdooCredentialsRejected)
        or error.http_status in OUTAGE_STATUSES
        or unreachable
    )


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    #: Spacing of a record's attempts (also of the pauses while Odoo is down).
    backoff: Backoff
    #: Least wait after a create that may have happened (see the settings).
    uncertain_s: float = 0.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before attempt ``attempt + 1`` (``retry_after``: Odoo's own ask)."""
        return self.backoff.delay(attempt, retry_after)


#: Sends some items to Odoo in one call; returns their Odoo ids in order.
Call = Callable[[list[Item]], Awaitable[list[int]]]


class SyncOutcomes(Protocol):
    """Where the pusher records each record's outcome (the sync state's rules, in
    :mod:`cauce_crm_sync.store.sync_state`); every method releases the records' lease."""

    async def mark_synced(self, synced: Sequence[tuple[SyncRecord, int, Vals]]) -> None:
        """``(record, odoo_id, vals now in Odoo)`` each: synced at the revision leased
        (still pending when it changed since), attempts and ``maybe_created`` reset."""
        ...

    async def mark_retry(
        self,
        records: Sequence[SyncRecord],
        *,
        delay_s: float,
        error_name: str,
        error: str,
        count_attempt: bool,
        maybe_created: bool = False,
    ) -> None:
        """Due again in ``delay_s``; ``count_attempt`` uses up one attempt;
        ``maybe_created`` marks a record without Odoo id to be looked up first."""
        ...

    async def mark_dead(
        self, records: Sequence[SyncRecord], *, error_name: str, error: str
    ) -> None:
        """Dead-letter the records with Odoo's error."""
        ...

    async def forget_odoo_id(self, record: SyncRecord) -> None:
        """The Odoo record is gone: drop its id (and what it held) to create it again."""
        ...


class Pusher:
    def __init__(
        self,
        odoo: OdooApi,
        store: SyncOutcomes,
        mapping: OdooMapping,
        policy: RetryPolicy,
        *,
        batch_size: int,
    ) -> None:
        self.odoo = odoo
        self.batch_size = batch_size
        self.store = store
        self.mapping = mapping
        self.policy = policy

    async def push(self, plan: SyncPlan) -> None:
        """Send everything in ``plan``; raises :class:`OdooDown` as soon as Odoo is down
        (records not settled by then are still leased: the caller releases them)."""
        if plan.orphans:
            await self.store.mark_dead(
                plan.orphans,
                error_name="MissingSource",
                error="the record's data is no longer in PostgreSQL",
            )
        await self.store.mark_synced(
            [(record, record.odoo_id or 0, vals) for record, vals in plan.in_step]
        )
        for kind, items in plan.lookups.items():
            await self._adopt_or_create(kind, items)
        for kind, items in plan.creates.items():
            await self._create(kind, items)
        for kind, groups in plan.writes.items():
            for group in groups:
                await self._write(kind, group)
        for kind, items in plan.updates.items():
            for start in range(0, len(items), self.batch_size):
                await self._update(kind, items[start : start + self.batch_size], plan.full)

    async def _create(self, kind: Kind, items: list[Item]) -> None:
        model = self.mapping.by_kind[kind].model

        async def create(chunk: list[Item]) -> list[int]:
            return await self.odoo.create(model, [vals for _, vals in chunk])

        for start in range(0, len(items), self.batch_size):
            await self._settle(items[start : start + self.batch_size], create, creating=True)

    async def _adopt_or_create(self, kind: Kind, items: list[Item]) -> None:
        """Records whose create may have reached Odoo: take the existing Odoo record
        when there is one (and write our data to it), create the others."""
        key_field = self.mapping.key_field(kind)
        existing: dict[str, int] = {}

        async def lookup(chunk: list[Item]) -> list[int]:
            rows = await self.odoo.search_read(
                self.mapping.by_kind[kind].model,
                [[key_field, "in", [record.record_key for record, _ in chunk]]],
                [key_field],
                order="id asc",
            )
            found: dict[str, int] = {}
            for row in rows:
                found.setdefault(str(row[key_field]), int(row["id"]))
            existing.update(found)
            return []

        if not await self._attempt(items, lookup, creating=False, settle=False):
            return
        adopted = [(record, vals) for record, vals in items if record.record_key in existing]
        for record, vals in adopted:
            await self._write(kind, [(record, vals)], odoo_id=existing[record.record_key])
        fresh = [(record, vals) for record, vals in items if record.record_key not in existing]
        if fresh:
            await self._create(kind, fresh)
        if adopted:
            logger.info("adopted %d %s record(s) created by an earlier attempt", len(adopted), kind)

    async def _write(self, kind: Kind, group: list[Item], odoo_id: int | None = None) -> None:
        model = self.mapping.by_kind[kind].model
        vals = group[0][1]

        async def write(chunk: list[Item]) -> list[int]:
            ids = [odoo_id or record.odoo_id or 0 for record, _ in chunk]
            await self.odoo.write(model, ids, vals)
            return ids

        await self._settle(group, write, creating=False)

    async def _update(self, kind: Kind, items: list[Item], full: dict[int, Vals]) -> None:
        """Records with their own changes: one ``load`` for all of them (a ``write`` for
        one). A rejected ``load`` is split like a rejected batch create; a record left
        alone goes through ``write``, whose error names the problem precisely."""
        if len(items) == 1:
            await self._write(kind, items)
            return
        model = self.mapping.by_kind[kind].model
        fields = sorted({name for _, vals in items for name in vals})
        rows = [(record, {f: full[record.id].get(f, False) for f in fields}) for record, _ in items]

        async def load(chunk: list[Item]) -> list[int]:
            data = [[str(r.odoo_id), *(_import_value(v[f]) for f in fields)] for r, v in chunk]
            await self.odoo.load(model, [".id", *fields], data)
            return [record.odoo_id or 0 for record, _ in chunk]

        async def split(half: list[Item]) -> None:
            await self._update(kind, half, full)

        await self._attempt(rows, load, creating=False, settle=True, split=split)

    async def _settle(self, items: list[Item], call: Call, *, creating: bool) -> None:
        await self._attempt(items, call, creating=creating, settle=True)

    async def _attempt(
        self,
        items: list[Item],
        call: Call,
        *,
        creating: bool,
        settle: bool,
        split: Callable[[list[Item]], Awaitable[None]] | None = None,
    ) -> bool:
        """Make ``call`` for ``items`` and record the outcome; ``True`` on success."""
        records = [record for record, _ in items]
        try:
            ids = await call(items)
        except OdooRejected as error:
            await self._rejected(items, call, error, creating=creating, settle=settle, split=split)
            return False
        except OdooUnavailable as error:
            if is_outage(error):
                raise OdooDown(error) from error
            await self._failed(records, error, maybe_created=creating and error.outcome_unknown)
            return False
        if settle:
            await self.store.mark_synced(
                [
                    (record, odoo_id, vals)
                    for (record, vals), odoo_id in zip(items, ids, strict=True)
                ],
            )
        return True

    async def _rejected(
        self,
        items: list[Item],
        call: Call,
        error: OdooRejected,
        *,
        creating: bool,
        settle: bool,
        split: Callable[[list[Item]], Awaitable[None]] | None,
    ) -> None:
        if len(items) > 1:
            middle = len(items) // 2
            for half in (items[:middle], items[middle:]):
                if split is not None:
                    await split(half)
                else:
                    await self._attempt(half, call, creating=creating, settle=settle)
            return
        record = items[0][0]
        if not creating and error.short_name == "MissingError" and record.odoo_id is not None:
            logger.warning(
                "%s record %s was deleted in Odoo: creating it again", record.kind, record.odoo_id
            )
            await self.store.forget_odoo_id(record)
            return
        logger.warning(
            "Odoo rejected a %s record (%s): dead-lettered", record.kind, error.short_name
        )
        await self.store.mark_dead([record], error_name=error.short_name, error=_text(error))

    async def _failed(
        self, records: Sequence[SyncRecord], error: OdooError, *, maybe_created: bool
    ) -> None:
        exhausted = [r for r in records if r.attempts + 1 >= self.policy.max_attempts]
        again = [r for r in records if r.attempts + 1 < self.policy.max_attempts]
        if exhausted:
            await self.store.mark_dead(
                exhausted,
                error_name=error.short_name,
                error=f"max attempts ({self.policy.max_attempts}) exhausted: {_text(error)}",
            )
        if again:
            attempt = max(r.attempts for r in again) + 1
            delay = self.policy.delay(attempt)
            await self.store.mark_retry(
                again,
                delay_s=max(delay, self.policy.uncertain_s) if maybe_created else delay,
                error_name=error.short_name,
                error=_text(error),
                count_attempt=True,
                maybe_created=maybe_created,
            )


def _import_value(value: Any) -> str:
    """A value as Odoo's import takes it: text, ``""`` for empty."""
    if value is None or value is False:
        return ""
    return str(value)


def _text(error: OdooError) -> str:
    """Odoo's message, bounded (it may quote a value; it is for the operator)."""
    return error.message[:1000]
