"""Dead letters: records Odoo rejected (or that ran out of attempts), with Odoo's error.

They stay in ``crm.sync_records`` with ``status='dead'`` until an operator replays them
(``POST /dead-letters/{id}/replay``, ``python -m cauce_crm_sync dead-letters replay``),
typically after fixing the mapping or the data in Odoo, or until a newer change to the
same lead arrives (which makes it pending again by itself). Replaying resets the
attempts; the record is then synced like any pending one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import asyncpg

from cauce_crm_sync.mapping import Kind


@dataclass(frozen=True)
class DeadLetter:
    id: int
    tenant_id: str
    kind: Kind
    record_key: str
    odoo_id: int | None
    error_name: str | None
    error: str | None
    attempts: int
    dead_at: datetime | None
    pending_since: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> DeadLetter:
        return cls(
            id=row["id"],
            tenant_id=row["tenant_id"],
            kind=row["kind"],
            record_key=row["record_key"],
            odoo_id=row["odoo_id"],
            error_name=row["last_error_name"],
            error=row["last_error"],
            attempts=row["attempts"],
            dead_at=row["dead_at"],
            pending_since=row["pending_since"],
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def list_dead(
    pool: asyncpg.Pool,
    *,
    kind: Kind | None = None,
    error_name: str | None = None,
    after_id: int = 0,
    limit: int = 100,
    tenant_id: str | None = None,
) -> list[DeadLetter]:
    """Dead letters oldest first (by id), filtered (``tenant_id`` None: every tenant's);
    page with ``after_id``."""
    rows = await pool.fetch(
        """
        SELECT * FROM crm.sync_records
        WHERE status = 'dead' AND id > $1
          AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR last_error_name = $3)
          AND ($5::text IS NULL OR tenant_id = $5)
        ORDER BY id LIMIT $4
        """,
        after_id,
        kind,
        error_name,
        limit,
        tenant_id,
    )
    return [DeadLetter.from_row(row) for row in rows]


async def get_dead(
    pool: asyncpg.Pool, record_id: int, tenant_id: str | None = None
) -> DeadLetter | None:
    row = await pool.fetchrow(
        "SELECT * FROM crm.sync_records WHERE id = $1 AND status = 'dead'"
        " AND ($2::text IS NULL OR tenant_id = $2)",
        record_id,
        tenant_id,
    )
    return DeadLetter.from_row(row) if row else None


async def replay(
    pool: asyncpg.Pool,
    *,
    ids: list[int] | None = None,
    kind: Kind | None = None,
    error_name: str | None = None,
    tenant_id: str | None = None,
) -> int:
    """Make dead letters pending again (the given ``ids``, or all matching the filters;
    ``tenant_id`` None: every tenant's); return how many."""
    result = await pool.execute(
        """
        UPDATE crm.sync_records SET
            status = 'pending', attempts = 0, next_attempt_at = now(), dead_at = NULL,
            pending_since = COALESCE(pending_since, now()),
            lease_until = NULL, leased_by = NULL
        WHERE status = 'dead'
          AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))
          AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR last_error_name = $3)
          AND ($4::text IS NULL OR tenant_id = $4)
        """,
        ids,
        kind,
        error_name,
        tenant_id,
    )
    return int(result.split()[-1])
