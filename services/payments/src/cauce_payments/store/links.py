"""``payments.link_requests``: the idempotency record of payment links.

A request first *claims* its row (:meth:`LinkStore.claim`); only a claim of kind
``call`` may call SCI's CrearTransaccion, and the row stays ``calling`` (with a lease)
until the outcome is recorded. See :mod:`cauce_payments.payment_links` for why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import asyncpg

from cauce_contracts.payments import PaymentLinkRequested, TransactionStatus
from cauce_payments.sci_total import CreatedTransaction


class ClaimKind(StrEnum):
    #: The caller holds the row: it may call SCI once.
    CALL = "call"
    #: SCI already created the transaction: answer with it.
    CREATED = "created"
    #: SCI may have created one we never heard of: do not call again.
    UNCERTAIN = "uncertain"
    #: Another worker is calling SCI for this key right now.
    BUSY = "busy"
    #: The key was used before for different items or amount.
    CONFLICT = "conflict"


@dataclass(frozen=True)
class LinkRecord:
    """A row of ``payments.link_requests`` (the parts the service reads)."""

    tenant_id: str
    request_key: str
    state: str
    amount: int
    items: list[dict[str, Any]]
    sci_calls: int
    transaction_id: str | None
    url: str | None
    payment_id: str | None
    sci_payment_id: int | None
    sci_transaction_id: int | None
    payment_reference: str | None
    failure_reason: str | None
    provider_code: str | None
    retryable: bool | None
    transaction_status: str | None
    provider_status: str | None
    status_at: datetime | None
    claimed_until: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> LinkRecord:
        values = {name: row[name] for name in cls.__dataclass_fields__}
        items = values["items"]
        values["items"] = json.loads(items) if isinstance(items, str) else items
        return cls(**values)

    def created(self) -> CreatedTransaction:
        """The stored transaction (only for ``state == 'created'``)."""
        if self.state != "created" or self.transaction_id is None or self.url is None:
            raise ValueError(f"link {self.request_key} holds no transaction (state {self.state})")
        return CreatedTransaction(
            transaction_id=self.transaction_id,
            url=self.url,
            payment_id=self.payment_id or self.transaction_id,
            sci_payment_id=self.sci_payment_id or 0,
            sci_transaction_id=self.sci_transaction_id or 0,
            payment_reference=self.payment_reference or self.transaction_id,
        )


@dataclass(frozen=True)
class Claim:
    kind: ClaimKind
    record: LinkRecord
    #: For ``BUSY``: seconds until the other worker's lease ends.
    wait_s: float = 0.0


def _items_json(request: PaymentLinkRequested) -> str:
    items = sorted(
        (item.model_dump(mode="json") for item in request.items),
        key=lambda item: item["declaracion"],
    )
    return json.dumps(items)


class LinkStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def claim(self, request: PaymentLinkRequested, lease_s: float) -> Claim:
        """Decide, atomically, what ``request`` may do with its (tenant, key) row.

        A new key, or a key whose earlier attempt failed (SCI created nothing), is
        claimed for ``lease_s`` seconds: state ``calling``, ``sci_calls`` + 1. A
        ``calling`` row whose lease ran out belongs to a worker that died mid-call, so
        it becomes ``uncertain``.
        """
        items = _items_json(request)
        async with self._pool.acquire() as connection, connection.transaction():
            inserted = await connection.fetchrow(
                """
                INSERT INTO payments.link_requests (
                    tenant_id, request_key, state, claimed_until, first_request_id,
                    last_request_id, channel, contact_key, correlation_id, placa, amount,
                    items, email, sci_calls)
                VALUES ($1, $2, 'calling', now() + make_interval(secs => $3), $4, $4, $5,
                        $6, $7, $8, $9, $10::jsonb, $11, 1)
                ON CONFLICT (tenant_id, request_key) DO NOTHING
                RETURNING *
                """,
                request.tenant_id,
                request.request_key,
                lease_s,
                request.event_id,
                request.channel.value,
                request.contact_key,
                request.correlation_id,
                request.placa,
                request.amount,
                items,
                request.email,
            )
            if inserted is not None:
                return Claim(ClaimKind.CALL, LinkRecord.of(inserted))
            row = await connection.fetchrow(
                """
                SELECT *, items = $3::jsonb AS same_items,
                       extract(epoch FROM claimed_until - clock_timestamp()) AS lease_left
                FROM payments.link_requests
                WHERE tenant_id = $1 AND request_key = $2
                FOR UPDATE
                """,
                request.tenant_id,
                request.request_key,
                items,
            )
            record = LinkRecord.of(row)
            if not row["same_items"] or record.amount != request.amount:
                return Claim(ClaimKind.CONFLICT, record)
            if record.state == "created":
                return Claim(ClaimKind.CREATED, record)
            if record.state == "uncertain":
                return Claim(ClaimKind.UNCERTAIN, record)
            if record.state == "calling":
                left = float(row["lease_left"] or 0.0)
                if left > 0:
                    return Claim(ClaimKind.BUSY, record, wait_s=left)
                updated = await connection.fetchrow(
                    """
                    UPDATE payments.link_requests
                    SET state = 'uncertain', claimed_until = NULL, retryable = false,
                        provider_code = 'outcome_unknown',
                        failure_reason = 'a worker stopped while calling SCI',
                        updated_at = now()
                    WHERE tenant_id = $1 AND request_key = $2
                    RETURNING *
                    """,
                    request.tenant_id,
                    request.request_key,
                )
                return Claim(ClaimKind.UNCERTAIN, LinkRecord.of(updated))
            claimed = await connection.fetchrow(  # state 'failed': SCI created nothing
                """
                UPDATE payments.link_requests
                SET state = 'calling', claimed_until = now() + make_interval(secs => $3),
                    last_request_id = $4, sci_calls = sci_calls + 1, updated_at = now()
                WHERE tenant_id = $1 AND request_key = $2
                RETURNING *
                """,
                request.tenant_id,
                request.request_key,
                lease_s,
                request.event_id,
            )
            return Claim(ClaimKind.CALL, LinkRecord.of(claimed))

    async def mark_created(
        self, tenant_id: str, request_key: str, transaction: CreatedTransaction
    ) -> None:
        await self._pool.execute(
            """
            UPDATE payments.link_requests
            SET state = 'created', claimed_until = NULL, transaction_id = $3, url = $4,
                payment_id = $5, sci_payment_id = $6, sci_transaction_id = $7,
                payment_reference = $8, sci_messages = $9::jsonb,
                transaction_status = coalesce(transaction_status, 'pending'),
                failure_reason = NULL, provider_code = NULL, retryable = NULL,
                updated_at = now()
            WHERE tenant_id = $1 AND request_key = $2
            """,
            tenant_id,
            request_key,
            transaction.transaction_id,
            transaction.url,
            transaction.payment_id,
            transaction.sci_payment_id,
            transaction.sci_transaction_id,
            transaction.payment_reference,
            json.dumps(list(transaction.messages)),
        )

    async def mark_failed(
        self,
        tenant_id: str,
        request_key: str,
        *,
        reason: str,
        provider_code: str,
        retryable: bool,
        uncertain: bool = False,
    ) -> None:
        """Record a failure: ``failed`` (SCI created nothing) or ``uncertain``."""
        await self._pool.execute(
            """
            UPDATE payments.link_requests
            SET state = $3, claimed_until = NULL, failure_reason = $4, provider_code = $5,
                retryable = $6, updated_at = now()
            WHERE tenant_id = $1 AND request_key = $2 AND state = 'calling'
            """,
            tenant_id,
            request_key,
            "uncertain" if uncertain else "failed",
            reason,
            provider_code,
            retryable,
        )

    async def apply_status(
        self,
        tenant_id: str,
        transaction_id: str,
        status: TransactionStatus,
        provider_status: str,
        status_at: datetime,
    ) -> bool:
        """Record a transaction's new status; False when it is not ours or the update
        is stale. ``approved`` is final; otherwise the newest ``status_at`` wins."""
        result: str = await self._pool.execute(
            """
            UPDATE payments.link_requests
            SET transaction_status = $3, provider_status = $4, status_at = $5,
                updated_at = now()
            WHERE tenant_id = $1 AND transaction_id = $2
              AND (transaction_status IS DISTINCT FROM 'approved' OR $3 = 'approved')
              AND (status_at IS NULL OR status_at <= $5)
            """,
            tenant_id,
            transaction_id,
            status.value,
            provider_status,
            status_at,
        )
        return result.endswith(" 1")

    async def get(self, tenant_id: str, request_key: str) -> LinkRecord | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM payments.link_requests WHERE tenant_id = $1 AND request_key = $2",
            tenant_id,
            request_key,
        )
        return LinkRecord.of(row) if row else None

    async def release_uncertain(self, tenant_id: str, request_key: str) -> bool:
        """An operator checked SCI and found no transaction: let the key be asked again."""
        result: str = await self._pool.execute(
            """
            UPDATE payments.link_requests
            SET state = 'failed', retryable = true, updated_at = now()
            WHERE tenant_id = $1 AND request_key = $2 AND state = 'uncertain'
            """,
            tenant_id,
            request_key,
        )
        return result.endswith(" 1")
