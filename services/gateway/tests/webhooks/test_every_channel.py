"""The gateway's promises, checked for every channel against a real nats-server:
an accepted webhook is one durable event with the right subject, envelope,
``Nats-Msg-Id`` and ``traceparent``; a redelivered webhook is still one event; with the
bus down the channel is told to retry (503) and nothing is lost once it is back."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cauce_contracts.registry import parse_event
from cauce_devstack.sandbox.meta import webhooks as meta
from cauce_gateway.authenticity.ycloud_signature import ycloud_signature

from .conftest import (
    CHATTIGO_TOKEN,
    MANYCHAT_KEY,
    ODOO_TOKEN,
    TENANT,
    YCLOUD_SECRET,
    RunningGateway,
    signed_meta,
    signed_sci,
    stream_messages,
    text_webhook,
)

FIXTURES = Path(__file__).parent.parent / "parsing" / "fixtures"


@dataclass(frozen=True)
class Case:
    path: str
    stream: str
    subject_prefix: str
    event_type: str
    msg_id_prefix: str
    ok_status: int = 200
    #: builds (body, headers) at request time (YCloud signatures carry the time)
    request: Callable[[], tuple[bytes, dict[str, str]]] = field(default=lambda: (b"", {}))


def _ycloud() -> tuple[bytes, dict[str, str]]:
    body = (FIXTURES / "ycloud" / "inbound_text.json").read_bytes()
    return body, {
        "YCloud-Signature": ycloud_signature(body, YCLOUD_SECRET.encode(), int(time.time()))
    }


def _json(body: str, **headers: str) -> Callable[[], tuple[bytes, dict[str, str]]]:
    return lambda: (body.encode(), {"Content-Type": "application/json", **headers})


def _signed_sci(body: bytes) -> Callable[[], tuple[bytes, dict[str, str]]]:
    return lambda: (body, signed_sci(body))


CASES = {
    "whatsapp": Case(
        "/webhooks/whatsapp",
        "INBOUND",
        f"inbound.message.received.{TENANT}.whatsapp.",
        "inbound.message.received",
        "whatsapp:msg:wamid.EVERY",
        request=lambda: signed_meta(text_webhook(message_id="wamid.EVERY")),
    ),
    "chattigo": Case(
        f"/webhooks/chattigo/{CHATTIGO_TOKEN}",
        "INBOUND",
        f"inbound.message.received.{TENANT}.chattigo.",
        "inbound.message.received",
        "chattigo:msg:wamid.EVERY",
        request=lambda: (meta.encode(text_webhook(message_id="wamid.EVERY")), {}),
    ),
    "ycloud": Case(
        "/webhooks/ycloud",
        "INBOUND",
        f"inbound.message.received.{TENANT}.ycloud.",
        "inbound.message.received",
        "ycloud:msg:wamid.",
        request=_ycloud,
    ),
    "manychat-contact": Case(
        "/webhooks/manychat/contact",
        "CRM",
        f"crm.contact.upserted.{TENANT}.lead_1",
        "crm.contact.upserted",
        "manychat:crm.contact.upserted:",
        ok_status=202,
        request=_json(
            '{"manychat_id": "lead_1", "nombre_lead": "Ana",'
            ' "datetime_actual": "2025-06-05T12:41:36Z"}',
            **{"X-API-KEY": MANYCHAT_KEY},
        ),
    ),
    "manychat-campaign": Case(
        "/webhooks/manychat/campaign-assignment",
        "CRM",
        f"crm.campaign.assigned.{TENANT}.lead_1",
        "crm.campaign.assigned",
        "manychat:crm.campaign.assigned:",
        ok_status=202,
        request=_json(
            '{"manychat_id": "lead_1", "campaign_id": "C1", "comercial_id": "A1",'
            ' "datetime_actual": "2025-06-05T12:45:00Z", "ultimo_estado": "Asignado",'
            ' "tipo_asignacion": "Automatica"}',
            **{"X-API-KEY": MANYCHAT_KEY},
        ),
    ),
    "sci": Case(
        "/webhooks/sci",
        "PAYMENTS",
        f"payments.transaction.status_changed.{TENANT}.40037",
        "payments.transaction.status_changed",
        "sci:txn:40037:approved",
        request=_signed_sci(b'{"transactionId": "40037", "status": "APROBADA"}'),
    ),
    "odoo": Case(
        f"/webhooks/odoo/{ODOO_TOKEN}",
        "CRM",
        f"crm.odoo.record_changed.{TENANT}",
        "crm.odoo.record_changed",
        f"odoo:{TENANT}:",
        request=_json(
            '{"_model": "manychat.contact", "_id": 42, "_action": "Notify cauce(#7)",'
            ' "ultimo_estado": "Cerrado", "write_date": "2026-12-06 13:00:00"}'
        ),
    ),
}


#: The seed systems' URLs (``webhooks/seed_paths.py``), each the same handler as its route.
SEED_ALIASES = {
    "/api/webhookMeta/webhookMessage": "whatsapp",
    "/api/v1/webhooks/whatsapp": "whatsapp",
    f"/api/v1/webhook?token={CHATTIGO_TOKEN}": "chattigo",
    "/api/webhooks/ycloud": "ycloud",
    "/api/v1/manychat/webhook/contact": "manychat-contact",
    "/api/v1/manychat/webhook/campaign-assignment": "manychat-campaign",
}
WITH_ALIASES = {
    **CASES,
    **{
        f"{name} at {path.split('?')[0]}": dataclasses.replace(CASES[name], path=path)
        for path, name in SEED_ALIASES.items()
    },
}


@pytest.mark.parametrize("case", WITH_ALIASES.values(), ids=WITH_ALIASES.keys())
async def test_redelivered_webhook_is_one_durable_traced_event(
    gateway: RunningGateway, case: Case
) -> None:
    async with gateway.client() as client:
        for _ in range(3):
            body, headers = case.request()
            response = await client.post(case.path, content=body, headers=headers)
            assert response.status_code == case.ok_status, response.text
    [stored] = await stream_messages(gateway.nats.url, case.stream)
    assert stored.subject is not None and stored.subject.startswith(case.subject_prefix)
    assert stored.headers is not None
    assert stored.headers["Nats-Msg-Id"].startswith(case.msg_id_prefix)
    version, trace_id, span_id, _flags = stored.headers["traceparent"].split("-")
    assert (version, len(trace_id), len(span_id)) == ("00", 32, 16)
    event = parse_event(stored.data)
    assert event.event_type == case.event_type
    assert event.schema_version >= 1
    assert event.tenant_id == TENANT
    assert event.correlation_id
    assert event.occurred_at.tzinfo is not None


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_bus_down_is_503_then_the_retry_lands(gateway: RunningGateway, case: Case) -> None:
    async with gateway.client() as client:
        gateway.nats.stop()
        body, headers = case.request()
        down = await client.post(case.path, content=body, headers=headers)
        assert down.status_code == 503
        assert down.headers["retry-after"] == str(gateway.settings.retry_after_s)
        assert down.headers["content-type"] == "application/problem+json"
        gateway.nats.start()
        for _ in range(100):
            body, headers = case.request()
            retry = await client.post(case.path, content=body, headers=headers)
            if retry.status_code != 503:
                break
            await asyncio.sleep(0.1)
        assert retry.status_code == case.ok_status
    assert len(await stream_messages(gateway.nats.url, case.stream)) == 1
