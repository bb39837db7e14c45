"""Signed Meta status webhooks the fake Graph API posts after accepting a message."""

import asyncio
import contextlib
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from cauce_devstack.sandbox.app import create_app
from cauce_devstack.sandbox.bootstrap import Sandbox
from cauce_devstack.sandbox.settings import SandboxSettings
from cauce_devstack.servers.ports import free_port
from cauce_runtime import wiring_of

SECRET = "status-test-secret"
PNID = "111111111111111"
TOKEN = "token-for-111"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
URL = f"/graph/v23.0/{PNID}/messages"
CUSTOMER = "573001234567"
FAILING = "573000000404"


@dataclass
class Receiver:
    url: str
    statuses: list[dict[str, Any]] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        async with self.arrived:
            await asyncio.wait_for(
                self.arrived.wait_for(lambda: len(self.statuses) >= count), timeout
            )
        return list(self.statuses)


@contextlib.asynccontextmanager
async def serve(app: FastAPI, port: int) -> AsyncIterator[None]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A stand-in gateway that checks the signature on the raw bytes and keeps statuses."""
    port = free_port()
    received = Receiver(url=f"http://127.0.0.1:{port}")
    app = FastAPI()

    @app.post("/webhooks/whatsapp")
    async def webhook(request: Request) -> JSONResponse:
        raw = await request.body()
        expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("x-hub-signature-256", ""), expected):
            received.bad_signatures += 1
            return JSONResponse({"detail": "bad signature"}, status_code=401)
        payload = json.loads(raw)
        assert payload["object"] == "whatsapp_business_account"
        async with received.arrived:
            for entry in payload["entry"]:
                for change in entry["changes"]:
                    received.values.append(change["value"])
                    received.statuses.extend(change["value"]["statuses"])
            received.arrived.notify_all()
        return JSONResponse({"status": "accepted"})

    async with serve(app, port):
        yield received


def sandbox_settings(gateway_url: str, **overrides: Any) -> SandboxSettings:
    values: dict[str, Any] = {
        "graph_tokens": {PNID: SecretStr(TOKEN)},
        "gateway_url": gateway_url,
        "app_secret": SecretStr(SECRET),
        "service_window_enforced": False,
        "status_sent_delay_s": 0.01,
        "status_delivered_delay_s": 0.01,
        "status_read_delay_s": 0.01,
        "status_failing_recipients": {FAILING: 131026},
    }
    values.update(overrides)
    return SandboxSettings(**values)


@contextlib.asynccontextmanager
async def sandbox(settings: SandboxSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            yield client
    finally:
        await wiring_of(
            app, Sandbox
        ).status_callbacks.aclose()  # ASGITransport runs no lifespan: close as shutdown would


def text(to: str = CUSTOMER) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "hola"}}


async def test_sent_delivered_read_arrive_signed_and_in_order(receiver: Receiver) -> None:
    async with sandbox(sandbox_settings(receiver.url)) as client:
        payload = {**text("+57 300 123 4567"), "biz_opaque_callback_data": "req-42"}
        response = await client.post(URL, json=payload, headers=AUTH)
        wamid = response.json()["messages"][0]["id"]
        statuses = await receiver.wait_for(3)
    assert receiver.bad_signatures == 0
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert all(s["id"] == wamid and s["recipient_id"] == CUSTOMER for s in statuses)
    assert all(s["biz_opaque_callback_data"] == "req-42" for s in statuses)
    sent, delivered, read = statuses
    assert sent["pricing"] == {"billable": False, "pricing_model": "PMP", "category": "service"}
    assert sent["conversation"]["origin"] == {"type": "service"}
    assert delivered["conversation"]["id"] == sent["conversation"]["id"]
    assert "pricing" not in read and "conversation" not in read
    assert int(sent["timestamp"]) <= int(read["timestamp"])
    assert receiver.values[0]["metadata"]["phone_number_id"] == PNID


async def test_template_is_priced_in_its_category(receiver: Receiver) -> None:
    template = {
        "messaging_product": "whatsapp",
        "to": CUSTOMER,
        "type": "template",
        "template": {
            "name": "bienvenida",
            "language": {"code": "es"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}],
        },
    }
    async with sandbox(sandbox_settings(receiver.url, status_read_enabled=False)) as client:
        assert (await client.post(URL, json=template, headers=AUTH)).status_code == 200
        sent, delivered = await receiver.wait_for(2)
    assert (sent["status"], delivered["status"]) == ("sent", "delivered")
    assert sent["pricing"]["category"] == "marketing" and sent["pricing"]["billable"] is True
    assert sent["conversation"]["origin"] == {"type": "marketing"}


async def test_failing_recipient_gets_one_failed_status_with_the_error(receiver: Receiver) -> None:
    async with sandbox(sandbox_settings(receiver.url)) as client:
        failing = await client.post(URL, json=text(FAILING), headers=AUTH)
        assert failing.status_code == 200  # accepted synchronously, failed later, as Meta does
        await client.post(URL, json=text(), headers=AUTH)
        statuses = await receiver.wait_for(4)
    failed = [s for s in statuses if s["recipient_id"] == FAILING]
    assert len(failed) == 1
    assert failed[0]["status"] == "failed"
    assert failed[0]["id"] == failing.json()["messages"][0]["id"]
    assert failed[0]["errors"][0]["code"] == 131026
    assert failed[0]["errors"][0]["title"] == "Message undeliverable"


async def test_disabled_callbacks_post_nothing(receiver: Receiver) -> None:
    settings = sandbox_settings(receiver.url, status_callbacks_enabled=False)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        assert (await client.post(URL, json=text(), headers=AUTH)).status_code == 200
    assert wiring_of(app, Sandbox).status_callbacks.pending == 0
    assert receiver.statuses == []


async def test_shutdown_cancels_pending_callbacks(receiver: Receiver) -> None:
    """Served for real (lifespan on): stopping the sandbox cancels what is still waiting."""
    port = free_port()
    app = create_app(sandbox_settings(receiver.url, status_sent_delay_s=60))
    callbacks = wiring_of(app, Sandbox).status_callbacks
    async with serve(app, port), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        assert (await client.post(URL, json=text(), headers=AUTH)).status_code == 200
        assert callbacks.pending == 1
    assert callbacks.pending == 0
    assert receiver.statuses == []
