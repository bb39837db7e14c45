"""``POST /sandbox/meta/templates/{name}/{language}``: a template changes as Meta's
review and quality systems change it, the matching signed webhook reaches the gateway,
and the Graph fake enforces the new state."""

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from cauce_devstack.sandbox.app import create_app
from cauce_devstack.sandbox.bootstrap import Sandbox
from cauce_devstack.sandbox.meta.templates import template_id
from cauce_devstack.sandbox.settings import DEV_WABA_ID, SandboxSettings
from cauce_devstack.servers.ports import free_port
from cauce_runtime import wiring_of

PNID = "111111111111111"
TOKEN = "token-for-111"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SEND = f"/graph/v23.0/{PNID}/messages"
LIST = f"/graph/v23.0/{DEV_WABA_ID}/message_templates"
OTHER_WABA = "200000000000002"


def settings_for(gateway_url: str, secret: str, **overrides: Any) -> SandboxSettings:
    values: dict[str, Any] = {
        "graph_tokens": {PNID: SecretStr(TOKEN)},
        "gateway_url": gateway_url,
        "app_secret": SecretStr(secret),
        "service_window_enforced": False,
        "status_callbacks_enabled": False,
    }
    values.update(overrides)
    return SandboxSettings(**values)


@contextlib.asynccontextmanager
async def serving(settings: SandboxSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            yield client
    finally:
        await wiring_of(app, Sandbox).gateway_client.aclose()  # no lifespan under ASGITransport


@pytest.fixture
async def sandbox(meta_gateway: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(settings_for(meta_gateway.url, meta_gateway.secret)) as client:
        yield client


def template(name: str, *body: str, url_suffix: str | None = None) -> dict[str, Any]:
    components: list[dict[str, Any]] = []
    if body:
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": b} for b in body]}
        )
    if url_suffix is not None:
        components.append(
            {
                "type": "button",
                "sub_type": "url",
                "index": "0",
                "parameters": [{"type": "text", "text": url_suffix}],
            }
        )
    return {
        "messaging_product": "whatsapp",
        "to": "573001234567",
        "type": "template",
        "template": {"name": name, "language": {"code": "es"}, "components": components},
    }


async def change(
    client: httpx.AsyncClient, name: str, language: str = "es", **body: Any
) -> dict[str, Any]:
    response = await client.post(f"/sandbox/meta/templates/{name}/{language}", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def listed(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    params = {
        "name": name,
        "fields": "name,status,category,previous_category,quality_score,rejected_reason,components",
    }
    (item,) = (await client.get(LIST, params=params, headers=AUTH)).json()["data"]
    return dict(item)


async def test_pause_posts_metas_status_webhook_and_sends_are_refused(
    sandbox: httpx.AsyncClient, meta_gateway: Any
) -> None:
    before = int(time.time())
    result = await change(sandbox, "bienvenida", status="paused")
    (posted,) = result["webhooks"]
    assert posted["field"] == "message_template_status_update"
    assert posted["posted"] and posted["delivered"] and posted["gateway_status"] == 200
    assert result["template"]["status"] == "PAUSED"

    (received,) = meta_gateway.changes("message_template_status_update")
    assert meta_gateway.bad_signatures == 0
    assert meta_gateway.payloads[0]["object"] == "whatsapp_business_account"
    assert received["_entry_id"] == DEV_WABA_ID
    assert before <= received["_entry_time"] <= int(time.time())
    assert received["value"] == {
        "event": "PAUSED",
        "message_template_id": int(template_id("bienvenida", "es")),
        "message_template_name": "bienvenida",
        "message_template_language": "es",
        "reason": "NONE",
        "message_template_category": "MARKETING",
        "other_info": {
            "title": "FIRST_PAUSE",
            "description": "Your WhatsApp message template has been paused.",
        },
    }
    assert received["value"] == posted["payload"]["entry"][0]["changes"][0]["value"]

    refused = await sandbox.post(SEND, json=template("bienvenida", "Ana"), headers=AUTH)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == 132015
    assert (await listed(sandbox, "bienvenida"))["status"] == "PAUSED"

    unpaused = await change(sandbox, "bienvenida", status="REINSTATED")
    value = unpaused["webhooks"][0]["payload"]["entry"][0]["changes"][0]["value"]
    assert value["event"] == "REINSTATED"
    assert value["other_info"]["title"] == "UNPAUSE"
    assert unpaused["template"]["status"] == "APPROVED"
    sent = await sandbox.post(SEND, json=template("bienvenida", "Ana"), headers=AUTH)
    assert sent.status_code == 200


async def test_disable_carries_disable_info_and_refuses_with_132016(
    sandbox: httpx.AsyncClient, meta_gateway: Any
) -> None:
    await change(sandbox, "pago_confirmado", status="DISABLED")
    (received,) = meta_gateway.changes("message_template_status_update")
    assert received["value"]["event"] == "DISABLED"
    assert abs(received["value"]["disable_info"]["disable_date"] - time.time()) < 5
    refused = await sandbox.post(SEND, json=template("pago_confirmado", "Ana", "$1"), headers=AUTH)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == 132016


async def test_rejection_carries_reason_and_rejection_info(
    sandbox: httpx.AsyncClient, meta_gateway: Any
) -> None:
    await change(
        sandbox,
        "recordatorio_cita",
        status="REJECTED",
        reason="INVALID_FORMAT",
        detail="Variables can't be at the start or end of the template.",
        recommendation="Add text before the first variable.",
    )
    value = meta_gateway.changes()[0]["value"]
    assert (value["event"], value["reason"]) == ("REJECTED", "INVALID_FORMAT")
    assert value["rejection_info"] == {
        "reason": "Variables can't be at the start or end of the template.",
        "recommendation": "Add text before the first variable.",
    }
    assert "other_info" not in value
    assert (await listed(sandbox, "recordatorio_cita"))["rejected_reason"] == "INVALID_FORMAT"
    refused = await sandbox.post(SEND, json=template("recordatorio_cita"), headers=AUTH)
    assert refused.json()["error"]["code"] == 132001


async def test_quality_category_and_components_each_post_their_webhook(
    sandbox: httpx.AsyncClient, meta_gateway: Any
) -> None:
    new_components = [
        {"type": "HEADER", "format": "TEXT", "text": "Tu pago"},
        {
            "type": "BODY",
            "text": "Hola {{1}}, recibimos {{2}}.",
            "example": {"body_text": [["A", "1"]]},
        },
        {"type": "FOOTER", "text": "cauce"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "URL", "text": "Ver recibo", "url": "https://cauce.example/r/{{1}}"},
                {"type": "PHONE_NUMBER", "text": "Llamar", "phone_number": "+5715550000"},
            ],
        },
    ]
    result = await change(
        sandbox,
        "pago_confirmado",
        quality="yellow",
        category="MARKETING",
        components=new_components,
        status="APPROVED",
    )
    fields = [w["field"] for w in result["webhooks"]]
    assert fields == [
        "message_template_components_update",
        "template_category_update",
        "message_template_quality_update",
        "message_template_status_update",
    ]
    assert [c["field"] for c in meta_gateway.changes()] == fields
    ref = {
        "message_template_id": int(template_id("pago_confirmado", "es")),
        "message_template_name": "pago_confirmado",
        "message_template_language": "es",
    }
    components, category, quality, status = (c["value"] for c in meta_gateway.changes())
    assert components == {
        **ref,
        "message_template_element": "Hola {{1}}, recibimos {{2}}.",
        "message_template_title": "Tu pago",
        "message_template_footer": "cauce",
        "message_template_buttons": [
            {
                "message_template_button_type": "URL",
                "message_template_button_text": "Ver recibo",
                "message_template_button_url": "https://cauce.example/r/{{1}}",
            },
            {
                "message_template_button_type": "PHONE_NUMBER",
                "message_template_button_text": "Llamar",
                "message_template_button_phone_number": "+5715550000",
            },
        ],
    }
    assert category == {**ref, "previous_category": "UTILITY", "new_category": "MARKETING"}
    assert quality == {**ref, "previous_quality_score": "GREEN", "new_quality_score": "YELLOW"}
    assert status["event"] == "APPROVED" and status["message_template_category"] == "MARKETING"
    assert "other_info" not in status

    shown = await listed(sandbox, "pago_confirmado")
    assert (shown["category"], shown["previous_category"]) == ("MARKETING", "UTILITY")
    assert shown["quality_score"] == {"score": "YELLOW"}
    assert shown["components"] == new_components
    # The edit added a URL button with a variable: sends now need its parameter.
    old_shape = await sandbox.post(SEND, json=template("pago_confirmado", "A", "1"), headers=AUTH)
    assert old_shape.json()["error"]["code"] == 132000
    new_shape = template("pago_confirmado", "A", "1", url_suffix="r-42")
    assert (await sandbox.post(SEND, json=new_shape, headers=AUTH)).status_code == 200

    # Unchanged aspects post nothing; a status is an event and always posts.
    again = await change(sandbox, "pago_confirmado", quality="YELLOW", category="marketing")
    assert again["webhooks"] == []


async def test_notify_off_changes_without_posting(
    sandbox: httpx.AsyncClient, meta_gateway: Any
) -> None:
    result = await change(sandbox, "hello_world", "en_US", status="PAUSED", notify=False)
    (built,) = result["webhooks"]
    assert built["posted"] is False and built["payload"]["entry"][0]["id"] == DEV_WABA_ID
    assert meta_gateway.payloads == []
    assert (await listed(sandbox, "hello_world"))["status"] == "PAUSED"


async def test_templates_of_another_waba_change_there(meta_gateway: Any) -> None:
    settings = settings_for(
        meta_gateway.url,
        meta_gateway.secret,
        graph_waba_templates={OTHER_WABA: [{"name": "solo_b", "language": "es"}]},
    )
    async with serving(settings) as client:
        await change(client, "solo_b", status="PAUSED", waba_id=OTHER_WABA)
        missing = await client.post("/sandbox/meta/templates/solo_b/es", json={"status": "PAUSED"})
        assert missing.status_code == 404
    assert meta_gateway.changes()[0]["_entry_id"] == OTHER_WABA


async def test_bad_changes_are_refused(sandbox: httpx.AsyncClient) -> None:
    url = "/sandbox/meta/templates/bienvenida/es"
    assert (await sandbox.post(url, json={})).status_code == 422
    assert (await sandbox.post(url, json={"status": "SLEEPING"})).status_code == 422
    assert (await sandbox.post(url, json={"quality": "BLUE"})).status_code == 422
    unknown = await sandbox.post("/sandbox/meta/templates/no_existe/es", json={"status": "PAUSED"})
    assert unknown.status_code == 404


async def test_a_gateway_that_is_down_is_reported() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    async with serving(settings_for(closed, "s")) as client:
        result = await change(client, "bienvenida", status="PAUSED")
    (posted,) = result["webhooks"]
    assert posted["posted"] and not posted["delivered"]
    assert posted["gateway_status"] is None and posted["problem"]
    assert result["template"]["status"] == "PAUSED"  # the change stands, as on Meta
