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

#: Bulk template campaigns: templates per WhatsApp Business Account, campaigns, their
#: recipients (variables frozen when planned; the send's id fixed per recipient), the
#: rows a CSV had rejected, and the event feed the progress stream replays.
_V3 = """
ALTER TABLE notifier.channel_accounts ADD COLUMN business_account_id text;

CREATE TABLE notifier.templates (
    business_account_id text NOT NULL,
    name text NOT NULL,
    language text NOT NULL,
    tenant_id text NOT NULL,
    template_id text,
    status text NOT NULL,
    category text NOT NULL,
    quality text,
    status_reason text,
    -- Meta's template object as last seen (components, parameter_format...).
    meta jsonb NOT NULL,
    synced_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (business_account_id, name, language)
);
CREATE INDEX templates_tenant ON notifier.templates (tenant_id, name, language);

CREATE TABLE notifier.campaigns (
    id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    name text NOT NULL,
    description text,
    channel text NOT NULL,
    channel_account_id text NOT NULL,
    template_name text NOT NULL,
    template_language text NOT NULL,
    header_media_link text,
    default_region text NOT NULL,
    status text NOT NULL CHECK (status IN ('DRAFT', 'SCHEDULED', 'RUNNING', 'PAUSED',
        'COMPLETED', 'CANCELLED', 'FAILED')),
    -- Why it paused, failed or was cancelled, and who did it ('operator', 'platform').
    status_reason text,
    status_by text,
    scheduled_at timestamptz,
    started_at timestamptz,
    finished_at timestamptz,
    recipients integer NOT NULL DEFAULT 0,
    rejected integer NOT NULL DEFAULT 0,
    -- The replica releasing its recipients, while its lease lasts (one at a time).
    dispatcher text,
    dispatcher_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaigns_tenant ON notifier.campaigns (tenant_id, created_at DESC, id DESC);
CREATE INDEX campaigns_active ON notifier.campaigns (status, scheduled_at)
    WHERE status IN ('SCHEDULED', 'RUNNING');

CREATE TABLE notifier.campaign_recipients (
    campaign_id uuid NOT NULL REFERENCES notifier.campaigns (id) ON DELETE CASCADE,
    -- Position in the audience: sends go out in this order.
    seq integer NOT NULL,
    -- E.164; personal data, never logged.
    phone text NOT NULL,
    contact_key text NOT NULL,
    -- The template's values for this recipient, frozen when planned.
    variables jsonb NOT NULL,
    -- The event id of this recipient's send: a uuid5 of (campaign, phone), so a
    -- resumed, retried or re-released send is the same request to the send path.
    request_event_id uuid NOT NULL UNIQUE,
    -- pending: not released; released: handed to the send path (its outcome is the
    -- message's); suppressed: opted out, never sent; cancelled: the campaign stopped.
    state text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'released', 'suppressed', 'cancelled')),
    -- Released this many times (a re-release after a pause or a lost publish).
    releases integer NOT NULL DEFAULT 0,
    released_at timestamptz,
    -- Not released before this time (a per-user marketing cap, a retry).
    not_before timestamptz,
    note text,
    PRIMARY KEY (campaign_id, seq),
    UNIQUE (campaign_id, phone)
);
CREATE INDEX campaign_recipients_next
    ON notifier.campaign_recipients (campaign_id, seq) WHERE state = 'pending';

CREATE TABLE notifier.campaign_rejections (
    campaign_id uuid NOT NULL REFERENCES notifier.campaigns (id) ON DELETE CASCADE,
    line integer NOT NULL,
    reason text NOT NULL,
    cells jsonb NOT NULL,
    PRIMARY KEY (campaign_id, line)
);

-- What the progress stream replays: state changes and progress snapshots, in order.
CREATE TABLE notifier.campaign_events (
    id bigserial PRIMARY KEY,
    campaign_id uuid NOT NULL REFERENCES notifier.campaigns (id) ON DELETE CASCADE,
    tenant_id text NOT NULL,
    kind text NOT NULL,
    data jsonb NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaign_events_campaign ON notifier.campaign_events (campaign_id, id);
CREATE INDEX campaign_events_tenant ON notifier.campaign_events (tenant_id, id);

-- Customers who stopped marketing messages (a keyword, Meta's user_preferences, an
-- operator): never sent a marketing campaign until they opt back in.
CREATE TABLE notifier.suppressions (
    tenant_id text NOT NULL,
    contact_key text NOT NULL,
    source text NOT NULL,
    reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, contact_key)
);

-- The messaging limit of a business portfolio or phone number, as Meta last reported.
CREATE TABLE notifier.messaging_limits (
    account_id text PRIMARY KEY,
    scope text NOT NULL,
    tier text,
    -- Unique customers per moving 24 hours outside the service window; NULL: unlimited.
    daily_limit integer,
    quality_event text,
    changed_at timestamptz NOT NULL
);

-- Outcomes of a campaign's sends are read from notifier.messages by campaign.
CREATE INDEX messages_campaign ON notifier.messages (campaign_id) WHERE campaign_id IS NOT NULL;
"""

