"""Schema ``crm``: ordered, idempotent migrations applied when a replica starts.

The shared runner (:func:`cauce_runtime.postgres.apply_migrations`) applies what is
missing under an advisory lock and records it in ``crm.schema_migrations``;
``python -m cauce_crm_sync migrations`` prints the current version.

Tables:

- ``contacts``: one row per lead (tenant, ManyChat id or the bot's contact key), the
  newest data of each part (profile by ``datetime_actual``, state by
  ``state_changed_at``, current campaign by ``assigned_at``), and the fields Odoo owns
  as Odoo last had them (``odoo_values``, as of ``odoo_written_at``).
- ``campaigns`` and ``campaign_assignments`` (one per lead and campaign, with the
  comercial/advisor; newest ``assigned_at`` wins).
- ``lead_states``: the history of state changes, one row per event.
- ``applied_events``: every event applied, so a redelivery changes nothing.
- ``sync_records``: each record's sync toward Odoo (see :mod:`cauce_crm_sync.store.sync_state`).
- ``rate_buckets``: the Odoo rate limit shared by replicas.
- ``reconciliations``: runs of the drift repair and where the next one starts.

Migrations are append-only: never edit a released one, add the next version.
"""

from __future__ import annotations

from typing import Any

from cauce_runtime.postgres import apply_migrations, current_version

SCHEMA = "crm"

_V1 = """
CREATE TABLE crm.applied_events (
    event_id text PRIMARY KEY,
    event_type text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE crm.contacts (
    tenant_id text NOT NULL,
    manychat_id text NOT NULL,
    nombre_lead text,
    first_name text,
    last_name text,
    phone text,
    email text,
    contact_id text,
    datetime_actual timestamptz,
    ultimo_estado text,
    state_changed_at timestamptz,
    campaign_id text,
    comercial_id text,
    tipo_asignacion text,
    assigned_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, manychat_id)
);
CREATE INDEX contacts_state ON crm.contacts (tenant_id, ultimo_estado);
CREATE INDEX contacts_updated ON crm.contacts (tenant_id, updated_at);

CREATE TABLE crm.campaigns (
    tenant_id text NOT NULL,
    campaign_id text NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_assigned_at timestamptz,
    PRIMARY KEY (tenant_id, campaign_id)
);

CREATE TABLE crm.campaign_assignments (
    tenant_id text NOT NULL,
    manychat_id text NOT NULL,
    campaign_id text NOT NULL,
    comercial_id text NOT NULL,
    tipo_asignacion text NOT NULL,
    ultimo_estado text NOT NULL,
    assigned_at timestamptz NOT NULL,
    event_id text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, manychat_id, campaign_id)
);
CREATE INDEX campaign_assignments_campaign ON crm.campaign_assignments (tenant_id, campaign_id);

CREATE TABLE crm.lead_states (
    event_id text PRIMARY KEY,
    tenant_id text NOT NULL,
    manychat_id text NOT NULL,
    previous_state text,
    new_state text NOT NULL,
    changed_at timestamptz NOT NULL,
    source text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lead_states_contact ON crm.lead_states (tenant_id, manychat_id, changed_at);

CREATE TABLE crm.sync_records (
    id bigserial PRIMARY KEY,
    tenant_id text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('contact', 'state')),
    record_key text NOT NULL,
    odoo_id integer,
    revision integer NOT NULL DEFAULT 1,
    synced_revision integer NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'synced', 'dead')),
    pending_since timestamptz DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz,
    leased_by text,
    leased_at timestamptz,
    leased_revision integer,
    maybe_created boolean NOT NULL DEFAULT false,
    last_error_name text,
    last_error text,
    dead_at timestamptz,
    synced_at timestamptz,
    synced_vals jsonb,
    UNIQUE (tenant_id, kind, record_key)
);
CREATE INDEX sync_records_due ON crm.sync_records (next_attempt_at) WHERE status = 'pending';
CREATE INDEX sync_records_dead ON crm.sync_records (dead_at) WHERE status = 'dead';
CREATE INDEX sync_records_odoo ON crm.sync_records (kind, odoo_id);

CREATE TABLE crm.rate_buckets (
    bucket text PRIMARY KEY,
    tat timestamptz NOT NULL
);

CREATE TABLE crm.reconciliations (
    id bigserial PRIMARY KEY,
    trigger text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    checked integer NOT NULL DEFAULT 0,
    repaired integer NOT NULL DEFAULT 0,
    recreated integer NOT NULL DEFAULT 0,
    odoo_checkpoint text,
    error text
);
"""

#: The W3C trace context of a record's latest change, so the Odoo call that sends it
#: continues (or links) the trace of the webhook that changed it.
_V2 = """
ALTER TABLE crm.sync_records ADD COLUMN trace_context text;
"""

#: Both ways: what sales people set in Odoo on the fields Odoo owns (by Odoo field name,
#: with the newest ``write_date`` taken), and how many fields a reconciliation took
#: from Odoo instead of rewriting them.
_V3 = """
ALTER TABLE crm.contacts ADD COLUMN odoo_values jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE crm.contacts ADD COLUMN odoo_written_at timestamptz;
ALTER TABLE crm.reconciliations ADD COLUMN pulled integer NOT NULL DEFAULT 0;
"""

#: ``(version, sql)`` in order; append only.
MIGRATIONS: list[tuple[int, str]] = [
    (1, _V1),
    (2, _V2),
    (3, _V3),
]


async def migrate(pool: Any) -> list[int]:
    """Apply the missing migrations; return the versions this call applied."""
    return await apply_migrations(pool, SCHEMA, MIGRATIONS)


async def schema_version(pool: Any) -> int | None:
    """The schema's current migration version (``None`` before the first start)."""
    return await current_version(pool, SCHEMA)
