"""``make run``'s demo company (dev only): the dev tenant with an admin and an agent whose
passwords are generated afresh at every start and printed, so the console can be
tried at once and no fixed password exists anywhere. Written with the identity
service's own stores and password hashing, after it migrated its schema."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

from cauce_identity.passwords import hash_password
from cauce_identity.store import CompanyStore, RoleStore, UserStore, migrate
from pydantic import SecretStr

from cauce_runtime import postgres

#: (e-mail, full name, built-in role) of the demo users.
DEMO_USERS = (
    ("demo-admin@demo.example.com", "Demo Admin", "admin"),
    ("demo-agent@demo.example.com", "Demo Agent", "agent"),
)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str


async def ensure_demo_users(postgres_url: str, company_id: str) -> list[DemoLogin]:
    """The demo company and its users, each with a new password."""
    pool = await postgres.create_pool(SecretStr(postgres_url), 2)
    try:
        await migrate(pool)
        companies = CompanyStore(pool)
        if await companies.get(company_id) is None:
            await companies.create(company_id, "Demo")
        roles, users = RoleStore(pool), UserStore(pool)
        logins = []
        for email, name, role_name in DEMO_USERS:
            password = secrets.token_urlsafe(12)
            hashed = await hash_password(password)
            user = await users.by_email(email)
            if user is None:
                role = await roles.by_name(company_id, role_name)
                assert role is not None, "every company has the built-in roles"
                await users.create(company_id, email, name, hashed, role.id)
            else:
                await users.set_password(user.id, hashed)
            logins.append(DemoLogin(email, password, role_name))
        return logins
    finally:
        await pool.close()


def demo_users(postgres_url: str, company_id: str) -> list[DemoLogin]:
    return asyncio.run(ensure_demo_users(postgres_url, company_id))
