"""Identity test fixtures: a fresh database per test on the session PostgreSQL, the
test's own nats-server, and the identity service served over real HTTP."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from cauce_identity.app import create_app
from cauce_identity.passwords import hash_password
from cauce_identity.settings import IdentitySettings
from cauce_identity.store import CompanyStore, RoleStore, UserStore, migrate
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from cauce_devstack.servers import free_port
from cauce_devstack.testing import service_test_values, serving
from cauce_runtime import postgres

PASSWORD = "correct horse battery staple"


def identity_settings(
    nats_url: str, database_url: str, tmp_path: Path, **overrides: Any
) -> IdentitySettings:
    values: dict[str, Any] = {
        **service_test_values(nats_url, tmp_path),
        "port": free_port(),
        "postgres_url": database_url,
        "signing_key": new_signing_key(),
    }
    values.update(overrides)
    return IdentitySettings(_env_file=None, **values)


def new_signing_key() -> str:
    """A fresh Ed25519 private key in PEM (as ``openssl genpkey -algorithm ed25519``)."""
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@dataclass
class IdentityServer:
    url: str
    settings: IdentitySettings
    database_url: str

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=10.0)

    async def add_company(self, company_id: str) -> None:
        async with _pool(self.database_url) as pool:
            await CompanyStore(pool).create(company_id, company_id.title())

    async def add_user(
        self,
        company_id: str,
        role: str = "admin",
        *,
        email: str | None = None,
        platform_admin: bool = False,
    ) -> str:
        """A user of ``company_id`` with that role's name; their e-mail."""
        email = email or f"{role}-{uuid.uuid4().hex[:8]}@{company_id}.example.com"
        async with _pool(self.database_url) as pool:
            found = await RoleStore(pool).by_name(company_id, role)
            assert found is not None
            await UserStore(pool).create(
                company_id,
                email,
                role.title(),
                await hash_password(PASSWORD),
                found.id,
                platform_admin=platform_admin,
            )
        return email

    async def log_in(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        async with self.client() as client:
            answer = await client.post(
                "/api/auth/login", json={"email": email, "password": password}
            )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def token_of(self, company_id: str, role: str = "admin", **kw: Any) -> str:
        email = await self.add_user(company_id, role, **kw)
        return str((await self.log_in(email))["access_token"])


@contextlib.asynccontextmanager
async def _pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await postgres.create_pool(SecretStr(database_url), 2)
    try:
        await migrate(pool)
        yield pool
    finally:
        await pool.close()


@contextlib.asynccontextmanager
async def running_identity(
    nats_url: str, database_url: str, tmp_path: Path, **overrides: Any
) -> AsyncIterator[IdentityServer]:
    settings = identity_settings(nats_url, database_url, tmp_path, **overrides)
    async with serving(create_app(settings), settings.port) as url:
        yield IdentityServer(url, settings, database_url)


@pytest.fixture
async def identity(
    nats_url: str, database_url: str, tmp_path: Path
) -> AsyncIterator[IdentityServer]:
    async with running_identity(nats_url, database_url, tmp_path) as server:
        await server.add_company("acme")
        await server.add_company("globex")
        yield server
