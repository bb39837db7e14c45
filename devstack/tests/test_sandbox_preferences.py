"""The customer simulator's marketing opt-out: Meta's ``user_preferences`` webhook, and
marketing templates failing with 131050 while the customer has them stopped."""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from pydantic import SecretStr

from cauce_devstack.sandbox.app import create_app
from cauce_devstack.sandbox.bootstrap import Sandbox
from cauce_devstack.sandbox.settings import DEV_WABA_ID, SandboxSettings
from cauce_devstack.servers.ports import free_port
from cauce_runtime import wiring_of

PNID = "111111111111111"
TOKEN = "token-for-111"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SEND = f"/graph/v23.0/{PNID}/messages"
ANA = "573001234567"
PREFERENCES = "/sandbox/customer/preferences"


@contextlib.asynccontextmanager
async def sandbox(gateway_url: str, secret: str = "") -> AsyncIterator[httpx.AsyncClient]:
    settings = SandboxSettings(
        graph_tokens={PNID: SecretStr(TOKEN)},
        default_phone_number_id=PNID,
        gateway_url=gateway_url,
        app_secret=SecretStr(secret or "any-secret"),
        status_sent_delay_s=0.01,
        status_delivered_delay_s=0.01,
        status_read_enabled=False,
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            yield client
    finally:
        wired = wiring_of(app, Sandbox)
        await wired.status_callbacks.aclose()
        await wired.gateway_client.aclose()


def template(name: str, *body: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": ANA,
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": "es"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": b} for b in body]}
            ],
        },
    }


async def statuses_of(client: httpx.AsyncClient, gateway: Any, payload: dict[str, Any]) -> Any:
    response = await client.post(SEND, json=payload, headers=AUTH)
    assert response.status_code == 200, response.text  # accepted, as Meta does
    wamid = response.json()["messages"][0]["id"]

    def mine(g: Any) -> list[dict[str, Any]]:
        return [s for s in g.statuses() if s["id"] == wamid]

    await gateway.wait_until(lambda g: {s["status"] for s in mine(g)} & {"failed", "delivered"})
    return mine(gateway)


async def test_stop_posts_metas_user_preferences_webhook(meta_gateway: Any) -> None:
    async with sandbox(meta_gateway.url, meta_gateway.secret) as client:
        response = await client.post(
            PREFERENCES, json={"from": ANA, "name": "Ana", "value": "stop", "timestamp": 1739321024}
        )
    assert response.status_code == 200, response.text
    assert response.json()["gateway_status"] == 200
    assert meta_gateway.bad_signatures == 0
    (payload,) = meta_gateway.payloads
    assert payload == response.json()["payload"]
    assert payload == {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": DEV_WABA_ID,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550000001",
                                "phone_number_id": PNID,
                            },
                            "contacts": [{"profile": {"name": "Ana"}, "wa_id": ANA}],
                            "user_preferences": [
                                {
                                    "wa_id": ANA,
                                    "detail": "User requested to stop marketing messages",
                                    "category": "marketing_messages",
                                    "value": "stop",
                                    "timestamp": 1739321024,
                                }
                            ],
                        },
                        "field": "user_preferences",
                    }
                ],
            }
        ],
    }


async def test_marketing_fails_with_131050_until_the_customer_resumes(meta_gateway: Any) -> None:
    async with sandbox(meta_gateway.url, meta_gateway.secret) as client:
        await client.post(PREFERENCES, json={"from": ANA, "value": "stop"})
        (failed,) = await statuses_of(client, meta_gateway, template("bienvenida", "Ana"))
        assert failed["status"] == "failed"
        (error,) = failed["errors"]
        assert error["code"] == 131050
        assert error["title"] == (
            "Unable to deliver the message. This recipient has chosen to stop receiving "
            "marketing messages on WhatsApp from your business."
        )
        assert "pricing" not in failed
        limits = (await client.get("/sandbox/meta/messaging-limit")).json()["businesses"]
        assert next(iter(limits.values()))["templates_outside_window"] == 0  # not delivered

        utility = await statuses_of(client, meta_gateway, template("pago_confirmado", "A", "1"))
        assert [s["status"] for s in utility] == ["sent", "delivered"]

        resumed = await client.post(
            PREFERENCES, json={"from": ANA, "value": "resume", "name": None, "detail": "back"}
        )
        value = resumed.json()["payload"]["entry"][0]["changes"][0]["value"]
        assert value["contacts"] == [{"wa_id": ANA}]
        assert value["user_preferences"][0]["detail"] == "back"
        assert value["user_preferences"][0]["value"] == "resume"
        again = await statuses_of(client, meta_gateway, template("bienvenida", "Ana"))
        assert [s["status"] for s in again] == ["sent", "delivered"]


async def test_a_gateway_that_is_down_is_a_502() -> None:
    async with sandbox(f"http://127.0.0.1:{free_port()}") as client:
        response = await client.post(PREFERENCES, json={"from": ANA, "value": "stop"})
        assert response.status_code == 502
        bad = await client.post(PREFERENCES, json={"from": ANA, "value": "maybe"})
        assert bad.status_code == 422
