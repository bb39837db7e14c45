"""Companies (tenants); a new one gets the builtin roles in the same transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from cauce_contracts.identity import BUILTIN_ROLES


class CompanyExists(Exception):
    """A company with that id already exists."""


@dataclass(frozen=True)
class Company:
    id: str
    name: str
    created_at: datetime


class CompanyStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(self, company_id: str, name: str) -> Company:
        async with self._pool.acquire() as connection, connection.transaction():
            try:
                row = await connection.fetchrow(
                    "INSERT INTO identity.companies (id, name) VALUES ($1, $2)"
                    " RETURNING id, name, created_at",
                    company_id,
                    name,
                )
            except asyncpg.UniqueViolationError as exc:
                raise CompanyExists(company_id) from exc
            await connection.executemany(
                "INSERT INTO identity.roles (id, company_id, name, permissions, builtin)"
                " VALUES ($1, $2, $3, $4, true)",
                [
                    (uuid.uuid4(), company_id, name, sorted(p.value for p in perms))
                    for name, perms in BUILTIN_ROLES.items()
                ],
            )
        return Company(**dict(row))

    async def get(self, company_id: str) -> Company | None:
        row = await self._pool.fetchrow(
            "SELECT id, name, created_at FROM identity.companies WHERE id = $1", company_id
        )
        return Company(**dict(row)) if row else None

    async def list(self) -> list[Company]:
        rows = await self._pool.fetch(
            "SELECT id, name, created_at FROM identity.companies ORDER BY id"
        )
        return [Company(**dict(row)) for row in rows]

    async def rename(self, company_id: str, name: str) -> Company | None:
        row = await self._pool.fetchrow(
            "UPDATE identity.companies SET name = $2 WHERE id = $1 RETURNING id, name, created_at",
            company_id,
            name,
        )
        return Company(**dict(row)) if row else None
