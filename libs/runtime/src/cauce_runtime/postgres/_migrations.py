"""Ordered, idempotent PostgreSQL schema migrations, applied when a replica starts.

Each service owns one schema and a list of ``(version, sql)`` migrations. Every
replica calls :func:`apply_migrations` at start. The whole run happens in one
transaction holding a transaction-scoped advisory lock, so replicas starting together
queue up: the first applies what is missing, the others then find every version
recorded in ``<schema>.schema_migrations`` and apply nothing. A failing migration
rolls back with the transaction, leaving the schema as it was.

Migrations are append-only: never edit a released one, add the next version.

The pool is anything with asyncpg's ``acquire()`` (an ``asyncpg.Pool``); the runtime
does not import asyncpg itself.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

#: A schema name we are willing to interpolate into SQL (identifiers cannot be bound).
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class MigrationError(ValueError):
    """The migration list or schema name is malformed (a programming error)."""


def migration_lock_key(schema: str) -> int:
    """A fixed signed 64-bit advisory lock key for ``schema``'s migrations."""
    digest = hashlib.sha256(f"cauce:migrations:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _check(schema: str, migrations: Sequence[tuple[int, str]]) -> None:
    if not _SCHEMA_NAME.match(schema):
        raise MigrationError(f"not a plain schema name: {schema!r}")
    versions = [version for version, _ in migrations]
    if any(version < 1 for version in versions) or versions != sorted(set(versions)):
        raise MigrationError(f"migration versions must be positive and increasing: {versions}")


async def apply_migrations(
    pool: Any,
    schema: str,
    migrations: Sequence[tuple[int, str]],
    lock_key: int | None = None,
) -> list[int]:
    """Create ``schema`` if needed and apply the missing ``migrations`` in order; return
    the versions this call applied (empty when the schema was up to date).

    ``lock_key`` defaults to :func:`migration_lock_key` of the schema. Safe to call from
    several replicas at once and as often as wanted.
    """
    _check(schema, migrations)
    key = migration_lock_key(schema) if lock_key is None else lock_key
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", key)
        await connection.execute(
            f"CREATE SCHEMA IF NOT EXISTS {schema};"
            f"CREATE TABLE IF NOT EXISTS {schema}.schema_migrations ("
            " version integer PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        rows = await connection.fetch(f"SELECT version FROM {schema}.schema_migrations")  # noqa: S608 - checked identifier
        done = {row["version"] for row in rows}
        applied: list[int] = []
        for version, sql in migrations:
            if version in done:
                continue
            await connection.execute(sql)
            await connection.execute(
                f"INSERT INTO {schema}.schema_migrations (version) VALUES ($1)",  # noqa: S608
                version,
            )
            applied.append(version)
        return applied


async def current_version(pool: Any, schema: str) -> int | None:
    """The highest applied migration of ``schema``; ``None`` before the first run."""
    _check(schema, ())
    async with pool.acquire() as connection:
        exists = await connection.fetchval(
            "SELECT to_regclass($1) IS NOT NULL", f"{schema}.schema_migrations"
        )
        if not exists:
            return None
        version = await connection.fetchval(f"SELECT max(version) FROM {schema}.schema_migrations")  # noqa: S608
        return int(version) if version is not None else None


__all__ = ["MigrationError", "apply_migrations", "current_version", "migration_lock_key"]
