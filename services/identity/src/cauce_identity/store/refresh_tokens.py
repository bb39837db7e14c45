"""Refresh tokens: opaque, stored as SHA-256, rotated on every use, revoked by family."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

#: Refresh tokens carry this prefix, so a leaked one is recognisable in a scanner.
PREFIX = "crt_"


def new_refresh_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class Rotation:
    """What presenting a refresh token did."""

    #: "rotated": a new token replaced it; "reused": it had been used already, so its
    #: family is now revoked; "invalid": unknown, expired or revoked.
    outcome: str
    user_id: uuid.UUID | None = None
    family_id: uuid.UUID | None = None


class RefreshTokenStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def issue(
        self, user_id: uuid.UUID, family_id: uuid.UUID, ttl: timedelta, token: str
    ) -> None:
        await self._pool.execute(
            "INSERT INTO identity.refresh_tokens (token_hash, family_id, user_id, expires_at)"
            " VALUES ($1, $2, $3, now() + $4)",
            token_hash(token),
            family_id,
            user_id,
            ttl,
        )

    async def rotate(self, token: str, replacement: str, ttl: timedelta) -> Rotation:
        """Spend ``token`` and store ``replacement`` in its family, atomically. A token
        spent before (a replay: stolen, or a client that lost the answer) revokes the
        whole family."""
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                "SELECT family_id, user_id, used_at, revoked_at, expires_at <= now() AS expired"
                " FROM identity.refresh_tokens WHERE token_hash = $1 FOR UPDATE",
                token_hash(token),
            )
            if row is None or row["revoked_at"] is not None or row["expired"]:
                return Rotation("invalid")
            if row["used_at"] is not None:
                await connection.execute(
                    "UPDATE identity.refresh_tokens SET revoked_at = now()"
                    " WHERE family_id = $1 AND revoked_at IS NULL",
                    row["family_id"],
                )
                return Rotation("reused", row["user_id"], row["family_id"])
            await connection.execute(
                "UPDATE identity.refresh_tokens SET used_at = now() WHERE token_hash = $1",
                token_hash(token),
            )
            await connection.execute(
                "INSERT INTO identity.refresh_tokens (token_hash, family_id, user_id, expires_at)"
                " VALUES ($1, $2, $3, now() + $4)",
                token_hash(replacement),
                row["family_id"],
                row["user_id"],
                ttl,
            )
        return Rotation("rotated", row["user_id"], row["family_id"])

    async def family_of(self, token: str) -> uuid.UUID | None:
        family: uuid.UUID | None = await self._pool.fetchval(
            "SELECT family_id FROM identity.refresh_tokens WHERE token_hash = $1",
            token_hash(token),
        )
        return family

    async def revoke_family(self, family_id: uuid.UUID) -> None:
        await self._pool.execute(
            "UPDATE identity.refresh_tokens SET revoked_at = now()"
            " WHERE family_id = $1 AND revoked_at IS NULL",
            family_id,
        )

    async def revoke_user(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        """Revoke every live family of the user; their ids (to revoke their access
        tokens too)."""
        rows = await self._pool.fetch(
            "UPDATE identity.refresh_tokens SET revoked_at = now()"
            " WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()"
            " RETURNING family_id",
            user_id,
        )
        return list({row["family_id"] for row in rows})
