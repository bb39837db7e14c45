"""API keys of machine clients: the secret's SHA-256 kept (it is 256 random bits: a
slow hash adds nothing), shown once at creation; scoped and revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from cauce_contracts.identity import Permission
from cauce_identity.store.permission_sets import permission_set

_COLUMNS = "id, company_id, name, scopes, created_by, created_at, last_used_at, revoked_at"


@dataclass(frozen=True)
class ApiKey:
    id: uuid.UUID
    company_id: str
    name: str
    scopes: frozenset[Permission]
    created_by: uuid.UUID | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _key(row: asyncpg.Record) -> ApiKey:
    values = dict(row)
    values.pop("secret_hash", None)  # read to authenticate, never kept on the key
    values["scopes"] = permission_set(values["scopes"])
    return ApiKey(**values)


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class ApiKeyStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(
        self,
        company_id: str,
        name: str,
        scopes: frozenset[Permission],
        created_by: uuid.UUID | None,
    ) -> tuple[ApiKey, str]:
        """The new key and its secret (never stored, never shown again)."""
        secret = secrets.token_urlsafe(32)
        row = await self._pool.fetchrow(
            "INSERT INTO identity.api_keys (id, company_id, name, secret_hash, scopes, created_by)"  # noqa: S608 - constant columns
            f" VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_COLUMNS}",
            uuid.uuid4(),
            company_id,
            name,
            _hash(secret),
            sorted(p.value for p in scopes),
            created_by,
        )
        return _key(row), secret

    async def list(self, company_id: str) -> list[ApiKey]:
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM identity.api_keys WHERE company_id = $1"  # noqa: S608
            " ORDER BY created_at, id",
            company_id,
        )
        return [_key(row) for row in rows]

    async def revoke(self, company_id: str, key_id: uuid.UUID) -> bool:
        """True when the company has the key (revoked now, or already)."""
        status = await self._pool.execute(
            "UPDATE identity.api_keys SET revoked_at = coalesce(revoked_at, now())"
            " WHERE company_id = $1 AND id = $2",
            company_id,
            key_id,
        )
        return bool(status == "UPDATE 1")

    async def authenticate(self, key_id: uuid.UUID, secret: str) -> ApiKey | None:
        """The live key whose secret this is (None otherwise); its use is recorded."""
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS}, secret_hash FROM identity.api_keys"  # noqa: S608
            " WHERE id = $1 AND revoked_at IS NULL",
            key_id,
        )
        if row is None or not hmac.compare_digest(row["secret_hash"], _hash(secret)):
            return None
        await self._pool.execute(
            "UPDATE identity.api_keys SET last_used_at = now() WHERE id = $1", key_id
        )
        return _key(row)