#: Campaign pacing and retries: a recipient's attempt (retry-failed sends a failed
#: recipient again as a new request), and the customers each WhatsApp Business Account
#: reached outside their service window (its messaging limit counts them per 24 h).
_V4 = """
ALTER TABLE notifier.campaign_recipients ADD COLUMN attempt integer NOT NULL DEFAULT 1;

CREATE TABLE notifier.reached_customers (
    business_account_id text NOT NULL,
    contact_key text NOT NULL,
    reached_at timestamptz NOT NULL,
    PRIMARY KEY (business_account_id, contact_key)
);
CREATE INDEX reached_customers_recent
    ON notifier.reached_customers (business_account_id, reached_at);
"""

#: What a sent message costs, as Meta's status webhooks report it (per-message pricing
#: since 2025-07-01: only ``type = regular`` is billed), and each campaign recipient's
#: country (its number's region), for a campaign's cost estimate.
_V5 = """
ALTER TABLE notifier.messages ADD COLUMN billable boolean;
ALTER TABLE notifier.messages ADD COLUMN pricing_category text;
ALTER TABLE notifier.messages ADD COLUMN pricing_type text;
ALTER TABLE notifier.campaign_recipients ADD COLUMN country text;
"""

#: The trace of the request that started (or resumed) a campaign: each recipient's send
#: is a trace of its own, linked to it.
_V6 = """
ALTER TABLE notifier.campaigns ADD COLUMN trace_context text;
"""

#: A campaign's audience when it is a segment of crm-sync's leads (resolved at start).
_V7 = """
ALTER TABLE notifier.campaigns ADD COLUMN audience jsonb;
"""

#: Short links with click tracking (a campaign's URL variables, a reply's URL button),
#: and the campaigns that send theirs as short links.
_V8 = """
CREATE TABLE notifier.short_links (
    code text PRIMARY KEY,
    tenant_id text NOT NULL,
    target_url text NOT NULL,
    campaign_id uuid REFERENCES notifier.campaigns (id) ON DELETE CASCADE,
    recipient_seq integer,
    request_event_id uuid,
    clicks integer NOT NULL DEFAULT 0,
    first_clicked_at timestamptz,
    last_clicked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX short_links_by_campaign ON notifier.short_links (campaign_id)
    WHERE campaign_id IS NOT NULL;
ALTER TABLE notifier.campaigns ADD COLUMN short_links boolean NOT NULL DEFAULT false;
"""

#: Which of a campaign's released recipients still wait for their send's outcome: the
#: dispatcher counts them every tick, and a count over the partial index costs what is
#: in flight, not (as joining every released recipient with its message did) what the
#: campaign has sent so far. Set on release; cleared with the outcome (sent or failed)
#: in the statement that records it, and when a release is given back or cancelled.
_V9 = """
ALTER TABLE notifier.campaign_recipients ADD COLUMN in_flight boolean NOT NULL DEFAULT false;
UPDATE notifier.campaign_recipients r SET in_flight = true
WHERE r.state = 'released' AND NOT EXISTS (
    SELECT 1 FROM notifier.messages m
    WHERE m.request_event_id = r.request_event_id AND m.status <> 'requested');
CREATE INDEX campaign_recipients_in_flight
    ON notifier.campaign_recipients (campaign_id) WHERE in_flight;
"""

#: A Chattigo account created through the API: SHA-256 (hex) of the token its webhook
#: URL carries (the token itself is shown once and never stored), published with the
#: account's route for the gateway (cauce_notifier.channel_routes).
_V10 = """
ALTER TABLE notifier.channel_accounts ADD COLUMN webhook_token_sha256 text
    CHECK (webhook_token_sha256 ~ '^[0-9a-f]{64}$');
"""

#: A message whose provider call may have reached the provider without its answer being
#: recorded (the notifier died, PostgreSQL went away, the answer was lost): set just
#: before each provider call, cleared with the answer. A redelivery that finds it set
#: waits for the provider's status webhook (which names the request) before sending
#: again (cauce_notifier.delivery).
_V11 = """
ALTER TABLE notifier.messages ADD COLUMN maybe_sent_since timestamptz;
"""

#: Room in each page of messages for a row's next version: a send marks its message
#: *maybe sent* and its claim comes and goes, updates of columns no index reads, which
#: PostgreSQL then makes in place (a HOT update) instead of a new version indexed
#: seven times over. Only pages written from now on leave the room.
_V12 = """
ALTER TABLE notifier.messages SET (fillfactor = 85);
"""

#: ``(version, sql)`` in order; append only.
MIGRATIONS: list[tuple[int, str]] = [
    (1, _V1),
    (2, _V2),
    (3, _V3),
    (4, _V4),
    (5, _V5),
    (6, _V6),
    (7, _V7),
    (8, _V8),
    (9, _V9),
    (10, _V10),
    (11, _V11),
    (12, _V12),
]


async def migrate(pool: Any) -> list[int]:
    """Apply the missing migrations; return the versions this call applied.

    ``pool`` is an ``asyncpg.Pool`` (or anything with ``acquire()``). Safe to call
    from several replicas at once and as often as wanted.
    """
    return await apply_migrations(pool, SCHEMA, MIGRATIONS, MIGRATION_LOCK_KEY)
