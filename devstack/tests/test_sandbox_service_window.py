"""The 24 h customer-service window of the fake Graph API (error 131047)."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr

from cauce_devstack.sandbox.app import create_app
from cauce_devstack.sandbox.settings import SandboxSettings
from cauce_devstack.servers.ports import free_port

PNID = "111111111111111"
TOKEN = "token-for-111"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
URL = f"/graph/v23.0/{PNID}/messages"
CUSTOMER = "573001234567"


@pytest.fixture
async def gateway_url() -> AsyncIterator[str]:
    """A stand-in gateway that takes every webhook (the simulator needs one to post to)."""
    app = FastAPI()

    @app.post("/webhooks/whatsapp")
    async def webhook() -> dict[str, str]:
        return {"status": "accepted"}

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def sandbox(gateway_url: str, **overrides: Any) -> httpx.AsyncClient:
    values: dict[str, Any] = {
        "graph_tokens": {PNID: SecretStr(TOKEN)},
        "default_phone_number_id": PNID,
        "gateway_url": gateway_url,
        "status_callbacks_enabled": False,
    }
    values.update(overrides)
    app = create_app(SandboxSettings(**values))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")


def text(to: str = CUSTOMER) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "hola"}}


TEMPLATE = {
    "messaging_product": "whatsapp",
    "to": CUSTOMER,
    "type": "template",
    "template": {
        "name": "bienvenida",
        "language": {"code": "es"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}],
    },
}


def assert_reengagement(response: httpx.Response) -> None:
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 131047
    assert error["message"] == "(#131047) Re-engagement message"
    assert error["type"] == "OAuthException" and error["fbtrace_id"]
    assert "24 hours" in error["error_data"]["details"]


async def test_no_inbound_blocks_text_but_not_templates_until_the_customer_writes(
    gateway_url: str,
) -> None:
    async with sandbox(gateway_url) as client:
        assert_reengagement(await client.post(URL, json=text(), headers=AUTH))
        assert (await client.post(URL, json=TEMPLATE, headers=AUTH)).status_code == 200

        inbound = await client.post(
            "/sandbox/customer/send", json={"from": CUSTOMER, "text": "hola, quiero pagar"}
        )
        assert inbound.json()["gateway_status"] == 200
        reply = await client.post(URL, json=text("+57 300 123 4567"), headers=AUTH)
        assert reply.status_code == 200, reply.text
        # another customer's window is still closed
        assert_reengagement(await client.post(URL, json=text("573009999999"), headers=AUTH))
        kinds = [e["type"] for e in (await client.get("/sandbox/outbox")).json()]
        assert kinds == ["template", "text"]


async def test_window_set_expired_and_cleared_explicitly(gateway_url: str) -> None:
    async with sandbox(gateway_url) as client:
        opened = await client.post("/sandbox/window", json={"wa_id": CUSTOMER})
        assert opened.json()["open"] is True
        assert (await client.post(URL, json=text(), headers=AUTH)).status_code == 200

        long_ago = (datetime.now(UTC) - timedelta(hours=25)).isoformat()
        expired = await client.post(
            "/sandbox/window", json={"wa_id": CUSTOMER, "last_inbound_at": long_ago}
        )
        assert expired.json()["open"] is False
        assert_reengagement(await client.post(URL, json=text(), headers=AUTH))

        await client.post("/sandbox/window", json={"wa_id": CUSTOMER})
        closed = await client.post("/sandbox/window", json={"wa_id": CUSTOMER, "open": False})
        assert closed.json() == {
            "phone_number_id": PNID,
            "wa_id": CUSTOMER,
            "last_inbound_at": None,
            "open": False,
        }
        assert_reengagement(await client.post(URL, json=text(), headers=AUTH))


async def test_enforcement_can_be_turned_off(gateway_url: str) -> None:
    async with sandbox(gateway_url, service_window_enforced=False) as client:
        assert (await client.post(URL, json=text(), headers=AUTH)).status_code == 200
