"""Every request a fake provider receives is visible, refused ones included."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from cauce_devstack.sandbox.app import create_app
from cauce_devstack.sandbox.settings import DEV_GRAPH_TOKEN, DEV_PHONE_NUMBER_ID, SandboxSettings


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SandboxSettings(status_callbacks_enabled=False, service_window_enforced=False))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


async def test_refused_requests_are_listed_with_their_error(client: httpx.AsyncClient) -> None:
    url = f"/graph/v23.0/{DEV_PHONE_NUMBER_ID}/messages"
    text = {
        "messaging_product": "whatsapp",
        "to": "573001234567",
        "type": "text",
        "text": {"body": "hola"},
    }
    unauthenticated = await client.post(url, json=text)
    invalid = await client.post(
        url,
        json={"messaging_product": "whatsapp", "to": "573001234567", "type": "text"},
        headers={"Authorization": f"Bearer {DEV_GRAPH_TOKEN}"},
    )
    accepted = await client.post(
        url, json=text, headers={"Authorization": f"Bearer {DEV_GRAPH_TOKEN}"}
    )
    chattigo = await client.post("/chattigo/webhooks/inbound", json={"did": "1"})
    assert (unauthenticated.status_code, invalid.status_code, accepted.status_code) == (
        401,
        400,
        200,
    )
    assert chattigo.status_code == 401

    default = (await client.get("/sandbox/outbox")).json()
    assert [e["kind"] for e in default] == ["message"]

    everything = (await client.get("/sandbox/outbox", params={"include_refused": "true"})).json()
    assert [(e["provider"], e["kind"], e["status"]) for e in everything] == [
        ("graph", "refused", 401),
        ("graph", "refused", 400),
        ("graph", "message", 200),
        ("chattigo", "refused", 401),
    ]
    assert everything[0]["error"]["error"]["code"] == 190
    assert everything[1]["error"]["error"]["code"] == 100
    assert everything[0]["payload"] == text
    assert everything[0]["phone_number_id"] == DEV_PHONE_NUMBER_ID
