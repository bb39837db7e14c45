"""Logging in, refreshing, logging out and changing passwords, against a real identity
service (PostgreSQL, NATS): and the abuse cases (wrong passwords, lockout, replayed
refresh tokens)."""

from __future__ import annotations

from pathlib import Path

import jwt

from cauce_devstack.testing import eventually
from cauce_runtime.identity import TokenVerifier

from .conftest import PASSWORD, IdentityServer, running_identity


async def me_status(server: IdentityServer, token: str) -> int:
    async with server.client(token) as client:
        return (await client.get("/api/auth/me")).status_code


async def test_login_gives_a_token_every_service_can_verify(identity: IdentityServer) -> None:
    email = await identity.add_user("acme", "agent")
    body = await identity.log_in(email)

    assert body["token_type"] == "Bearer"
    assert body["user"]["email"] == email and body["user"]["company_id"] == "acme"
    assert "password_hash" not in body["user"]
    async with identity.client() as client:
        keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
    caller = TokenVerifier.from_jwks(keys).verify(body["access_token"])
    assert caller.company_id == "acme" and caller.role == "agent"
    assert "chats.read" in caller.permissions and "users.manage" not in caller.permissions
    assert jwt.get_unverified_header(body["access_token"])["kid"] == keys[0]["kid"]
    async with identity.client(body["access_token"]) as client:
        me = (await client.get("/api/auth/me")).json()
    assert me["company"]["id"] == "acme" and me["user"]["email"] == email


async def test_wrong_email_and_wrong_password_answer_alike(identity: IdentityServer) -> None:
    email = await identity.add_user("acme")
    async with identity.client() as client:
        wrong_password = await client.post(
            "/api/auth/login", json={"email": email, "password": "not the password"}
        )
        unknown = await client.post(
            "/api/auth/login", json={"email": "nobody@acme.example.com", "password": PASSWORD}
        )
    assert wrong_password.status_code == unknown.status_code == 401
    assert wrong_password.json()["detail"] == unknown.json()["detail"]
    assert wrong_password.headers["content-type"] == "application/problem+json"


async def test_repeated_failures_lock_the_account_then_it_opens_again(
    nats_url: str, database_url: str, tmp_path: Path
) -> None:
    async with running_identity(
        nats_url, database_url, tmp_path, login_max_failures=3, login_lockout_s=1.0
    ) as server:
        await server.add_company("acme")
        email = await server.add_user("acme")
        async with server.client() as client:
            statuses = [
                (await client.post("/api/auth/login", json={"email": email, "password": "x"}))
                for _ in range(3)
            ]
            locked = await client.post(
                "/api/auth/login", json={"email": email, "password": PASSWORD}
            )
        assert [s.status_code for s in statuses] == [401, 401, 401]
        assert locked.status_code == 429  # even with the right password
        assert int(locked.headers["retry-after"]) >= 1

        async def unlocked() -> bool:
            async with server.client() as client:
                answer = await client.post(
                    "/api/auth/login", json={"email": email, "password": PASSWORD}
                )
            return answer.status_code == 200

        await eventually(unlocked, timeout=5, what="the lock to end")


async def test_refresh_rotates_and_a_replayed_token_revokes_the_session(
    identity: IdentityServer,
) -> None:
    email = await identity.add_user("acme")
    first = await identity.log_in(email)
    async with identity.client() as client:
        rotated = await client.post(
            "/api/auth/refresh", json={"refresh_token": first["refresh_token"]}
        )
        assert rotated.status_code == 200
        second = rotated.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert await me_status(identity, second["access_token"]) == 200

        replay = await client.post(
            "/api/auth/refresh", json={"refresh_token": first["refresh_token"]}
        )
        assert replay.status_code == 401
        # the whole family is gone: the thief's and the owner's tokens alike
        after = await client.post(
            "/api/auth/refresh", json={"refresh_token": second["refresh_token"]}
        )
        assert after.status_code == 401

    async def refused() -> bool:
        return await me_status(identity, second["access_token"]) == 401

    await eventually(refused, timeout=2, what="the session's access token to be refused")
    # another login of the same user is a session of its own
    assert await me_status(identity, (await identity.log_in(email))["access_token"]) == 200


async def test_logout_ends_the_session_everywhere(identity: IdentityServer) -> None:
    email = await identity.add_user("acme")
    session = await identity.log_in(email)
    other = await identity.log_in(email)
    async with identity.client(session["access_token"]) as client:
        assert (await client.post("/api/auth/logout", json={})).status_code == 204

    async def refused() -> bool:
        return await me_status(identity, session["access_token"]) == 401

    await eventually(refused, timeout=2, what="the logged-out token to be refused")
    async with identity.client() as client:
        again = await client.post(
            "/api/auth/refresh", json={"refresh_token": session["refresh_token"]}
        )
    assert again.status_code == 401
    assert await me_status(identity, other["access_token"]) == 200


async def test_changing_the_password_ends_every_session(identity: IdentityServer) -> None:
    email = await identity.add_user("acme", "agent")
    one, two = await identity.log_in(email), await identity.log_in(email)
    new = "a much longer new passphrase"
    async with identity.client(one["access_token"]) as client:
        wrong = await client.post(
            "/api/auth/password", json={"current_password": "nope", "new_password": new}
        )
        weak = await client.post(
            "/api/auth/password", json={"current_password": PASSWORD, "new_password": "short"}
        )
        changed = await client.post(
            "/api/auth/password", json={"current_password": PASSWORD, "new_password": new}
        )
    assert (wrong.status_code, weak.status_code, changed.status_code) == (403, 422, 204)

    async def both_refused() -> bool:
        return all([await me_status(identity, s["access_token"]) == 401 for s in (one, two)])

    await eventually(both_refused, timeout=2, what="every session to end")
    async with identity.client() as client:
        old = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert old.status_code == 401
    assert (await identity.log_in(email, new))["access_token"]


async def test_forged_expired_and_malformed_tokens_are_refused(identity: IdentityServer) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    session = await identity.log_in(await identity.add_user("acme"))
    claims = jwt.decode(session["access_token"], options={"verify_signature": False})
    kid = jwt.get_unverified_header(session["access_token"])["kid"]
    forged = jwt.encode(
        {**claims, "cid": "globex"}, Ed25519PrivateKey.generate(), "EdDSA", headers={"kid": kid}
    )
    unsigned = jwt.encode({**claims, "cid": "globex"}, None, "none", headers={"kid": kid})
    hmac_with_public_key = jwt.encode(claims, "x" * 32, "HS256", headers={"kid": kid})
    tampered = session["access_token"][:-4] + (
        "AAAA" if not session["access_token"].endswith("AAAA") else "BBBB"
    )
    for token in (forged, unsigned, hmac_with_public_key, tampered, "not-a-jwt", ""):
        assert await me_status(identity, token) == 401, token

    expired = identity_signed(identity, {**claims, "exp": claims["iat"] - 120})
    assert await me_status(identity, expired) == 401
    assert await me_status(identity, identity_signed(identity, {**claims, "aud": "other"})) == 401


def identity_signed(server: IdentityServer, claims: dict[str, object]) -> str:
    """A token signed with the service's real key (as if it had issued it)."""
    from cauce_identity.signing import SigningKeys

    keys = SigningKeys.from_settings(server.settings)
    return keys.sign(dict(claims))
