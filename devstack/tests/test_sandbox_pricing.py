"""Per-message pricing on the fake's status webhooks: ``pricing: {billable,
pricing_model: "PMP", category, type}`` as Meta reports it since 2025-07-01."""

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import SecretStr

from cauce_devstack.sandbox.app import create_app
from cauce_devstack.sandbox.bootstrap import Sandbox
from cauce_devstack.sandbox.meta.pricing import Price, price
from cauce_devstack.sandbox.meta.service_window import ServiceWindows
from cauce_devstack.sandbox.settings import SandboxSettings
from cauce_runtime import wiring_of

PNID = "111111111111111"
TOKEN = "token-for-111"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SEND = f"/graph/v23.0/{PNID}/messages"
CUSTOMER = "573001234567"


@contextlib.asynccontextmanager
async def sandbox(gateway: Any, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    values: dict[str, Any] = {
        "graph_tokens": {PNID: SecretStr(TOKEN)},
        "default_phone_number_id": PNID,
        "gateway_url": gateway.url,
        "app_secret": SecretStr(gateway.secret),
        "status_sent_delay_s": 0.01,
        "status_delivered_delay_s": 0.01,
        "status_read_enabled": False,
    }
    values.update(overrides)
    app = create_app(SandboxSettings(**values))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            yield client
    finally:
        wired = wiring_of(app, Sandbox)
        await wired.status_callbacks.aclose()
        await wired.gateway_client.aclose()


def template(name: str, *body: str, to: str = CUSTOMER) -> dict[str, Any]:
    components = [{"type": "body", "parameters": [{"type": "text", "text": b} for b in body]}]
    return {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {"name": name, "language": {"code": "es"}, "components": components},
    }


def text(to: str = CUSTOMER) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "hola"}}


async def priced(client: httpx.AsyncClient, gateway: Any, payload: dict[str, Any]) -> Any:
    """Send ``payload``; the ``pricing`` of its ``sent`` and ``delivered`` statuses."""
    response = await client.post(SEND, json=payload, headers=AUTH)
    assert response.status_code == 200, response.text
    wamid = response.json()["messages"][0]["id"]

    def mine(g: Any) -> list[dict[str, Any]]:
        return [s for s in g.statuses() if s["id"] == wamid]

    await gateway.wait_until(lambda g: len(mine(g)) == 2)
    sent, delivered = mine(gateway)
    assert sent["pricing"] == delivered["pricing"]
    assert "conversation" in sent  # still sent alongside, as before
    return sent["pricing"]


async def open_window(client: httpx.AsyncClient, **extra: Any) -> None:
    response = await client.post("/sandbox/customer/send", json={"from": CUSTOMER, **extra})
    assert response.status_code == 200, response.text


async def test_templates_outside_the_window_are_regular_and_billable(meta_gateway: Any) -> None:
    async with sandbox(meta_gateway) as client:
        marketing = await priced(client, meta_gateway, template("bienvenida", "Ana"))
        utility = await priced(client, meta_gateway, template("pago_confirmado", "Ana", "$1"))
    assert marketing == {
        "billable": True,
        "pricing_model": "PMP",
        "category": "marketing",
        "type": "regular",
    }
    assert utility == {
        "billable": True,
        "pricing_model": "PMP",
        "category": "utility",
        "type": "regular",
    }


async def test_inside_the_window_replies_and_utility_are_free(meta_gateway: Any) -> None:
    async with sandbox(meta_gateway) as client:
        await open_window(client, text="hola")
        reply = await priced(client, meta_gateway, text())
        utility = await priced(client, meta_gateway, template("pago_confirmado", "Ana", "$1"))
        marketing = await priced(client, meta_gateway, template("bienvenida", "Ana"))
    assert reply == {
        "billable": False,
        "pricing_model": "PMP",
        "category": "service",
        "type": "free_customer_service",
    }
    assert utility == {
        "billable": False,
        "pricing_model": "PMP",
        "category": "utility",
        "type": "free_customer_service",
    }
    assert (marketing["type"], marketing["billable"]) == ("regular", True)


async def test_an_answer_to_an_ad_opens_a_free_entry_point(meta_gateway: Any) -> None:
    async with sandbox(meta_gateway) as client:
        await open_window(client, text="vi su anuncio", referral={"source_type": "ad"})
        first = await priced(client, meta_gateway, text())
        later = await priced(client, meta_gateway, template("bienvenida", "Ana"))
    assert first == {
        "billable": False,
        "pricing_model": "PMP",
        "category": "service",
        "type": "free_entry_point",
    }
    assert later == {
        "billable": False,
        "pricing_model": "PMP",
        "category": "marketing",
        "type": "free_entry_point",
    }


def test_free_entry_points_open_within_24_h_and_last_72_h() -> None:
    windows = ServiceWindows()
    came = datetime(2026, 3, 1, 12, tzinfo=UTC)
    windows.record(PNID, CUSTOMER, came, entry_point=True)
    assert not windows.free_entry_point(PNID, "573000000000", came)
    answered = came + timedelta(hours=23)
    assert windows.free_entry_point(PNID, CUSTOMER, answered)
    assert windows.free_entry_point(PNID, CUSTOMER, answered + timedelta(hours=71))
    assert not windows.free_entry_point(PNID, CUSTOMER, answered + timedelta(hours=72))

    late = ServiceWindows()
    late.record(PNID, CUSTOMER, came, entry_point=True)
    assert not late.free_entry_point(PNID, CUSTOMER, came + timedelta(hours=25))
    plain = ServiceWindows()
    plain.record(PNID, CUSTOMER, came)
    assert not plain.free_entry_point(PNID, CUSTOMER, came + timedelta(hours=1))


def test_a_free_form_message_outside_the_window_has_no_meta_price() -> None:
    # Meta refuses it (131047); with the window not enforced the fake keeps the old shape.
    assert price("marketing", template=False, window_open=False, entry_point=False) == Price(
        "service", False, None
    )
