"""Schema ``identity``: ordered, idempotent migrations applied when a replica starts
(by the shared runner, :mod:`cauce_runtime.postgres`). Append only."""

from __future__ import annotations

from typing import Any

from cauce_runtime.postgres import apply_migrations

SCHEMA = "identity"

_V1 = """
-- Companies are the tenants: a company's id is the tenant_id of its events.
CREATE TABLE identity.companies (
    id text PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Named permission sets per company; builtin ones (admin, supervisor, agent) are made
-- with the company and cannot be changed.
CREATE TABLE identity.roles (
    id uuid PRIMARY KEY,
    company_id text NOT NULL REFERENCES identity.companies (id) ON DELETE CASCADE,
    name text NOT NULL,
    permissions text[] NOT NULL,
    builtin boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (company_id, name)
);

-- Agents, supervisors, admins. Deleting one keeps the row (chats name their
-- assignee) with deleted_at set: it cannot log in and its e-mail is free again.
CREATE TABLE identity.users (
    id uuid PRIMARY KEY,
    company_id text NOT NULL REFERENCES identity.companies (id) ON DELETE CASCADE,
    email text NOT NULL CHECK (email = lower(email)),
    full_name text NOT NULL,
    password_hash text NOT NULL,
    role_id uuid NOT NULL REFERENCES identity.roles (id),
    platform_admin boolean NOT NULL DEFAULT false,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
CREATE UNIQUE INDEX users_email ON identity.users (email) WHERE deleted_at IS NULL;
CREATE INDEX users_company ON identity.users (company_id, created_at, id);

-- Refresh tokens (SHA-256 of the opaque token): one family per login; each use
-- rotates it. A used token presented again revokes its whole family (RFC 9700 §4.14).
CREATE TABLE identity.refresh_tokens (
    token_hash bytea PRIMARY KEY,
    family_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES identity.users (id) ON DELETE CASCADE,
    issued_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family ON identity.refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON identity.refresh_tokens (user_id) WHERE revoked_at IS NULL;

-- Machine clients: a secret (SHA-256 kept, shown once) exchanged for access tokens
-- with the key's scopes (OAuth 2.0 client credentials).
CREATE TABLE identity.api_keys (
    id uuid PRIMARY KEY,
    company_id text NOT NULL REFERENCES identity.companies (id) ON DELETE CASCADE,
    name text NOT NULL,
    secret_hash bytea NOT NULL,
    scopes text[] NOT NULL,
    created_by uuid REFERENCES identity.users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_keys_company ON identity.api_keys (company_id, created_at, id);
"""

#: Which bot answers the company's numbers (cauce_contracts.identity.BotMode).
_V2 = """
ALTER TABLE identity.companies ADD COLUMN bot text NOT NULL DEFAULT 'vehicle_tax'
    CHECK (bot IN ('vehicle_tax', 'none', 'human_only'));
"""

#: ``chats.read_all`` split from ``chats.read``: the built-in roles that saw every chat
#: keep seeing them (agents now see their own chats and their teams' queues).
_V3 = """
UPDATE identity.roles SET permissions = array_append(permissions, 'chats.read_all')
    WHERE builtin AND name IN ('admin', 'supervisor')
    AND NOT ('chats.read_all' = ANY (permissions));
"""

MIGRATIONS: list[tuple[int, str]] = [(1, _V1), (2, _V2), (3, _V3)]


async def migrate(pool: Any) -> list[int]:
    """Apply the missing migrations; return the versions this call applied."""
    return await apply_migrations(pool, SCHEMA, MIGRATIONS)
