"""A user of one company never reaches another's users, roles, API keys or company,
whatever ids or parameters it sends; a platform admin crosses only when it asks."""

from __future__ import annotations

import json

import httpx
import nats

from cauce_contracts.identity import COMPANY_SETTINGS_BUCKET
from cauce_devstack.testing import eventually

from .conftest import PASSWORD, IdentityServer


async def _ids(client: httpx.AsyncClient, path: str) -> set[str]:
    answer = await client.get(path)
    assert answer.status_code == 200, answer.text
    return {item["id"] for item in answer.json()}


async def test_a_company_admin_sees_and_changes_only_its_own(identity: IdentityServer) -> None:
    acme = await identity.token_of("acme")
    globex = await identity.token_of("globex")
    async with identity.client(globex) as client:
        globex_user = (await client.get("/api/users")).json()[0]
        globex_role = next(
            r for r in (await client.get("/api/roles")).json() if r["name"] == "agent"
        )
        key = (
            await client.post("/api/api-keys", json={"name": "crm", "scopes": ["chats.read"]})
        ).json()

    async with identity.client(acme) as client:
        acme_users = await _ids(client, "/api/users")
        assert globex_user["id"] not in acme_users
        assert globex_role["id"] not in await _ids(client, "/api/roles")
        assert key["id"] not in await _ids(client, "/api/api-keys")
        assert {c["id"] for c in (await client.get("/api/companies")).json()} == {"acme"}
        reads = [
            await client.get(f"/api/users/{globex_user['id']}"),
            await client.put(f"/api/users/{globex_user['id']}", json={"full_name": "hijacked"}),
            await client.delete(f"/api/users/{globex_user['id']}"),
            await client.put(
                f"/api/roles/{globex_role['id']}", json={"name": "x", "permissions": []}
            ),
            await client.delete(f"/api/roles/{globex_role['id']}"),
            await client.delete(f"/api/api-keys/{key['id']}"),
            await client.get("/api/companies/globex"),
            await client.put("/api/companies/globex", json={"name": "hijacked"}),
        ]
        assert [r.status_code for r in reads] == [404] * len(reads)
        # a globex role cannot be given to an acme user either
        granted = await client.post(
            "/api/users",
            json={
                "email": "new@acme.example.com",
                "full_name": "New",
                "password": PASSWORD,
                "role_id": globex_role["id"],
            },
        )
        assert granted.status_code == 422
        # naming the other company is refused, not obeyed
        for path in ("/api/users", "/api/roles", "/api/api-keys"):
            answer = await client.get(path, params={"company_id": "globex"})
            assert answer.status_code == 403, path

    async with identity.client(globex) as client:
        user = (await client.get(f"/api/users/{globex_user['id']}")).json()
        assert user["full_name"] != "hijacked"
        assert (await client.get("/api/companies/globex")).json()["name"] == "Globex"


async def test_a_platform_admin_crosses_companies_only_explicitly(
    identity: IdentityServer,
) -> None:
    platform = await identity.token_of("acme", platform_admin=True)
    globex_email = await identity.add_user("globex", "agent")
    async with identity.client(platform) as client:
        own = (await client.get("/api/users")).json()
        crossed = (await client.get("/api/users", params={"company_id": "globex"})).json()
        companies = {c["id"] for c in (await client.get("/api/companies")).json()}
        created = await client.post("/api/companies", json={"id": "initech", "name": "Initech"})
        again = await client.post("/api/companies", json={"id": "initech", "name": "Initech"})
    assert globex_email not in {u["email"] for u in own}
    assert globex_email in {u["email"] for u in crossed}
    assert {"acme", "globex"} <= companies
    assert (created.status_code, again.status_code) == (201, 409)

    async with identity.client(await identity.token_of("acme")) as client:
        refused = await client.post("/api/companies", json={"id": "umbrella", "name": "U"})
    assert refused.status_code == 403


async def test_a_companys_bot_setting_reaches_the_bus(identity: IdentityServer) -> None:
    """The company's admin picks who answers its customers; the setting is published in
    JetStream KV for the conversation service (which follows it live)."""
    admin = await identity.token_of("acme")
    async with identity.client(admin) as client:
        changed = await client.put("/api/companies/acme", json={"bot": "human_only"})
        wrong = await client.put("/api/companies/acme", json={"bot": "chatgpt"})
    assert changed.status_code == 200 and changed.json()["bot"] == "human_only"
    assert wrong.status_code == 422

    async def published() -> bool:
        nc = await nats.connect(identity.settings.nats_url)
        try:
            bucket = await nc.jetstream().key_value(COMPANY_SETTINGS_BUCKET)
            entry = await bucket.get("acme")
            return bool(entry.value and json.loads(entry.value)["bot"] == "human_only")
        finally:
            await nc.close()

    await eventually(published, timeout=2, what="the setting in JetStream KV")
    agent = await identity.token_of("acme", "agent")
    async with identity.client(agent) as client:
        refused = await client.put("/api/companies/acme", json={"bot": "none"})
    assert refused.status_code == 403  # company.manage only
