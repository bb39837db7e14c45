"""The identity service: companies, users, roles, logins and API keys; it signs the
access tokens every other service verifies on its own."""

from __future__ import annotations

from fastapi import FastAPI

from cauce_identity.api import api_keys, auth, companies, roles, users
from cauce_identity.bootstrap import Identity
from cauce_identity.settings import IdentitySettings
from cauce_runtime import create_service_app, postgres

DESCRIPTION = (
    "Companies (the tenants), their users and roles, logins (Argon2id passwords, "
    "short-lived EdDSA access tokens, rotating refresh tokens) and API keys. Other "
    "services verify the tokens locally with the keys published in JetStream KV."
)


def create_app(settings: IdentitySettings | None = None) -> FastAPI:
    settings = settings or IdentitySettings()
    identity = Identity.build(settings)
    return create_service_app(
        settings,
        bus=identity.bus,
        wiring=identity,
        verifier=identity.verifier,
        readiness={"postgres": postgres.reachable(identity.pool)},
        routers=(auth.router, companies.router, users.router, roles.router, api_keys.router),
        on_prepare=[identity.open],
        on_startup=[identity.key_publisher.start, identity.company_settings.start],
        on_shutdown=[identity.company_settings.stop, identity.key_publisher.stop],
        on_closed=[identity.close],
        title="cauce identity",
        description=DESCRIPTION,
    )
