"""Users and roles of a company: who may manage them, builtin roles kept, no
escalation through a role, and a role change taking effect at once."""

from __future__ import annotations

from cauce_devstack.testing import eventually

from .conftest import PASSWORD, IdentityServer


async def test_an_agent_reads_nothing_of_users_and_manages_nothing(
    identity: IdentityServer,
) -> None:
    agent = await identity.token_of("acme", "agent")
    async with identity.client(agent) as client:
        listed = await client.get("/api/users")
        created = await client.post("/api/roles", json={"name": "x", "permissions": []})
        key = await client.post("/api/api-keys", json={"name": "k", "scopes": ["chats.read"]})
    assert (listed.status_code, created.status_code, key.status_code) == (403, 403, 403)
    assert "users.read" in listed.json()["detail"]


async def test_admin_creates_users_and_custom_roles(identity: IdentityServer) -> None:
    admin = await identity.token_of("acme")
    async with identity.client(admin) as client:
        role = await client.post(
            "/api/roles",
            json={"name": "campaigns", "permissions": ["campaigns.read", "campaigns.manage"]},
        )
        assert role.status_code == 201
        user = await client.post(
            "/api/users",
            json={
                "email": "Marketer@Acme.example.com",
                "full_name": "Marketer",
                "password": PASSWORD,
                "role_id": role.json()["id"],
            },
        )
        assert user.status_code == 201, user.text
        duplicate = await client.post(
            "/api/users",
            json={
                "email": "marketer@acme.example.com",
                "full_name": "Twin",
                "password": PASSWORD,
                "role_id": role.json()["id"],
            },
        )
        weak = await client.post(
            "/api/users",
            json={
                "email": "weak@acme.example.com",
                "full_name": "W",
                "password": "short",
                "role_id": role.json()["id"],
            },
        )
        in_use = await client.delete(f"/api/roles/{role.json()['id']}")
        builtin = next(r for r in (await client.get("/api/roles")).json() if r["builtin"])
        builtin_change = await client.put(
            f"/api/roles/{builtin['id']}", json={"name": builtin["name"], "permissions": []}
        )
    assert user.json()["email"] == "marketer@acme.example.com"
    assert user.json()["permissions"] == ["campaigns.manage", "campaigns.read"]
    assert (duplicate.status_code, weak.status_code) == (409, 422)
    assert (in_use.status_code, builtin_change.status_code) == (409, 409)
    session = await identity.log_in("marketer@acme.example.com")
    assert session["user"]["role"] == "campaigns"


async def test_nobody_grants_what_they_do_not_hold(identity: IdentityServer) -> None:
    admin = await identity.token_of("acme")
    async with identity.client(admin) as client:
        managers = await client.post(
            "/api/roles",
            json={
                "name": "user managers",
                "permissions": ["users.read", "users.manage", "roles.manage"],
            },
        )
        await client.post(
            "/api/users",
            json={
                "email": "hr@acme.example.com",
                "full_name": "HR",
                "password": PASSWORD,
                "role_id": managers.json()["id"],
            },
        )
        admin_role = next(
            r for r in (await client.get("/api/roles")).json() if r["name"] == "admin"
        )
    hr = (await identity.log_in("hr@acme.example.com"))["access_token"]
    async with identity.client(hr) as client:
        itself = (await client.get("/api/users")).json()
        me = next(u for u in itself if u["email"] == "hr@acme.example.com")
        promote = await client.put(f"/api/users/{me['id']}", json={"role_id": admin_role["id"]})
        wider_role = await client.post(
            "/api/roles", json={"name": "wider", "permissions": ["company.manage"]}
        )
    assert (promote.status_code, wider_role.status_code) == (403, 403)


async def test_a_new_role_ends_the_users_sessions_so_it_holds_at_once(
    identity: IdentityServer,
) -> None:
    admin = await identity.token_of("acme")
    email = await identity.add_user("acme", "supervisor")
    session = await identity.log_in(email)
    async with identity.client(admin) as client:
        agent_role = next(
            r for r in (await client.get("/api/roles")).json() if r["name"] == "agent"
        )
        changed = await client.put(
            f"/api/users/{session['user']['id']}", json={"role_id": agent_role["id"]}
        )
    assert changed.status_code == 200 and changed.json()["role"] == "agent"

    async def old_token_refused() -> bool:
        async with identity.client(session["access_token"]) as client:
            return (await client.get("/api/auth/me")).status_code == 401

    await eventually(old_token_refused, timeout=2, what="the supervisor token to be refused")
    assert (await identity.log_in(email))["user"]["role"] == "agent"


async def test_a_deleted_user_cannot_log_in_and_its_email_is_free(identity: IdentityServer) -> None:
    admin = await identity.token_of("acme")
    email = await identity.add_user("acme", "agent")
    session = await identity.log_in(email)
    async with identity.client(admin) as client:
        gone = await client.delete(f"/api/users/{session['user']['id']}")
        self_id = (await client.get("/api/auth/me")).json()["user"]["id"]
        itself = await client.delete(f"/api/users/{self_id}")
    assert (gone.status_code, itself.status_code) == (204, 409)
    async with identity.client() as client:
        login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 401
    await identity.add_user("acme", "agent", email=email)  # the address may be reused
