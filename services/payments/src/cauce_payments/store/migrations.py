"""Schema ``payments``: ordered, idempotent migrations applied when a replica starts
(by the shared runner, :mod:`cauce_runtime.postgres`). Append only."""

from __future__ import annotations

from typing import Any

from cauce_runtime.postgres import apply_migrations

SCHEMA = "payments"

_V1 = """
-- One row per (tenant, request_key): the idempotency record of a payment link. At most
-- one SCI transaction is ever created per row (see cauce_payments.payment_links).
CREATE TABLE payments.link_requests (
    tenant_id text NOT NULL,
    request_key text NOT NULL,
    -- calling: a worker is calling SCI until claimed_until; created: SCI created the
    -- transaction; failed: SCI did not create it (may be asked again); uncertain: SCI
    -- may or may not have created it (never called again automatically).
    state text NOT NULL CHECK (state IN ('calling', 'created', 'failed', 'uncertain')),
    claimed_until timestamptz,
    first_request_id uuid NOT NULL,
    last_request_id uuid NOT NULL,
    channel text NOT NULL,
    contact_key text NOT NULL,
    correlation_id text NOT NULL,
    placa text NOT NULL,
    amount bigint NOT NULL CHECK (amount > 0),
    items jsonb NOT NULL,
    email text,
    -- CrearTransaccion calls made for this row.
    sci_calls integer NOT NULL DEFAULT 0,
    transaction_id text,
    url text,
    payment_id text,
    sci_payment_id bigint,
    sci_transaction_id bigint,
    payment_reference text,
    sci_messages jsonb,
    failure_reason text,
    provider_code text,
    retryable boolean,
    -- The payment's status as SCI last reported it (PaymentTransactionStatusChanged).
    transaction_status text
        CHECK (transaction_status IN ('pending', 'approved', 'rejected', 'failed', 'expired')),
    provider_status text,
    status_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, request_key),
    UNIQUE (tenant_id, transaction_id)
);
CREATE INDEX link_requests_uncertain ON payments.link_requests (updated_at)
    WHERE state = 'uncertain';

-- Every debt lookup asked for, and how it ended (audit; the seed's Report).
CREATE TABLE payments.debt_lookups (
    request_id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    channel text NOT NULL,
    contact_key text NOT NULL,
    correlation_id text NOT NULL,
    placa text NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('found', 'none', 'retrying', 'failed')),
    debts jsonb,
    debt_count integer NOT NULL DEFAULT 0,
    total bigint NOT NULL DEFAULT 0,
    failure_reason text,
    provider_code text,
    attempts integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX debt_lookups_tenant_placa ON payments.debt_lookups (tenant_id, placa, created_at DESC);
"""

#: ``(version, sql)`` in order; append only.
MIGRATIONS: list[tuple[int, str]] = [
    (1, _V1),
]


async def migrate(pool: Any) -> list[int]:
    """Apply the missing migrations; return the versions this call applied."""
    return await apply_migrations(pool, SCHEMA, MIGRATIONS)
