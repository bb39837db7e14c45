"""Users of a company: their login, role and lockout state."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from cauce_contracts.identity import Permission
from cauce_identity.store.permission_sets import permission_set

_COLUMNS = (
    "u.id, u.company_id, u.email, u.full_name, u.password_hash, u.role_id, r.name AS role,"
    " r.permissions, u.platform_admin, u.failed_logins, u.locked_until,"
    " u.password_changed_at, u.last_login_at, u.created_at, u.updated_at"
)
_FROM = "identity.users u JOIN identity.roles r ON r.id = u.role_id"


class EmailTaken(Exception):
    """Another (not deleted) user has that e-mail."""


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    company_id: str
    email: str
    full_name: str
    password_hash: str
    role_id: uuid.UUID
    role: str
    permissions: frozenset[Permission]
    platform_admin: bool
    failed_logins: int
    locked_until: datetime | None
    password_changed_at: datetime
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime


def _user(row: asyncpg.Record) -> User:
    values = dict(row)
    values["permissions"] = permission_set(values["permissions"])
    return User(**values)


class UserStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(
        self,
        company_id: str,
        email: str,
        full_name: str,
        password_hash: str,
        role_id: uuid.UUID,
        *,
        platform_admin: bool = False,
    ) -> User:
        user_id = uuid.uuid4()
        try:
            await self._pool.execute(
                "INSERT INTO identity.users"
                " (id, company_id, email, full_name, password_hash, role_id, platform_admin)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                user_id,
                company_id,
                email.lower(),
                full_name,
                password_hash,
                role_id,
                platform_admin,
            )
        except asyncpg.UniqueViolationError as exc:
            raise EmailTaken(email) from exc
        user = await self.get(company_id, user_id)
        assert user is not None
        return user

    async def get(self, company_id: str, user_id: uuid.UUID) -> User | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM {_FROM}"  # noqa: S608
            " WHERE u.company_id = $1 AND u.id = $2 AND u.deleted_at IS NULL",
            company_id,
            user_id,
        )
        return _user(row) if row else None

    async def by_id(self, user_id: uuid.UUID) -> User | None:
        """Any company's user (the refresh path: the token names the user)."""
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM {_FROM} WHERE u.id = $1 AND u.deleted_at IS NULL",  # noqa: S608
            user_id,
        )
        return _user(row) if row else None

    async def by_email(self, email: str) -> User | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM {_FROM} WHERE u.email = $1 AND u.deleted_at IS NULL",  # noqa: S608
            email.lower(),
        )
        return _user(row) if row else None

    async def list(self, company_id: str) -> list[User]:
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM {_FROM}"  # noqa: S608
            " WHERE u.company_id = $1 AND u.deleted_at IS NULL ORDER BY u.created_at, u.id",
            company_id,
        )
        return [_user(row) for row in rows]

    async def update(
        self,
        company_id: str,
        user_id: uuid.UUID,
        *,
        full_name: str | None = None,
        email: str | None = None,
        role_id: uuid.UUID | None = None,
    ) -> User | None:
        try:
            status = await self._pool.execute(
                "UPDATE identity.users SET full_name = coalesce($3, full_name),"
                " email = coalesce($4, email), role_id = coalesce($5, role_id),"
                " updated_at = now()"
                " WHERE company_id = $1 AND id = $2 AND deleted_at IS NULL",
                company_id,
                user_id,
                full_name,
                email.lower() if email else None,
                role_id,
            )
        except asyncpg.UniqueViolationError as exc:
            raise EmailTaken(email or "") from exc
        return await self.get(company_id, user_id) if status == "UPDATE 1" else None

    async def delete(self, company_id: str, user_id: uuid.UUID) -> bool:
        status = await self._pool.execute(
            "UPDATE identity.users SET deleted_at = now(), updated_at = now()"
            " WHERE company_id = $1 AND id = $2 AND deleted_at IS NULL",
            company_id,
            user_id,
        )
        return bool(status == "UPDATE 1")

    async def set_password(self, user_id: uuid.UUID, password_hash: str) -> None:
        await self._pool.execute(
            "UPDATE identity.users SET password_hash = $2, password_changed_at = now(),"
            " updated_at = now() WHERE id = $1",
            user_id,
            password_hash,
        )

    async def login_failed(
        self, user_id: uuid.UUID, max_failures: int, lockout_s: float, lockout_max_s: float
    ) -> datetime | None:
        """Count a failure; from the ``max_failures``-th in a row the account is locked,
        for ``lockout_s`` doubled per further failure (capped). The lock's end, if any."""
        row = await self._pool.fetchrow(
            "UPDATE identity.users SET failed_logins = failed_logins + 1,"
            " locked_until = CASE WHEN failed_logins + 1 >= $2"
            "   THEN now() + least($4, $3 * power(2, failed_logins + 1 - $2)) * interval '1 second'"
            "   ELSE locked_until END"
            " WHERE id = $1 RETURNING locked_until",
            user_id,
            max_failures,
            lockout_s,
            lockout_max_s,
        )
        return row["locked_until"] if row else None

    async def login_succeeded(self, user_id: uuid.UUID, rehashed: str | None) -> None:
        await self._pool.execute(
            "UPDATE identity.users SET failed_logins = 0, locked_until = NULL,"
            " last_login_at = now(), password_hash = coalesce($2, password_hash)"
            " WHERE id = $1",
            user_id,
            rehashed,
        )


def lock_remaining(user: User, now: datetime) -> timedelta | None:
    """How long the user's account stays locked (None: not locked)."""
    if user.locked_until is None or user.locked_until <= now:
        return None
    return user.locked_until - now
