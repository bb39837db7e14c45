"""Chattigo, YCloud, ManyChat and SCI webhooks against a real nats-server."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from cauce_contracts.crm import CampaignAssigned, ContactUpserted, OdooRecordChanged
from cauce_contracts.inbound import InboundMessageReceived, InboundPayloadUnrecognized
from cauce_contracts.payments import PaymentTransactionStatusChanged, TransactionStatus
from cauce_contracts.registry import parse_event
from cauce_gateway.authenticity.ycloud_signature import ycloud_signature

from .conftest import (
    CHATTIGO_TOKEN,
    MANYCHAT_KEY,
    ODOO_TOKEN,
    TENANT,
    VERIFY_TOKEN,
    YCLOUD_SECRET,
    RunningGateway,
    signed_sci,
    stream_messages,
    text_webhook,
)

FIXTURES = Path(__file__).parent.parent / "parsing" / "fixtures"

LEGACY_TEXT = {
    "id": "1767030562000",
    "did": "5492644710400",
    "msisdn": "5492644472542",
    "type": "text",
    "channel": "WHATSAPP",
    "content": "Hola",
    "name": "Nombre Usuario",
    "isAttachment": False,
}

CONTACT = {
    "manychat_id": "test_contact_456",
    "nombre_lead": "Test Contact Data",
    "datetime_actual": "2025-06-05T12:41:36Z",
    "ultimo_estado": "Nuevo",
    "id": "1234567890_manychat_id",
    "first_name": "Test",
    "last_name": "Data",
    "phone": "+56912345678",
    "email": "test.data@example.com",
}

ASSIGNMENT = {
    "manychat_id": "test_contact_456",
    "campaign_id": "CAMP-ABC-123",
    "comercial_id": "COM-XYZ-001",
    "datetime_actual": "2025-06-05T12:45:00Z",
    "ultimo_estado": "Asignado",
    "tipo_asignacion": "Automatica",
}


# --- Chattigo ---------------------------------------------------------------------------


async def test_chattigo_meta_format_and_legacy_format_become_events(
    gateway: RunningGateway,
) -> None:
    async with gateway.client() as client:
        meta_format = await client.post(
            f"/webhooks/chattigo/{CHATTIGO_TOKEN}", json=text_webhook(message_id="wamid.CH1")
        )
        legacy = await client.post(f"/webhooks/chattigo/{CHATTIGO_TOKEN}", json=LEGACY_TEXT)
    assert (meta_format.status_code, legacy.status_code) == (200, 200)
    stored = await stream_messages(gateway.nats.url)
    assert [m.subject.split(".")[:5] for m in stored] == [
        ["inbound", "message", "received", TENANT, "chattigo"]
    ] * 2
    events = [parse_event(m.data) for m in stored]
    assert all(isinstance(e, InboundMessageReceived) for e in events)
    assert events[1].message.body == "Hola"  # type: ignore[attr-defined]


async def test_chattigo_wrong_token_is_401_and_nothing_published(gateway: RunningGateway) -> None:
    async with gateway.client() as client:
        wrong = await client.post("/webhooks/chattigo/" + "y" * 40, json=LEGACY_TEXT)
        prefix = await client.post(f"/webhooks/chattigo/{CHATTIGO_TOKEN[:-1]}", json=LEGACY_TEXT)
    assert (wrong.status_code, prefix.status_code) == (401, 401)
    assert wrong.headers["content-type"] == "application/problem+json"
    assert await stream_messages(gateway.nats.url) == []


# --- YCloud -----------------------------------------------------------------------------


async def test_ycloud_signed_webhook_is_an_event(gateway: RunningGateway) -> None:
    body = (FIXTURES / "ycloud" / "inbound_text.json").read_bytes()
    signature = ycloud_signature(body, YCLOUD_SECRET.encode(), int(time.time()))
    async with gateway.client() as client:
        ok = await client.post(
            "/webhooks/ycloud", content=body, headers={"YCloud-Signature": signature}
        )
        stale = await client.post(
            "/webhooks/ycloud",
            content=body,
            headers={"YCloud-Signature": ycloud_signature(body, YCLOUD_SECRET.encode(), 1_000)},
        )
        unsigned = await client.post("/webhooks/ycloud", content=body)
    assert ok.status_code == 200
    assert (stale.status_code, unsigned.status_code) == (401, 401)
    [stored] = await stream_messages(gateway.nats.url)
    assert stored.subject.startswith(f"inbound.message.received.{TENANT}.ycloud.")
    event = parse_event(stored.data)
    assert isinstance(event, InboundMessageReceived)
    assert event.channel_account_id == "573105550100"


# --- ManyChat ---------------------------------------------------------------------------


async def test_manychat_contact_is_accepted_with_the_seed_response(gateway: RunningGateway) -> None:
    async with gateway.client() as client:
        response = await client.post(
            "/webhooks/manychat/contact", json=CONTACT, headers={"X-API-KEY": MANYCHAT_KEY}
        )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "accepted"
    assert body["message"] == "Webhook received and event queued"
    assert body["manychat_id"] == "test_contact_456"
    [stored] = await stream_messages(gateway.nats.url, "CRM")
    assert stored.subject == body["queue"] == f"crm.contact.upserted.{TENANT}.test_contact_456"
    event = parse_event(stored.data)
    assert isinstance(event, ContactUpserted)
    assert event.nombre_lead == "Test Contact Data"
    assert event.email == "test.data@example.com"


async def test_manychat_campaign_assignment_and_redelivery(gateway: RunningGateway) -> None:
    async with gateway.client() as client:
        responses = [
            await client.post(
                "/webhooks/manychat/campaign-assignment",
                json=ASSIGNMENT,
                headers={"X-API-KEY": MANYCHAT_KEY},
            )
            for _ in range(3)
        ]
    assert {r.status_code for r in responses} == {202}
    assert responses[0].json()["message"] == "Evento de campaña encolado exitosamente"
    assert responses[0].json()["campaign_id"] == "CAMP-ABC-123"
    [stored] = await stream_messages(gateway.nats.url, "CRM")
    event = parse_event(stored.data)
    assert isinstance(event, CampaignAssigned)
    assert event.comercial_id == "COM-XYZ-001"


async def test_manychat_bare_date_is_read_in_the_configured_zone(gateway: RunningGateway) -> None:
    async with gateway.client() as client:
        response = await client.post(
            "/webhooks/manychat/contact",
            json={"manychat_id": "test", "nombre_lead": "Test", "datetime_actual": "2024-05-01"},
            headers={"X-API-KEY": MANYCHAT_KEY},
        )
    assert response.status_code == 202
    [stored] = await stream_messages(gateway.nats.url, "CRM")
    event = parse_event(stored.data)
    assert isinstance(event, ContactUpserted)
    assert event.datetime_actual == datetime(2024, 5, 1, 5, tzinfo=UTC)  # Bogotá is UTC-5


async def test_manychat_bad_key_is_401_and_invalid_body_is_422(gateway: RunningGateway) -> None:
    async with gateway.client() as client:
        no_key = await client.post("/webhooks/manychat/contact", json=CONTACT)
        wrong_key = await client.post(
            "/webhooks/manychat/contact", json=CONTACT, headers={"X-API-KEY": "nope"}
        )
        missing_field = await client.post(
            "/webhooks/manychat/contact",
            json={k: v for k, v in CONTACT.items() if k != "nombre_lead"},
            headers={"X-API-KEY": MANYCHAT_KEY},
        )
        bad_phone = await client.post(
            "/webhooks/manychat/contact",
            json={**CONTACT, "phone": "call me maybe"},
            headers={"X-API-KEY": MANYCHAT_KEY},
        )
        not_json = await client.post(
            "/webhooks/manychat/contact", content=b"{oops", headers={"X-API-KEY": MANYCHAT_KEY}
        )
    assert (no_key.status_code, wrong_key.status_code) == (401, 401)
    for response in (missing_field, bad_phone, not_json):
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
    assert "nombre_lead" in json.dumps(missing_field.json())
    assert await stream_messages(gateway.nats.url, "CRM") == []


# --- SCI TOTAL --------------------------------------------------------------------------


async def test_sci_status_is_a_payment_event(gateway: RunningGateway) -> None:
    note = {
        "transactionId": "40037",
        "status": "APROBADA",
        "paymentReference": "127-196629",
        "amount": 954688,
    }
    body = json.dumps(note).encode()
    async with gateway.client() as client:
        first = await client.post("/webhooks/sci", content=body, headers=signed_sci(body))
        again = await client.post("/webhooks/sci", content=body, headers=signed_sci(body))
    assert (first.status_code, again.status_code) == (200, 200)
    [stored] = await stream_messages(gateway.nats.url, "PAYMENTS")
    event = parse_event(stored.data)
    assert isinstance(event, PaymentTransactionStatusChanged)
    assert event.status is TransactionStatus.APPROVED
    assert event.provider_status == "APROBADA"
    assert event.amount == 954688


async def test_sci_unknown_status_is_kept_as_unrecognized(gateway: RunningGateway) -> None:
    body = json.dumps({"transactionId": "40038", "status": "EN REVISION MANUAL"}).encode()
    async with gateway.client() as client:
        response = await client.post("/webhooks/sci", content=body, headers=signed_sci(body))
    assert response.status_code == 200
    [stored] = await stream_messages(gateway.nats.url)
    assert stored.subject == "inbound.unrecognized.sci"
    event = parse_event(stored.data)
    assert isinstance(event, InboundPayloadUnrecognized)
    assert "EN REVISION MANUAL" in event.reason


async def test_sci_callback_without_a_valid_signature_publishes_nothing(
    gateway: RunningGateway,
) -> None:
    body = b'{"transactionId": "40039", "status": "APROBADA"}'
    stale = int(time.time()) - 3600
    attempts = {
        "unsigned": {"Content-Type": "application/json"},
        "wrong secret": signed_sci(body, secret="another-tenant-secret-0123456789"),
        "stale": signed_sci(body, at=stale),
        "garbled": {"Content-Type": "application/json", "X-SCI-Signature": "v1=abc"},
    }
    async with gateway.client() as client:
        for name, headers in attempts.items():
            response = await client.post("/webhooks/sci", content=body, headers=headers)
            assert response.status_code == 401, name
            assert response.headers["content-type"].startswith("application/problem+json")
        tampered = await client.post(
            "/webhooks/sci", content=body.replace(b"40039", b"40040"), headers=signed_sci(body)
        )
    assert tampered.status_code == 401
    assert await stream_messages(gateway.nats.url) == []


# --- Odoo -------------------------------------------------------------------------------


async def test_an_odoo_automation_webhook_is_a_record_changed_event(
    gateway: RunningGateway,
) -> None:
    body = {
        "_model": "manychat.contact",
        "_id": 42,
        "_action": "Notify cauce(#7)",
        "ultimo_estado": "Cerrado",
        "x_etapa": "ganado",
        "comercial_id": [7, "Ana Gómez"],
        "write_date": "2026-12-06 13:00:00",
    }
    async with gateway.client() as client:
        accepted = await client.post(f"/webhooks/odoo/{ODOO_TOKEN}", json=body)
        unknown = await client.post("/webhooks/odoo/" + "q" * 40, json=body)
        tokenless = await client.post("/webhooks/odoo/", json=body)
        not_odoo = await client.post(f"/webhooks/odoo/{ODOO_TOKEN}", json={"id": 42})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"status": "accepted", "model": "manychat.contact", "id": 42}
    assert unknown.status_code == 401 and tokenless.status_code in (404, 405)
    assert not_odoo.status_code == 422
    assert not_odoo.headers["content-type"] == "application/problem+json"
    [stored] = await stream_messages(gateway.nats.url, "CRM")
    event = parse_event(stored.data)
    assert isinstance(event, OdooRecordChanged)
    assert (event.tenant_id, event.model, event.odoo_id) == (TENANT, "manychat.contact", 42)
    assert event.values["comercial_id"] == [7, "Ana Gómez"] and "_action" not in event.values
    assert event.write_date == datetime(2026, 12, 6, 13, 0, tzinfo=UTC)


# --- the seed systems' URLs --------------------------------------------------------------


async def test_the_seed_systems_urls_are_aliases_in_the_openapi_document(
    gateway: RunningGateway,
) -> None:
    async with gateway.client() as client:
        handshake = await client.get(
            "/api/webhookMeta/webhookMessage",
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": VERIFY_TOKEN,
                "hub.challenge": "8123",
            },
        )
        tokenless = await client.post("/api/v1/webhook", json=LEGACY_TEXT)
        wrong = await client.post("/api/v1/webhook", params={"token": "z" * 40}, json=LEGACY_TEXT)
        document = (await client.get("/openapi.json")).json()
    assert (handshake.status_code, handshake.text) == (200, "8123")
    assert (tokenless.status_code, wrong.status_code) == (401, 401)
    assert await stream_messages(gateway.nats.url) == []
    aliases = {
        (method.upper(), path): operation["summary"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "seed aliases" in operation.get("tags", [])
    }
    assert aliases[("POST", "/api/webhookMeta/webhookMessage")].startswith(
        "Alias of POST /webhooks/whatsapp"
    )
    assert set(aliases) == {
        ("GET", "/api/webhookMeta/webhookMessage"),
        ("POST", "/api/webhookMeta/webhookMessage"),
        ("GET", "/api/v1/webhooks/whatsapp"),
        ("POST", "/api/v1/webhooks/whatsapp"),
        ("POST", "/api/v1/webhook"),
        ("POST", "/api/webhooks/ycloud"),
        ("POST", "/api/v1/manychat/webhook/contact"),
        ("POST", "/api/v1/manychat/webhook/campaign-assignment"),
    }
