"""Roles: named permission sets of a company."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from cauce_contracts.identity import Permission
from cauce_identity.store.permission_sets import permission_set

_COLUMNS = "id, company_id, name, permissions, builtin, created_at, updated_at"


class RoleNameTaken(Exception):
    """The company already has a role of that name."""


class RoleInUse(Exception):
    """Users still hold the role."""


@dataclass(frozen=True)
class Role:
    id: uuid.UUID
    company_id: str
    name: str
    permissions: frozenset[Permission]
    builtin: bool
    created_at: datetime
    updated_at: datetime


def _role(row: asyncpg.Record) -> Role:
    values = dict(row)
    values["permissions"] = permission_set(values["permissions"])
    return Role(**values)


class RoleStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def list(self, company_id: str) -> list[Role]:
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM identity.roles WHERE company_id = $1 ORDER BY name",  # noqa: S608
            company_id,
        )
        return [_role(row) for row in rows]

    async def get(self, company_id: str, role_id: uuid.UUID) -> Role | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM identity.roles WHERE company_id = $1 AND id = $2",  # noqa: S608
            company_id,
            role_id,
        )
        return _role(row) if row else None

    async def by_name(self, company_id: str, name: str) -> Role | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM identity.roles WHERE company_id = $1 AND name = $2",  # noqa: S608
            company_id,
            name,
        )
        return _role(row) if row else None

    async def create(self, company_id: str, name: str, permissions: frozenset[Permission]) -> Role:
        try:
            row = await self._pool.fetchrow(
                "INSERT INTO identity.roles (id, company_id, name, permissions)"  # noqa: S608 - constant
                f" VALUES ($1, $2, $3, $4) RETURNING {_COLUMNS}",
                uuid.uuid4(),
                company_id,
                name,
                sorted(p.value for p in permissions),
            )
        except asyncpg.UniqueViolationError as exc:
            raise RoleNameTaken(name) from exc
        return _role(row)

    async def update(
        self, company_id: str, role_id: uuid.UUID, name: str, permissions: frozenset[Permission]
    ) -> Role | None:
        """The changed role (None: no such custom role of the company)."""
        try:
            row = await self._pool.fetchrow(
                "UPDATE identity.roles SET name = $3, permissions = $4, updated_at = now()"  # noqa: S608
                " WHERE company_id = $1 AND id = $2 AND NOT builtin"
                f" RETURNING {_COLUMNS}",
                company_id,
                role_id,
                name,
                sorted(p.value for p in permissions),
            )
        except asyncpg.UniqueViolationError as exc:
            raise RoleNameTaken(name) from exc
        return _role(row) if row else None

    async def delete(self, company_id: str, role_id: uuid.UUID) -> bool:
        """True when the custom role was deleted; :class:`RoleInUse` while users hold it."""
        try:
            status = await self._pool.execute(
                "DELETE FROM identity.roles WHERE company_id = $1 AND id = $2 AND NOT builtin",
                company_id,
                role_id,
            )
        except asyncpg.ForeignKeyViolationError as exc:
            raise RoleInUse(str(role_id)) from exc
        return bool(status == "DELETE 1")
