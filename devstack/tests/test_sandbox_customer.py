import asyncio
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
from cauce_devstack.sandbox.meta import webhooks as mw
from cauce_devstack.sandbox.settings import SandboxSettings
from cauce_devstack.servers.ports import free_port

SECRET = "receiver-test-secret"


@dataclass
class Received:
    bodies: list[bytes] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, Received]]:
    """A stand-in gateway over real HTTP that checks the signature on the raw bytes."""
    received = Received()
    app = FastAPI()

    @app.post("/webhooks/whatsapp")
    async def webhook(request: Request) -> JSONResponse:
        raw = await request.body()
        received.bodies.append(raw)
        signature = request.headers.get("x-hub-signature-256", "")
        received.signatures.append(signature)
        expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            return JSONResponse({"detail": "bad signature"}, status_code=401)
        return JSONResponse({"status": "accepted"})

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        server.should_exit = True
        await task


async def sandbox_client(gateway_url: str, secret: str = SECRET) -> httpx.AsyncClient:
    settings = SandboxSettings(gateway_url=gateway_url, app_secret=SecretStr(secret))
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://sandbox"
    )


async def test_text_message_is_signed_on_the_exact_bytes(
    receiver: tuple[str, Received],
) -> None:
    url, received = receiver
    async with await sandbox_client(url) as sandbox:
        response = await sandbox.post(
            "/sandbox/customer/send",
            json={"from": "573001112233", "name": "Ana", "text": "Hola, quiero pagar"},
        )
    assert response.status_code == 200
    result = response.json()
    assert result["gateway_status"] == 200
    assert result["gateway_body"] == {"status": "accepted"}
    (raw,) = received.bodies
    assert json.loads(raw) == result["payload"]

    value = result["payload"]["entry"][0]["changes"][0]["value"]
    assert result["payload"]["object"] == "whatsapp_business_account"
    assert value["metadata"]["phone_number_id"] == SandboxSettings().default_phone_number_id
    assert value["contacts"] == [{"profile": {"name": "Ana"}, "wa_id": "573001112233"}]
    (message,) = value["messages"]
    assert message["id"] == result["message_id"]
    assert message["from"] == "573001112233"
    assert message["type"] == "text" and message["text"] == {"body": "Hola, quiero pagar"}


async def test_wrong_app_secret_is_rejected_by_the_receiver(
    receiver: tuple[str, Received],
) -> None:
    url, _ = receiver
    async with await sandbox_client(url, secret="some-other-secret") as sandbox:
        result = (await sandbox.post("/sandbox/customer/send", json={"text": "x"})).json()
    assert result["gateway_status"] == 401


async def test_status_with_errors_and_pricing(receiver: tuple[str, Received]) -> None:
    url, received = receiver
    status = {
        "message_id": "wamid.OUT1",
        "status": "failed",
        "errors": [mw.status_error()],
        "pricing": mw.pricing("utility", billable=True),
    }
    async with await sandbox_client(url) as sandbox:
        result = (
            await sandbox.post(
                "/sandbox/customer/send", json={"from": "573005550000", "status": status}
            )
        ).json()
    assert result["gateway_status"] == 200
    assert result["message_id"] == "wamid.OUT1"
    value = json.loads(received.bodies[0])["entry"][0]["changes"][0]["value"]
    assert "messages" not in value and "contacts" not in value
    (item,) = value["statuses"]
    assert item["recipient_id"] == "573005550000"
    assert item["errors"][0]["code"] == 131047
    assert item["pricing"]["category"] == "utility"


async def test_reaction_removal_reply_context_and_referral(receiver: tuple[str, Received]) -> None:
    url, received = receiver
    body = {
        "message": mw.reaction("wamid.OUT2", None),
        "context": mw.context("wamid.OUT2", business_number="15550000001"),
        "referral": mw.referral(),
        "message_id": "wamid.FIXED",
    }
    async with await sandbox_client(url) as sandbox:
        result = (await sandbox.post("/sandbox/customer/send", json=body)).json()
    message = json.loads(received.bodies[0])["entry"][0]["changes"][0]["value"]["messages"][0]
    assert result["message_id"] == message["id"] == "wamid.FIXED"
    assert message["reaction"] == {"message_id": "wamid.OUT2"}
    assert message["context"] == {"from": "15550000001", "id": "wamid.OUT2"}
    assert message["referral"]["source_type"] == "ad"


async def test_bad_requests_and_unreachable_gateway() -> None:
    async with await sandbox_client(f"http://127.0.0.1:{free_port()}") as sandbox:
        both = {"text": "x", "message": mw.text("y")}
        assert (await sandbox.post("/sandbox/customer/send", json=both)).status_code == 422
        untyped = {"message": {"type": "image"}}
        assert (await sandbox.post("/sandbox/customer/send", json=untyped)).status_code == 422
        unreachable = await sandbox.post("/sandbox/customer/send", json={"text": "x"})
        assert unreachable.status_code == 502


@pytest.mark.parametrize(
    "content",
    [
        mw.text("hola"),
        mw.image("foto"),
        mw.audio(voice=True),
        mw.video(),
        mw.document("factura.pdf"),
        mw.sticker(animated=True),
        mw.location(4.65, -74.05, name="Oficina"),
        mw.contacts(mw.contact_card("Ana Pérez", phone="+57 300 000 0000", wa_id="573000000000")),
        mw.reaction("wamid.X", "👍"),
        mw.button_reply("pay", "Pagar"),
        mw.list_reply("tax", "Vehicular", "Impuesto"),
        mw.quick_reply_button("YES", "Sí"),
        mw.order(
            "cat1",
            [{"product_retailer_id": "p1", "quantity": 1, "item_price": 10, "currency": "COP"}],
        ),
        mw.system_changed_number("573009999999"),
        mw.unsupported(),
    ],
    ids=lambda c: (
        str(c["type"]) + ("-" + c["interactive"]["type"] if c["type"] == "interactive" else "")
    ),
)
def test_every_inbound_type_builds_metas_shape(content: dict[str, Any]) -> None:
    message = mw.inbound_message("573001234567", content, timestamp=1700000000)
    assert message["from"] == "573001234567"
    assert message["timestamp"] == "1700000000"
    assert message["id"].startswith("wamid.")
    key = "errors" if content["type"] == "unsupported" else content["type"]
    assert message[key] == content[key]
    payload = mw.webhook(
        [mw.messages_value("1", "15550000001", [mw.contact("573001234567", "Ana")], [message])],
        waba_id="2",
    )
    encoded = mw.encode(payload)
    assert json.loads(encoded) == payload
    assert encoded.isascii()  # non-ASCII is escaped, as Meta sends it


def test_merged_webhook_keeps_every_entry_and_signature_matches_hmac() -> None:
    one = mw.webhook([mw.statuses_value("1", "155", [mw.status("wamid.A", "sent", "57")])], "w1")
    two = mw.webhook([mw.statuses_value("1", "155", [mw.status("wamid.B", "read", "57")])], "w2")
    merged = mw.merge_webhooks(one, two)
    assert [e["id"] for e in merged["entry"]] == ["w1", "w2"]
    body = mw.encode(merged)
    assert mw.sign(body, "s") == "sha256=" + hmac.new(b"s", body, hashlib.sha256).hexdigest()
    with pytest.raises(ValueError, match="status must be one of"):
        mw.status("wamid.C", "queued", "57")
