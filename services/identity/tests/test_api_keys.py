"""API keys: created with scopes, the secret shown once, exchanged for access tokens
by OAuth 2.0 client credentials, revoked for good (its live tokens too)."""

from __future__ import annotations

import httpx

from cauce_devstack.testing import eventually
from cauce_runtime.identity import TokenVerifier

from .conftest import IdentityServer


async def test_a_key_is_exchanged_for_a_scoped_token_until_revoked(
    identity: IdentityServer,
) -> None:
    admin = await identity.token_of("acme")
    async with identity.client(admin) as client:
        created = await client.post(
            "/api/api-keys", json={"name": "odoo sync", "scopes": ["reports.read", "chats.read"]}
        )
        listed = (await client.get("/api/api-keys")).json()
    key = created.json()
    assert created.status_code == 201 and key["secret"]
    assert all("secret" not in item for item in listed)

    async with identity.client() as client:
        basic = await client.post(
            "/api/auth/token",
            data={"grant_type": "client_credentials"},
            auth=httpx.BasicAuth(key["id"], key["secret"]),
        )
        form = await client.post(
            "/api/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": key["id"],
                "client_secret": key["secret"],
            },
        )
        wrong = await client.post(
            "/api/auth/token",
            data={"grant_type": "client_credentials"},
            auth=httpx.BasicAuth(key["id"], "not-the-secret"),
        )
        password_grant = await client.post("/api/auth/token", data={"grant_type": "password"})
        keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
    assert basic.status_code == form.status_code == 200
    assert (wrong.status_code, wrong.json()) == (401, {"error": "invalid_client"})
    assert (password_grant.status_code, password_grant.json()["error"]) == (
        400,
        "unsupported_grant_type",
    )
    caller = TokenVerifier.from_jwks(keys).verify(basic.json()["access_token"])
    assert caller.company_id == "acme" and caller.subject == f"api-key:{key['id']}"
    assert caller.permissions == {"reports.read", "chats.read"}

    token = basic.json()["access_token"]
    async with identity.client(admin) as client:
        assert (await client.delete(f"/api/api-keys/{key['id']}")).status_code == 204
        assert (await client.delete(f"/api/api-keys/{key['id']}")).status_code == 204

    async def token_refused() -> bool:
        async with identity.client(token) as client:
            return (await client.get("/api/auth/me")).status_code == 401

    await eventually(token_refused, timeout=2, what="the revoked key's token to be refused")
    async with identity.client() as client:
        after = await client.post(
            "/api/auth/token",
            data={"grant_type": "client_credentials"},
            auth=httpx.BasicAuth(key["id"], key["secret"]),
        )
    assert after.status_code == 401


async def test_a_key_cannot_carry_scopes_its_creator_lacks(identity: IdentityServer) -> None:
    supervisor = await identity.token_of("acme", "supervisor")
    admin = await identity.token_of("acme")
    async with identity.client(admin) as client:
        custom = await client.post(
            "/api/roles",
            json={"name": "integrators", "permissions": ["api_keys.manage", "chats.read"]},
        )
        integrator_email = "integrator@acme.example.com"
        from .conftest import PASSWORD

        await client.post(
            "/api/users",
            json={
                "email": integrator_email,
                "full_name": "I",
                "password": PASSWORD,
                "role_id": custom.json()["id"],
            },
        )
    integrator = (await identity.log_in(integrator_email))["access_token"]
    async with identity.client(integrator) as client:
        wide = await client.post("/api/api-keys", json={"name": "k", "scopes": ["users.manage"]})
        narrow = await client.post("/api/api-keys", json={"name": "k", "scopes": ["chats.read"]})
    async with identity.client(supervisor) as client:
        none = await client.post("/api/api-keys", json={"name": "k", "scopes": ["chats.read"]})
    assert (wide.status_code, narrow.status_code, none.status_code) == (403, 201, 403)
