"""The Chattigo fake: login, Bearer checks, body validation, webhook registration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from cauce_devstack.sandbox.app import create_app
from cauce_devstack.sandbox.settings import SandboxSettings

USER = "bot@acme.test"
PASSWORD = "s3cret-for-tests"


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    settings = SandboxSettings(chattigo_users={USER: SecretStr(PASSWORD)})
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


async def login(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post("/chattigo/login", json={"username": USER, "password": PASSWORD})
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def text(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "1234567890",
        "did": "5492644710400",
        "msisdn": "5492644472542",
        "type": "text",
        "channel": "WHATSAPP",
        "content": "Hola",
        "name": "Bot",
        "isAttachment": False,
    } | overrides


async def test_login_returns_a_jwt_with_expiry(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.post("/chattigo/login", json={"username": USER, "password": PASSWORD})
    body = response.json()
    assert body["user"] == USER and body["access"] is True
    assert body["access_token"].count(".") == 2
    outbox = (await sandbox.get("/sandbox/outbox", params={"provider": "chattigo"})).json()
    assert [e["kind"] for e in outbox] == ["login"]
    assert PASSWORD not in str(outbox)


@pytest.mark.parametrize("password", ["wrong", ""])
async def test_bad_credentials_are_refused(sandbox: httpx.AsyncClient, password: str) -> None:
    response = await sandbox.post("/chattigo/login", json={"username": USER, "password": password})
    assert response.status_code in (400, 401)
    assert "access_token" not in response.json()


async def test_a_valid_message_is_accepted_with_an_empty_body(
    sandbox: httpx.AsyncClient,
) -> None:
    response = await sandbox.post(
        "/chattigo/webhooks/inbound", json=text(), headers=await login(sandbox)
    )
    assert response.status_code == 200
    assert response.content == b""
    [_, entry] = (await sandbox.get("/sandbox/outbox", params={"provider": "chattigo"})).json()
    assert entry["kind"] == "message"
    assert entry["payload"] == text()
    assert (entry["phone_number_id"], entry["to"], entry["message_id"]) == (
        "5492644710400",
        "5492644472542",
        "1234567890",
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Bearer a.b.c"},
        {"Authorization": "Basic x"},
    ],
)
async def test_missing_or_unknown_tokens_are_401(
    sandbox: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await sandbox.post("/chattigo/webhooks/inbound", json=text(), headers=headers)
    assert response.status_code == 401
    assert response.json()["status"] == 401


async def test_expired_tokens_are_401_and_a_new_login_works(sandbox: httpx.AsyncClient) -> None:
    old = await login(sandbox)
    assert (await sandbox.post("/sandbox/chattigo/tokens/expire")).json() == {"expired": 1}
    assert (
        await sandbox.post("/chattigo/webhooks/inbound", json=text(), headers=old)
    ).status_code == 401
    new = await login(sandbox)
    assert (
        await sandbox.post("/chattigo/webhooks/inbound", json=text(), headers=new)
    ).status_code == 200


async def test_tokens_expire_after_the_configured_lifetime() -> None:
    settings = SandboxSettings(chattigo_users={USER: SecretStr(PASSWORD)}, chattigo_token_ttl_s=0)
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        headers = await login(client)
        response = await client.post("/chattigo/webhooks/inbound", json=text(), headers=headers)
        assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {k: v for k, v in text().items() if k != "msisdn"},
        {k: v for k, v in text().items() if k != "isAttachment"},
        {k: v for k, v in text().items() if k != "name"},
        text(channel="SMS"),
        text(type="audio"),
        text(content=""),
        text(isAttachment="false"),
        text(msisdn="+54 9 264"),
        text(extra="x"),
        text(type="media", isAttachment=True),  # no attachment
        text(
            isAttachment=True,
            attachment={"mediaUrl": "https://a.test/x.pdf", "mimeType": "application/pdf"},
        ),
        text(
            type="media",
            isAttachment=True,
            attachment={"mediaUrl": "ftp://a", "mimeType": "image/png"},
        ),
        text(type="media", isAttachment=True, attachment={"mediaUrl": "https://a.test/x"}),
    ],
)
async def test_invalid_bodies_are_400(sandbox: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await sandbox.post(
        "/chattigo/webhooks/inbound", json=body, headers=await login(sandbox)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request"


async def test_media_with_attachment_is_accepted(sandbox: httpx.AsyncClient) -> None:
    body = text(
        type="media",
        content="",
        isAttachment=True,
        attachment={
            "mediaUrl": "https://a.test/x.pdf",
            "mimeType": "application/pdf",
            "fileName": "x.pdf",
        },
    )
    response = await sandbox.post(
        "/chattigo/webhooks/inbound", json=body, headers=await login(sandbox)
    )
    assert response.status_code == 200


async def test_webhook_registration_is_recorded(sandbox: httpx.AsyncClient) -> None:
    headers = await login(sandbox)
    body = {"waId": "5492644710400", "externalWebhook": "https://cauce.test/webhooks/chattigo/t"}
    response = await sandbox.patch("/chattigo/webhooks/inbound", json=body, headers=headers)
    assert response.status_code == 200
    assert (await sandbox.get("/sandbox/chattigo/webhooks")).json() == {
        "5492644710400": "https://cauce.test/webhooks/chattigo/t"
    }
    bad = await sandbox.patch(
        "/chattigo/webhooks/inbound", json={"waId": "5492644710400"}, headers=headers
    )
    assert bad.status_code == 400
    unauthenticated = await sandbox.patch("/chattigo/webhooks/inbound", json=body)
    assert unauthenticated.status_code == 401


async def test_armed_faults_answer_sends_in_chattigos_shape(sandbox: httpx.AsyncClient) -> None:
    headers = await login(sandbox)
    for spec in (
        {"kind": "429", "retry_after": 7},
        {"kind": "5xx", "status": 503},
        {"kind": "token_expired"},
    ):
        armed = await sandbox.post("/sandbox/faults", json={"target": "chattigo", **spec})
        assert armed.status_code == 201
    throttled = await sandbox.post("/chattigo/webhooks/inbound", json=text(), headers=headers)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
    assert throttled.json()["path"] == "/webhooks/inbound"  # Spring Boot's error body
    unavailable = await sandbox.post("/chattigo/webhooks/inbound", json=text(), headers=headers)
    assert (unavailable.status_code, unavailable.json()["error"]) == (503, "Service Unavailable")
    expired = await sandbox.post("/chattigo/webhooks/inbound", json=text(), headers=headers)
    assert expired.status_code == 401
    assert (
        await sandbox.post("/chattigo/webhooks/inbound", json=text(), headers=headers)
    ).is_success
    sent = (await sandbox.get("/sandbox/outbox", params={"provider": "chattigo"})).json()
    assert [e["kind"] for e in sent].count("message") == 1  # only the last one was taken
