"""The identity service's bootstrap object: settings, bus, PostgreSQL pool and stores,
signing keys, logins, built once at start (:meth:`Identity.build`); routes reach it as
:data:`IdentityDep`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends

from cauce_identity.access_tokens import AccessTokens
from cauce_identity.company_settings import CompanySettingsMirror
from cauce_identity.key_publishing import KeyPublisher
from cauce_identity.logins import Logins
from cauce_identity.revocations import SessionRevocations
from cauce_identity.settings import IdentitySettings
from cauce_identity.signing import SigningKeys
from cauce_identity.store import (
    ApiKeyStore,
    CompanyStore,
    RefreshTokenStore,
    RoleStore,
    UserStore,
    migrate,
)
from cauce_runtime import Bus, postgres, wired
from cauce_runtime.identity import TokenVerifier

logger = logging.getLogger(__name__)


@dataclass
class Identity:
    settings: IdentitySettings
    bus: Bus
    #: Opened (and migrated) by :meth:`open`.
    pool: asyncpg.Pool
    keys: SigningKeys
    companies: CompanyStore
    roles: RoleStore
    users: UserStore
    api_keys: ApiKeyStore
    logins: Logins
    revocations: SessionRevocations
    key_publisher: KeyPublisher
    #: Companies' settings (their bot) for the other services, in JetStream KV.
    company_settings: CompanySettingsMirror
    #: Verifies this service's own API calls (it knows its keys without the bus).
    verifier: TokenVerifier

    @classmethod
    def build(cls, settings: IdentitySettings, *, bus: Bus | None = None) -> Identity:
        """Everything built, nothing connected yet."""
        pool = postgres.create_pool(settings.postgres_url, settings.postgres_pool_size)
        bus = bus or Bus(settings, streams=())
        keys = SigningKeys.from_settings(settings)
        users = UserStore(pool)
        api_keys = ApiKeyStore(pool)
        revocations = SessionRevocations(bus, settings.access_token_ttl_s)
        logins = Logins(
            settings,
            users,
            RefreshTokenStore(pool),
            api_keys,
            AccessTokens(keys, settings.access_token_ttl_s),
            revocations,
        )
        verifier = TokenVerifier.from_jwks([*keys.jwks(), *settings.identity_public_keys])
        companies = CompanyStore(pool)
        return cls(
            settings=settings,
            bus=bus,
            pool=pool,
            keys=keys,
            companies=companies,
            roles=RoleStore(pool),
            users=users,
            api_keys=api_keys,
            logins=logins,
            revocations=revocations,
            key_publisher=KeyPublisher(keys, bus),
            company_settings=CompanySettingsMirror(companies, bus),
            verifier=verifier,
        )

    async def open(self) -> None:
        """Before the bus starts: the pool open and the schema migrated."""
        await self.pool  # asyncpg: awaiting a pool opens it
        applied = await migrate(self.pool)
        if applied:
            logger.info("identity schema migrated to version %d", max(applied))

    async def close(self) -> None:
        await self.pool.close()


#: What a route or dependency takes to reach the identity service wired at start.
IdentityDep = Annotated[Identity, Depends(wired(Identity))]
