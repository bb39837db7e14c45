"""Schema ``notifier``: ordered, idempotent migrations applied when a replica starts.

Every replica runs :func:`migrate` at start; the shared runner
(:func:`cauce_runtime.postgres.apply_migrations`) applies what is missing under an
advisory lock, in one transaction, and records it in ``notifier.schema_migrations``.

Migrations are append-only: never edit a released one, add the next version.
"""

from __future__ import annotations

from typing import Any

from cauce_runtime.postgres import apply_migrations

SCHEMA = "notifier"

#: ``pg_advisory_xact_lock`` key: a fixed 64-bit number owned by notifier migrations
#: (the bytes of "cauce:nm" read as a big-endian integer).
MIGRATION_LOCK_KEY = int.from_bytes(b"cauce:nm", "big", signed=True)

_V1 = """
CREATE TABLE notifier.channel_accounts (
    id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    channel text NOT NULL CHECK (channel IN ('whatsapp', 'chattigo', 'ycloud')),
    account_id text NOT NULL,
    display_name text,
    rate_per_second numeric NOT NULL DEFAULT 80 CHECK (rate_per_second > 0),
    -- AES-GCM blob (cauce_notifier.credentials); never the plaintext.
    credentials bytea NOT NULL,
    credentials_key_id text NOT NULL,
    -- HMAC of the plaintext, so an operator can tell two credentials apart.
    credentials_fingerprint text NOT NULL,
    -- Non-secret description: which fields are set, Chattigo username and bot name.
    credentials_summary jsonb NOT NULL,
    credentials_status text NOT NULL DEFAULT 'ok'
        CHECK (credentials_status IN ('ok', 'failing')),
    credentials_error text,
    credentials_failed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel, account_id)
);
CREATE INDEX channel_accounts_tenant ON notifier.channel_accounts (tenant_id, created_at);

CREATE TABLE notifier.messages (
    request_event_id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    channel text NOT NULL,
    channel_account_id text NOT NULL,
    contact_key text NOT NULL,
    recipient text NOT NULL,
    content_type text NOT NULL,
    content jsonb NOT NULL,
    reply_to_message_id text,
    degradation text,
    status text NOT NULL DEFAULT 'requested'
        CHECK (status IN ('requested', 'sent', 'delivered', 'read', 'failed')),
    provider_message_id text UNIQUE,
    error_code text,
    error_title text,
    error_detail text,
    retryable boolean,
    -- Failed provider attempts (5xx, timeouts) so far, for the retry limit.
    provider_attempts integer NOT NULL DEFAULT 0,
    -- A worker holds the message while it calls the provider (see MessageStore.claim).
    claimed_until timestamptz,
    campaign_id text,
    correlation_id text NOT NULL,
    requested_at timestamptz NOT NULL,
    sent_at timestamptz,
    delivered_at timestamptz,
    read_at timestamptz,
    failed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- Keyset pagination runs newest first on (requested_at, request_event_id).
CREATE INDEX messages_tenant_requested
    ON notifier.messages (tenant_id, requested_at DESC, request_event_id DESC);
CREATE INDEX messages_tenant_status_requested
    ON notifier.messages (tenant_id, status, requested_at DESC, request_event_id DESC);
-- ``to=`` filter: the number with or without its leading '+'.
CREATE INDEX messages_recipient_requested
    ON notifier.messages (ltrim(recipient, '+'), requested_at DESC, request_event_id DESC);
CREATE INDEX messages_requested
    ON notifier.messages (requested_at DESC, request_event_id DESC);

CREATE TABLE notifier.message_status_history (
    id bigserial PRIMARY KEY,
    request_event_id uuid NOT NULL
        REFERENCES notifier.messages (request_event_id) ON DELETE CASCADE,
    status text NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    -- 'notifier' (our own send outcome) or 'provider' (a status webhook).
    source text NOT NULL,
    detail jsonb,
    UNIQUE (request_event_id, status)
);

CREATE TABLE notifier.contact_windows (
    tenant_id text NOT NULL,
    channel text NOT NULL,
    channel_account_id text NOT NULL,
    contact_key text NOT NULL,
    last_inbound_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, channel, channel_account_id, contact_key)
);

-- GCRA state per sending account: the theoretical arrival time of the next message.
CREATE TABLE notifier.rate_buckets (
    channel text NOT NULL,
    account_id text NOT NULL,
    tat timestamptz NOT NULL,
    PRIMARY KEY (channel, account_id)
);

-- Meta 131056: do not send to this recipient from this account before ``until``.
CREATE TABLE notifier.pair_backoff (
    channel text NOT NULL,
    account_id text NOT NULL,
    contact_key text NOT NULL,
    until timestamptz NOT NULL,
    PRIMARY KEY (channel, account_id, contact_key)
);
"""

#: Send buckets keyed by one ``bucket`` name (``<channel>:<account_id>``), the shape of
#: the runtime's shared limiter. The old rows are dropped: a bucket only holds the next
#: slot's time, and losing it lets an account's very next send go at once.
_V2 = """
DROP TABLE notifier.rate_buckets;
CREATE TABLE notifier.rate_buckets (
    bucket text PRIMARY KEY,
    tat timestamptz NOT NULL
);
"""

#: ``(version, sql)`` in order; append only.
MIGRATIONS: list[tuple[int, str]] = [
    (1, _V1),
    (2, _V2),
]


async def migrate(pool: Any) -> list[int]:
    """Apply the missing migrations; return the versions this call applied.

    ``pool`` is an ``asyncpg.Pool`` (or anything with ``acquire()``). Safe to call
    from several replicas at once and as often as wanted.
    """
    return await apply_migrations(pool, SCHEMA, MIGRATIONS, MIGRATION_LOCK_KEY)
