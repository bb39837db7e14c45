"""/admin/channels over HTTP: auth, CRUD, rotation, testing; secrets never come back."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from cauce_contracts.identity import Permission
from cauce_devstack.minted_tokens import TokenMinter
from cauce_notifier.accounts_model import ChannelAccount, ChattigoCredentials
from cauce_notifier.api import TestResult, admin_channels
from cauce_notifier.bootstrap import Notifier
from cauce_notifier.settings import NotifierSettings

from .router_client import router_client

MINTER = TokenMinter()
#: A platform admin of acme: may name another company explicitly.
AUTH = MINTER.headers("acme", Permission.CHANNELS_MANAGE, platform_admin=True)
TOKEN = "EAAG-graph-token-secret-abcdef012345"
PASSWORD = "chattigo-secret-password-987"
NEW_PASSWORD = "rotated-secret-password-654"

#: Accounts the fake provider check was called with.
checked: list[str] = []


async def provider_check(account: ChannelAccount) -> TestResult:
    checked.append(account.account_id)
    if isinstance(account.credentials, ChattigoCredentials):
        ok = account.credentials.password.get_secret_value() == NEW_PASSWORD
        return TestResult(ok=ok, detail=None if ok else "401 login refused")
    return TestResult(ok=True)


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The admin API over a notifier on the test's database, checking credentials with
    ``provider_check`` instead of the providers."""
    checked.clear()
    settings = NotifierSettings(
        environment="test", postgres_url=database_url, identity_public_keys=MINTER.jwks
    )
    notifier = dataclasses.replace(Notifier.build(settings), credentials_tester=provider_check)
    async with router_client(notifier, settings, admin_channels.router) as http:
        yield http


