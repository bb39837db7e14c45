"""Access tokens verified locally (``cauce_runtime.identity``): the verifier's checks
on their own, then a service following the identity KV buckets on a real nats-server."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Depends
from jwt.algorithms import OKPAlgorithm

from cauce_contracts.identity import Permission
from cauce_devstack.testing import eventually, serving
from cauce_runtime import Bus, ServiceSettings, create_service_app
from cauce_runtime.identity import (
    Caller,
    CallerDep,
    InvalidToken,
    TokenVerifier,
    require,
    revoked_sessions_bucket,
    signing_keys_bucket,
)

KID = "test-key-1"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": "cauce-identity",
        "aud": "cauce",
        "sub": f"user:{uuid.uuid4()}",
        "cid": "acme",
        "role": "agent",
        "perms": ["chats.read"],
        "sid": str(uuid.uuid4()),
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 600,
    }
    values.update(overrides)
    return values


def sign(key: Ed25519PrivateKey, kid: str = KID, **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), key, "EdDSA", headers={"kid": kid})


def public_jwk(key: Ed25519PrivateKey, kid: str = KID) -> dict[str, Any]:
    return {**json.loads(OKPAlgorithm.to_jwk(key.public_key())), "kid": kid}


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_a_valid_token_gives_its_caller(key: Ed25519PrivateKey) -> None:
    caller = TokenVerifier.from_jwks([public_jwk(key)]).verify(sign(key, cid="globex"))
    assert caller.company_id == "globex" and caller.role == "agent"
    assert caller.may(Permission.CHATS_READ) and not caller.may(Permission.USERS_MANAGE)
    assert caller.company_for(None) == "globex"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("other key, same kid", "invalid token"),
        ("unknown kid", "unknown key"),
        ("expired", "expired"),
        ("other audience", "invalid token"),
        ("other issuer", "invalid token"),
        ("alg none", "algorithm"),
        ("HS256 keyed with the public key", "algorithm"),
        ("no company", "invalid token"),
    ],
)
def test_tokens_that_are_not_ours_are_refused(
    key: Ed25519PrivateKey, case: str, reason: str
) -> None:
    verifier = TokenVerifier.from_jwks([public_jwk(key)], leeway_s=5)
    public_x = public_jwk(key)["x"]
    token = {
        "other key, same kid": lambda: sign(Ed25519PrivateKey.generate()),
        "unknown kid": lambda: sign(key, kid="nope"),
        "expired": lambda: sign(key, exp=int(time.time()) - 60),
        "other audience": lambda: sign(key, aud="someone-else"),
        "other issuer": lambda: sign(key, iss="evil"),
        "alg none": lambda: jwt.encode(claims(), None, "none", headers={"kid": KID}),
        "HS256 keyed with the public key": lambda: jwt.encode(
            claims(), public_x, "HS256", headers={"kid": KID}
        ),
        "no company": lambda: sign(key, cid=""),
    }[case]()
    with pytest.raises(InvalidToken, match=reason):
        verifier.verify(token)


def test_a_permission_unknown_here_is_ignored_not_fatal(key: Ed25519PrivateKey) -> None:
    caller = TokenVerifier.from_jwks([public_jwk(key)]).verify(
        sign(key, perms=["chats.read", "future.power"])
    )
    assert caller.permissions == {Permission.CHATS_READ}


def test_a_revoked_session_is_refused_until_its_tokens_expire(key: Ed25519PrivateKey) -> None:
    now = [1000.0]
    verifier = TokenVerifier.from_jwks([public_jwk(key)], clock=lambda: now[0])
    sid = str(uuid.uuid4())
    token = sign(key, sid=sid)
    verifier.revoke_session(sid, until=now[0] + 600)
    with pytest.raises(InvalidToken, match="revoked"):
        verifier.verify(token)
    now[0] += 601
    assert not verifier.is_revoked(sid)


def test_only_a_platform_admin_acts_for_another_company(key: Ed25519PrivateKey) -> None:
    verifier = TokenVerifier.from_jwks([public_jwk(key)])
    user = verifier.verify(sign(key))
    admin = verifier.verify(sign(key, pla=True))
    assert admin.company_for("globex") == "globex"
    assert user.company_for("acme") == "acme"
    with pytest.raises(Exception, match="globex"):
        user.company_for("globex")


def _protected_app(settings: ServiceSettings, bus: Bus, verifier: TokenVerifier) -> Any:
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(caller: CallerDep) -> dict[str, str]:
        return {"company": caller.company_id}

    @router.get("/users")
    async def users(caller: Caller = Depends(require(Permission.USERS_READ))) -> dict[str, str]:  # noqa: B008
        return {"company": caller.company_id}

    return create_service_app(settings, bus=bus, verifier=verifier, routers=[router])


async def test_a_service_learns_keys_and_revocations_from_the_bus(
    settings: ServiceSettings, tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    """The service starts knowing no key; the identity service's key and revocations
    reach it through JetStream KV, with no call to the identity service."""
    verifier = TokenVerifier()
    app = _protected_app(settings, Bus(settings, streams=()), verifier)
    publisher = Bus(settings, streams=())
    await publisher.start()
    try:
        async with serving(app) as url, httpx.AsyncClient(base_url=url) as client:
            sid = str(uuid.uuid4())
            token = sign(key, sid=sid)
            headers = {"authorization": f"Bearer {token}"}
            unknown = await client.get("/whoami", headers=headers)
            assert unknown.status_code == 401
            assert unknown.headers["www-authenticate"].startswith("Bearer")
            assert unknown.headers["content-type"] == "application/problem+json"
            assert (await client.get("/whoami")).status_code == 401

            js = publisher.connection.jetstream()
            keys = await signing_keys_bucket(js)
            await keys.put(KID, json.dumps(public_jwk(key)).encode())

            async def accepted() -> bool:
                return (await client.get("/whoami", headers=headers)).status_code == 200

            await eventually(accepted, timeout=3, what="the published key to be learnt")
            assert (await client.get("/users", headers=headers)).status_code == 403

            revoked = await revoked_sessions_bucket(js)
            await revoked.put(sid, json.dumps({"until": time.time() + 600}).encode())

            async def refused() -> bool:
                return (await client.get("/whoami", headers=headers)).status_code == 401

            await eventually(refused, timeout=3, what="the revoked session to be refused")
            other = {"authorization": f"Bearer {sign(key)}"}
            assert (await client.get("/whoami", headers=other)).status_code == 200

            await keys.delete(KID)

            async def key_gone() -> bool:
                return (await client.get("/whoami", headers=other)).status_code == 401

            await eventually(key_gone, timeout=3, what="the deleted key to be forgotten")
    finally:
        await publisher.stop()


async def test_keys_already_in_the_bucket_are_known_when_the_service_starts(
    settings: ServiceSettings, key: Ed25519PrivateKey
) -> None:
    publisher = Bus(settings, streams=())
    await publisher.start()
    try:
        bucket = await signing_keys_bucket(publisher.connection.jetstream())
        await bucket.put(KID, json.dumps(public_jwk(key)).encode())
        verifier = TokenVerifier()
        app = _protected_app(settings, Bus(settings, streams=()), verifier)
        async with serving(app) as url, httpx.AsyncClient(base_url=url) as client:
            # no waiting: start returned once the bucket's entries were applied
            answer = await client.get("/whoami", headers={"authorization": f"Bearer {sign(key)}"})
        assert answer.status_code == 200 and answer.json() == {"company": "acme"}
    finally:
        await publisher.stop()
