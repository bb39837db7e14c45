"""Companies (tenants); a new one gets the builtin roles in the same transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from cauce_contracts.identity import BUILTIN_ROLES, BotMode


class CompanyExists(Exception):
    """A company with that id already exists."""


_COLUMNS = "id, name, bot, created_at"
_UPDATE = (
    "UPDATE identity.companies SET name = coalesce($2, name), bot = coalesce($3, bot)"  # noqa: S608
    f" WHERE id = $1 RETURNING {_COLUMNS}"
)


@dataclass(frozen=True)
class Company:
    id: str
    name: str
    bot: BotMode
    created_at: datetime


def _company(row: asyncpg.Record) -> Company:
    return Company(
        id=row["id"], name=row["name"], bot=BotMode(row["bot"]), created_at=row["created_at"]
    )


class CompanyStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(self, company_id: str, name: str) -> Company:
        async with self._pool.acquire() as connection, connection.transaction():
            try:
                row = await connection.fetchrow(
                    "INSERT INTO identity.companies (id, name) VALUES ($1, $2)"  # noqa: S608
                    f" RETURNING {_COLUMNS}",
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
        return _company(row)

    async def get(self, company_id: str) -> Company | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM identity.companies WHERE id = $1",  # noqa: S608
            company_id,
        )
        return _company(row) if row else None

    async def list(self) -> list[Company]:
        rows = await self._pool.fetch(f"SELECT {_COLUMNS} FROM identity.companies ORDER BY id")  # noqa: S608
        return [_company(row) for row in rows]

    async def update(
        self, company_id: str, *, name: str | None = None, bot: BotMode | None = None
    ) -> Company | None:
        """Change the name and/or the bot; None keeps a value."""
        row = await self._pool.fetchrow(_UPDATE, company_id, name, bot.value if bot else None)
        return _company(row) if row else None
