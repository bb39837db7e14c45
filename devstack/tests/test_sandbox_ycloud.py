"""The YCloud fake: API key, body validation, answer shape, read receipts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from cauce_devstack.sandbox.app import create_app
from cauce_devstack.sandbox.settings import SandboxSettings

KEY = "ycloud-key-for-tests"
SENDER = "+573105550100"
HEADERS = {"X-API-Key": KEY}


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    settings = SandboxSettings(ycloud_api_keys=[SecretStr(KEY)], ycloud_sender_numbers=[SENDER])
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


def text(**overrides: Any) -> dict[str, Any]:
    return {
        "from": SENDER,
        "to": "+573001234567",
        "type": "text",
        "text": {"body": "Hola"},
    } | overrides


async def test_a_valid_message_answers_ycloud_message_object(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.post(
        "/ycloud/v2/whatsapp/messages", json=text(externalId="req-1"), headers=HEADERS
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "accepted"
    assert body["id"] and body["wamid"].startswith("wamid.")
    assert (body["from"], body["to"], body["type"], body["externalId"]) == (
        SENDER,
        "+573001234567",
        "text",
        "req-1",
    )
    [entry] = (await sandbox.get("/sandbox/outbox", params={"provider": "ycloud"})).json()
    assert entry["payload"] == text(externalId="req-1")
    assert entry["message_id"] == body["wamid"]


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}])
async def test_missing_or_wrong_key_is_401_in_ycloud_shape(
    sandbox: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await sandbox.post("/ycloud/v2/whatsapp/messages", json=text(), headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (401, "UNAUTHORIZED")
    assert error["requestId"] == response.headers["YCloud-Request-ID"]


@pytest.mark.parametrize(
    ("body", "target"),
    [
        (text(to="573001234567"), "to"),
        (text(**{"from": "+573109999999"}), "from"),
        (text(type="fax"), "type"),
        ({k: v for k, v in text(type="image").items() if k != "text"}, "image"),
        (text(text={"body": ""}), "text"),
        (text(unknown=1), "unknown"),
        (text(type="interactive", interactive={"type": "button"}, text=None), None),
    ],
)
async def test_invalid_bodies_are_param_invalid(
    sandbox: httpx.AsyncClient, body: dict[str, Any], target: str | None
) -> None:
    response = await sandbox.post("/ycloud/v2/whatsapp/messages", json=body, headers=HEADERS)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "PARAM_INVALID"
    if target is not None:
        assert error["target"] == target
    assert (await sandbox.get("/sandbox/outbox", params={"provider": "ycloud"})).json() == []


@pytest.mark.parametrize(("action", "recorded"), [("markAsRead", "read"), ("typing", "typing")])
async def test_read_receipts(sandbox: httpx.AsyncClient, action: str, recorded: str) -> None:
    url = f"/ycloud/v2/whatsapp/inboundMessages/in-1/{action}"
    assert (await sandbox.post(url)).status_code == 401
    response = await sandbox.post(url, headers=HEADERS)
    assert response.status_code == 200 and response.content == b""
    [entry] = (await sandbox.get("/sandbox/outbox", params={"provider": "ycloud"})).json()
    assert (entry["kind"], entry["type"], entry["message_id"]) == ("read", recorded, "in-1")


async def test_armed_faults_answer_sends_in_ycloud_shape(sandbox: httpx.AsyncClient) -> None:
    for spec in (
        {"kind": "429", "retry_after": 3},
        {"kind": "5xx", "status": 500},
        {"kind": "token_expired"},
    ):
        armed = await sandbox.post("/sandbox/faults", json={"target": "ycloud", **spec})
        assert armed.status_code == 201
    url = "/ycloud/v2/whatsapp/messages"
    throttled = await sandbox.post(url, json=text(), headers=HEADERS)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"
    assert throttled.json()["error"]["code"] == "TOO_MANY_REQUESTS"
    failed = await sandbox.post(url, json=text(), headers=HEADERS)
    assert (failed.status_code, failed.json()["error"]["status"]) == (500, 500)
    refused = await sandbox.post(url, json=text(), headers=HEADERS)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "UNAUTHORIZED")
    assert (await sandbox.post(url, json=text(), headers=HEADERS)).status_code == 200