def assert_no_secret(response: httpx.Response) -> None:
    for secret in (TOKEN, PASSWORD, NEW_PASSWORD):
        assert secret not in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": AUTH["Authorization"].removeprefix("Bearer ")},
        {"Authorization": "Bearer "},
        TokenMinter().headers("acme"),  # signed by a key the notifier does not know
    ],
)
async def test_requires_an_access_token(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.get("/admin/channels", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_channel_lifecycle_never_returns_secrets(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/admin/channels",
        headers=AUTH,
        json={
            "tenant_id": "acme",
            "channel": "chattigo",
            "account_id": "5492644710400",
            "display_name": "Acme Chattigo",
            "rate_per_second": 20,
            "credentials": {"username": "acme-bot", "password": PASSWORD},
        },
    )
    assert created.status_code == 201, created.text
    assert_no_secret(created)
    body = created.json()
    account_id = body["id"]
    assert body["credentials"]["fields_set"] == ["bot_name", "password", "username"]
    assert body["credentials"]["public"] == {"username": "acme-bot", "bot_name": "cauce"}
    assert body["credentials"]["status"] == "ok"
    assert body["rate_per_second"] == 20
    fingerprint = body["credentials"]["fingerprint"]

    wa = await client.post(
        "/admin/channels",
        headers=AUTH,
        json={
            "tenant_id": "beta",
            "channel": "whatsapp",
            "account_id": "734053143122597",
            "credentials": {"access_token": TOKEN},
        },
    )
    assert wa.status_code == 201
    duplicate = await client.post(
        "/admin/channels",
        headers=AUTH,
        json={
            "tenant_id": "beta",
            "channel": "whatsapp",
            "account_id": "734053143122597",
            "credentials": {"access_token": TOKEN},
        },
    )
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == "application/problem+json"
    wrong_kind = await client.post(
        "/admin/channels",
        headers=AUTH,
        json={
            "tenant_id": "beta",
            "channel": "ycloud",
            "account_id": "1",
            "credentials": {"access_token": TOKEN},
        },
    )
    assert wrong_kind.status_code == 422
    assert_no_secret(wrong_kind)

    listed = await client.get("/admin/channels", headers=AUTH)  # its own company's
    assert [c["account_id"] for c in listed.json()["items"]] == ["5492644710400"]
    assert_no_secret(listed)
    only_beta = await client.get("/admin/channels", params={"tenant_id": "beta"}, headers=AUTH)
    assert [c["tenant_id"] for c in only_beta.json()["items"]] == ["beta"]

    failed = await client.post(f"/admin/channels/{account_id}/test", headers=AUTH)
    assert failed.json() == {"ok": False, "detail": "401 login refused"}
    shown = await client.get(f"/admin/channels/{account_id}", headers=AUTH)
    assert shown.json()["credentials"]["status"] == "failing"

    bad_rotation = await client.put(
        f"/admin/channels/{account_id}/credentials", headers=AUTH, json={"api_key": NEW_PASSWORD}
    )
    assert bad_rotation.status_code == 422
    assert_no_secret(bad_rotation)
    rotated = await client.put(
        f"/admin/channels/{account_id}/credentials",
        headers=AUTH,
        json={"username": "acme-bot", "password": NEW_PASSWORD},
    )
    assert rotated.status_code == 200
    assert_no_secret(rotated)
    assert rotated.json()["credentials"]["status"] == "ok"
    assert rotated.json()["credentials"]["fingerprint"] != fingerprint
    passed = await client.post(f"/admin/channels/{account_id}/test", headers=AUTH)
    assert passed.json() == {"ok": True, "detail": None}
    assert checked == ["5492644710400", "5492644710400"]

    patched = await client.patch(
        f"/admin/channels/{account_id}", headers=AUTH, json={"rate_per_second": 50}
    )
    assert patched.json()["rate_per_second"] == 50
    assert patched.json()["display_name"] == "Acme Chattigo"
    cleared = await client.patch(
        f"/admin/channels/{account_id}", headers=AUTH, json={"display_name": None}
    )
    assert cleared.json()["display_name"] is None
    bad_rate = await client.patch(
        f"/admin/channels/{account_id}", headers=AUTH, json={"rate_per_second": 0}
    )
    assert bad_rate.status_code == 422

    assert (await client.delete(f"/admin/channels/{account_id}", headers=AUTH)).status_code == 204
    assert (await client.delete(f"/admin/channels/{account_id}", headers=AUTH)).status_code == 404
    gone = await client.get(f"/admin/channels/{account_id}", headers=AUTH)
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"


async def test_a_company_reaches_only_its_own_accounts(client: httpx.AsyncClient) -> None:
    beta = MINTER.headers("beta", Permission.CHANNELS_MANAGE)
    acme = MINTER.headers("acme", Permission.CHANNELS_MANAGE)
    created = await client.post(
        "/admin/channels",
        headers=beta,
        json={"channel": "whatsapp", "account_id": "1001", "credentials": {"access_token": TOKEN}},
    )
    assert created.status_code == 201 and created.json()["tenant_id"] == "beta"
    path = f"/admin/channels/{created.json()['id']}"
    attempts = [
        await client.get(path, headers=acme),
        await client.patch(path, headers=acme, json={"rate_per_second": 1}),
        await client.put(f"{path}/credentials", headers=acme, json={"access_token": "x" * 20}),
        await client.post(f"{path}/test", headers=acme),
        await client.delete(path, headers=acme),
    ]
    assert [a.status_code for a in attempts] == [404] * len(attempts)
    assert (await client.get("/admin/channels", headers=acme)).json()["items"] == []
    named = await client.get("/admin/channels", headers=acme, params={"tenant_id": "beta"})
    planted = await client.post(
        "/admin/channels",
        headers=acme,
        json={
            "tenant_id": "beta",
            "channel": "whatsapp",
            "account_id": "1002",
            "credentials": {"access_token": TOKEN},
        },
    )
    assert (named.status_code, planted.status_code) == (403, 403)
    no_permission = MINTER.headers("beta", Permission.MESSAGES_READ)
    assert (await client.get(path, headers=no_permission)).status_code == 403
    assert (await client.get(path, headers=beta)).json()["rate_per_second"] == 80
