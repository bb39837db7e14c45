"""The sync state of each record toward Odoo (``crm.sync_records``).

One row per record to keep in Odoo: a lead (``kind='contact'``, keyed by its id) or a
state change (``kind='state'``, keyed by its event id). Every change to the record
bumps ``revision``; a sync sends the record as it is *then* and stores the revision it
sent as ``synced_revision``. So changes made while a record waits, or while it is being
sent, are never lost, and any number of them costs one Odoo write (coalescing).

Life of a row: ``pending`` -> claimed by one replica for ``lease`` seconds (``FOR
UPDATE SKIP LOCKED``; a crashed replica's lease just expires) -> ``synced``, or back to
``pending`` with ``next_attempt_at`` after a transient failure, or ``dead`` (a dead
letter, with Odoo's error) when Odoo rejected it or it ran out of attempts. A new change
to a dead record makes it pending again; an operator can replay it too.

``maybe_created`` marks a record whose ``create`` may have reached Odoo without us
learning its id (timeout, crash): it is looked up by key before being created again.

The functions take the pool (or, for :func:`mark_changed`, a connection in the
caller's transaction); :class:`SyncStateStore` is the same over one pool, as an object
the sync worker and pusher are given (and the pusher's unit tests replace).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from cauce_crm_sync.mapping import Kind
from cauce_runtime import inject_headers


@dataclass(frozen=True)
class SyncRecord:
    id: int
    tenant_id: str
    kind: Kind
    record_key: str
    odoo_id: int | None
    revision: int
    leased_revision: int | None
    maybe_created: bool
    attempts: int
    synced_vals: dict[str, Any] | None
    #: ``traceparent`` of the latest change (see :func:`mark_changed`).
    trace_context: str | None = None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> SyncRecord:
        synced = row["synced_vals"]
        return cls(
            id=row["id"],
            tenant_id=row["tenant_id"],
            kind=row["kind"],
            record_key=row["record_key"],
            odoo_id=row["odoo_id"],
            revision=row["revision"],
            leased_revision=row["leased_revision"],
            maybe_created=row["maybe_created"],
            attempts=row["attempts"],
            synced_vals=json.loads(synced) if isinstance(synced, str) else synced,
            trace_context=row["trace_context"],
        )


async def mark_changed(connection: Any, tenant_id: str, kind: Kind, record_key: str) -> None:
    """Record that ``record_key`` changed and must be (re)sent to Odoo, with the trace
    context of the change (the event's trace), for the Odoo call that will send it."""
    await connection.execute(
        """
        INSERT INTO crm.sync_records AS s (tenant_id, kind, record_key, trace_context)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (tenant_id, kind, record_key) DO UPDATE SET
            revision = s.revision + 1,
            trace_context = EXCLUDED.trace_context,
            status = 'pending',
            pending_since = COALESCE(s.pending_since, now()),
            attempts = CASE WHEN s.status = 'dead' THEN 0 ELSE s.attempts END,
            dead_at = NULL,
            next_attempt_at = CASE WHEN s.status = 'dead' THEN now() ELSE s.next_attempt_at END
        """,
        tenant_id,
        kind,
        record_key,
        inject_headers({}).get("traceparent"),
    )


# Due records in the order their changes arrived (by id), not by due time: records given
# back while Odoo was down become due again after the pause, later than changes that
# arrived meanwhile, and a lead's state history then reached Odoo out of order.
_CLAIM = """
UPDATE crm.sync_records AS s
SET lease_until = now() + make_interval(secs => $3), leased_by = $2, leased_revision = s.revision,
    leased_at = now()
WHERE s.id IN (
    SELECT id FROM crm.sync_records
    WHERE status = 'pending' AND next_attempt_at <= now()
      AND (lease_until IS NULL OR lease_until < now())
    ORDER BY id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
RETURNING s.*
"""


async def claim(pool: asyncpg.Pool, limit: int, owner: str, lease_s: float) -> list[SyncRecord]:
    """Lease up to ``limit`` due pending records to ``owner``, oldest change first."""
    rows = await pool.fetch(_CLAIM, limit, owner, lease_s)
    # RETURNING keeps no order: put the changes back in the order they arrived
    return [SyncRecord.from_row(row) for row in sorted(rows, key=lambda row: row["id"])]


async def load_contacts(
    pool: asyncpg.Pool, records: Sequence[SyncRecord]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The current data of the leads behind ``records``, by (tenant, manychat_id)."""
    rows = await pool.fetch(
        """
        SELECT c.* FROM crm.contacts c
        JOIN unnest($1::text[], $2::text[]) AS k(tenant_id, manychat_id)
          ON c.tenant_id = k.tenant_id AND c.manychat_id = k.manychat_id
        """,
        [r.tenant_id for r in records],
        [r.record_key for r in records],
    )
    return {(row["tenant_id"], row["manychat_id"]): dict(row) for row in rows}


async def load_states(
    pool: asyncpg.Pool, records: Sequence[SyncRecord]
) -> dict[str, dict[str, Any]]:
    """The state changes behind ``records``, by event id, in cauce field names."""
    rows = await pool.fetch(
        """
        SELECT event_id, tenant_id, manychat_id, previous_state, new_state AS state,
               changed_at, source
        FROM crm.lead_states WHERE event_id = ANY($1::text[])
        """,
        [r.record_key for r in records],
    )
    return {row["event_id"]: dict(row) for row in rows}


async def mark_synced(
    pool: asyncpg.Pool, synced: Sequence[tuple[SyncRecord, int, dict[str, Any]]]
) -> None:
    """Record a successful sync: ``(record, odoo_id, vals now in Odoo)`` each.

    A record changed since it was claimed stays pending (its newer revision is due now).
    """
    if not synced:
        return
    await pool.execute(
        """
        UPDATE crm.sync_records AS s SET
            odoo_id = u.odoo_id,
            synced_revision = s.leased_revision,
            synced_vals = COALESCE(s.synced_vals, '{}'::jsonb) || u.vals::jsonb,
            status = CASE WHEN s.revision = s.leased_revision THEN 'synced' ELSE 'pending' END,
            -- still pending: its newer change came after the claim (an upper bound)
            pending_since = CASE WHEN s.revision = s.leased_revision THEN NULL
                                 ELSE s.leased_at END,
            attempts = 0, next_attempt_at = now(), maybe_created = false,
            lease_until = NULL, leased_by = NULL,
            last_error_name = NULL, last_error = NULL, synced_at = now()
        FROM unnest($1::bigint[], $2::int[], $3::text[]) AS u(id, odoo_id, vals)
        WHERE s.id = u.id
        """,
        [record.id for record, _, _ in synced],
        [odoo_id for _, odoo_id, _ in synced],
        [json.dumps(vals, default=str) for _, _, vals in synced],
    )


async def mark_retry(
    pool: asyncpg.Pool,
    records: Sequence[SyncRecord],
    *,
    delay_s: float,
    error_name: str,
    error: str,
    count_attempt: bool,
    maybe_created: bool = False,
) -> None:
    """Release ``records`` to be retried in ``delay_s``; ``count_attempt`` consumes one of
    their attempts (an outage of Odoo as a whole does not)."""
    await pool.execute(
        """
        UPDATE crm.sync_records SET
            attempts = attempts + $2::int,
            next_attempt_at = now() + make_interval(secs => $3),
            lease_until = NULL, leased_by = NULL,
            maybe_created = maybe_created OR ($6 AND odoo_id IS NULL),
            last_error_name = $4, last_error = $5
        WHERE id = ANY($1::bigint[])
        """,
        [record.id for record in records],
        1 if count_attempt else 0,
        delay_s,
        error_name,
        error,
        maybe_created,
    )


async def mark_dead(
    pool: asyncpg.Pool, records: Sequence[SyncRecord], *, error_name: str, error: str
) -> None:
    """Dead-letter ``records`` with Odoo's error (kept until replayed or changed)."""
    await pool.execute(
        """
        UPDATE crm.sync_records SET
            status = 'dead', dead_at = now(), attempts = attempts + 1,
            lease_until = NULL, leased_by = NULL,
            last_error_name = $2, last_error = $3
        WHERE id = ANY($1::bigint[])
        """,
        [record.id for record in records],
        error_name,
        error,
    )


async def release(
    pool: asyncpg.Pool,
    records: Sequence[SyncRecord],
    owner: str,
    *,
    delay_s: float,
    error: Exception,
) -> None:
    """Give back the ``records`` ``owner`` still holds, due again in ``delay_s``, without
    using up an attempt (Odoo was down: nothing is wrong with them)."""
    await pool.execute(
        """
        UPDATE crm.sync_records SET
            lease_until = NULL, leased_by = NULL,
            next_attempt_at = now() + make_interval(secs => $3),
            last_error_name = $4, last_error = $5
        WHERE id = ANY($1::bigint[]) AND leased_by = $2
        """,
        [record.id for record in records],
        owner,
        delay_s,
        getattr(error, "short_name", type(error).__name__),
        str(error)[:1000],
    )


async def forget_odoo_id(pool: asyncpg.Pool, record: SyncRecord) -> None:
    """The Odoo record is gone (deleted behind our back): create it again."""
    await pool.execute(
        """
        UPDATE crm.sync_records SET odoo_id = NULL, synced_vals = NULL,
            next_attempt_at = now(), lease_until = NULL, leased_by = NULL
        WHERE id = $1
        """,
        record.id,
    )


async def mark_drifted(pool: asyncpg.Pool, kind: Kind, odoo_ids: Sequence[int]) -> int:
    """Records whose Odoo copy differs from ours: send them again (in full)."""
    result = await pool.execute(
        """
        UPDATE crm.sync_records SET
            revision = revision + 1, status = 'pending', synced_vals = NULL,
            pending_since = COALESCE(pending_since, now()), next_attempt_at = now()
        WHERE kind = $1 AND odoo_id = ANY($2::int[]) AND status = 'synced'
        """,
        kind,
        list(odoo_ids),
    )
    return int(result.split()[-1])


async def mark_missing(pool: asyncpg.Pool, kind: Kind, odoo_ids: Sequence[int]) -> int:
    """Records deleted from Odoo behind our back: create them again."""
    result = await pool.execute(
        """
        UPDATE crm.sync_records SET
            odoo_id = NULL, synced_vals = NULL, revision = revision + 1, status = 'pending',
            pending_since = COALESCE(pending_since, now()), next_attempt_at = now()
        WHERE kind = $1 AND odoo_id = ANY($2::int[]) AND status <> 'dead'
        """,
        kind,
        list(odoo_ids),
    )
    return int(result.split()[-1])


@dataclass(frozen=True)
class SyncCounts:
    pending: int
    in_flight: int
    failed: int
    synced: int
    oldest_pending_since: datetime | None


async def counts(pool: asyncpg.Pool, kind: Kind | None = None) -> SyncCounts:
    row = await pool.fetchrow(
        """
        SELECT
          count(*) FILTER (WHERE status = 'pending'
                           AND (lease_until IS NULL OR lease_until < now())) AS pending,
          count(*) FILTER (WHERE status = 'pending' AND lease_until >= now()) AS in_flight,
          count(*) FILTER (WHERE status = 'dead') AS failed,
          count(*) FILTER (WHERE status = 'synced') AS synced,
          min(pending_since) FILTER (WHERE status = 'pending') AS oldest
        FROM crm.sync_records WHERE $1::text IS NULL OR kind = $1
        """,
        kind,
    )
    return SyncCounts(
        pending=row["pending"],
        in_flight=row["in_flight"],
        failed=row["failed"],
        synced=row["synced"],
        oldest_pending_since=row["oldest"],
    )


class SyncStateStore:
    """The sync state of one pool: this module's functions as methods (the sync
    worker's and the pusher's store; see the functions for what each does)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def claim(self, limit: int, owner: str, lease_s: float) -> list[SyncRecord]:
        return await claim(self.pool, limit, owner, lease_s)

    async def load_contacts(
        self, records: Sequence[SyncRecord]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        return await load_contacts(self.pool, records)

    async def load_states(self, records: Sequence[SyncRecord]) -> dict[str, dict[str, Any]]:
        return await load_states(self.pool, records)

    async def mark_synced(self, synced: Sequence[tuple[SyncRecord, int, dict[str, Any]]]) -> None:
        await mark_synced(self.pool, synced)

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
        await mark_retry(
            self.pool,
            records,
            delay_s=delay_s,
            error_name=error_name,
            error=error,
            count_attempt=count_attempt,
            maybe_created=maybe_created,
        )

    async def mark_dead(
        self, records: Sequence[SyncRecord], *, error_name: str, error: str
    ) -> None:
        await mark_dead(self.pool, records, error_name=error_name, error=error)

    async def release(
        self, records: Sequence[SyncRecord], owner: str, *, delay_s: float, error: Exception
    ) -> None:
        await release(self.pool, records, owner, delay_s=delay_s, error=error)

    async def forget_odoo_id(self, record: SyncRecord) -> None:
        await forget_odoo_id(self.pool, record)

    async def counts(self, kind: Kind | None = None) -> SyncCounts:
        return await counts(self.pool, kind)
