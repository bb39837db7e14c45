"""``payments.debt_lookups``: one audit row per debt lookup request."""

from __future__ import annotations

import json
import uuid
from typing import Literal

import asyncpg

from cauce_contracts.payments import DebtLookupRequested, VehicleDebt

Outcome = Literal["found", "none", "retrying", "failed"]


class LookupStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(
        self,
        request: DebtLookupRequested,
        outcome: Outcome,
        *,
        debts: tuple[VehicleDebt, ...] = (),
        failure_reason: str | None = None,
        provider_code: str | None = None,
    ) -> None:
        """Insert or update the row of ``request`` (every delivery counts an attempt)."""
        debts_json = json.dumps([debt.model_dump(mode="json") for debt in debts])
        await self._pool.execute(
            """
            INSERT INTO payments.debt_lookups (
                request_id, tenant_id, channel, contact_key, correlation_id, placa,
                outcome, debts, debt_count, total, failure_reason, provider_code)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12)
            ON CONFLICT (request_id) DO UPDATE SET
                outcome = EXCLUDED.outcome,
                debts = EXCLUDED.debts,
                debt_count = EXCLUDED.debt_count,
                total = EXCLUDED.total,
                failure_reason = EXCLUDED.failure_reason,
                provider_code = EXCLUDED.provider_code,
                attempts = payments.debt_lookups.attempts + 1,
                updated_at = now()
            """,
            request.event_id,
            request.tenant_id,
            request.channel.value,
            request.contact_key,
            request.correlation_id,
            request.placa,
            outcome,
            debts_json,
            len(debts),
            sum(debt.total for debt in debts),
            failure_reason,
            provider_code,
        )

    async def outcome(self, request_id: uuid.UUID) -> tuple[str, int] | None:
        """(outcome, attempts) of a lookup, for tests and support."""
        row = await self._pool.fetchrow(
            "SELECT outcome, attempts FROM payments.debt_lookups WHERE request_id = $1",
            request_id,
        )
        return (row["outcome"], row["attempts"]) if row else None
