"""Every event in the registry: a valid example, round trips, and rejections.

The example factories live here, one per event type; a new event without an example
fails ``test_every_event_has_an_example``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from cauce_contracts import ALL_EVENTS, Event, parse_event, subjects
from cauce_contracts.registry import UnknownEventType, subject_of
from cauce_contracts.subjects import contact_key

SECRET = b"test-contact-key-secret"
KEY = contact_key("+57 300 123 4567", SECRET)
WHEN = datetime(2025, 6, 5, 12, 41, 36, tzinfo=UTC)
REQUEST_ID = str(uuid.UUID("2b0c8c5e-0d6f-4f53-9a57-5b1f0e9e7a01"))


def _envelope(**extra: Any) -> dict[str, Any]:
    return {
        "tenant_id": "acme",
        "correlation_id": "corr-1",
        "causation_id": "cause-1",
        "occurred_at": WHEN.isoformat(),
        **extra,
    }


def _conversation(**extra: Any) -> dict[str, Any]:
    return _envelope(channel="whatsapp", contact_key=KEY, **extra)


def _template(**extra: Any) -> dict[str, Any]:
    return _envelope(
        channel="whatsapp",
        business_account_id="102290129340398",
        template={"template_id": "1689556908129832", "name": "bienvenida", "language": "es"},
        changed_at=WHEN.isoformat(),
        **extra,
    )


# --- inbound: minimal examples, owned by the inbound contract's author -----------------
# These are the only lines here that know inbound's payload fields; reconcile them with
# cauce_contracts.inbound when it changes. Everything below asks nothing of inbound
# beyond the class names and EVENT_TYPE.


def _inbound_message_received() -> dict[str, Any]:
    return _envelope(
        channel="whatsapp",
        channel_account_id="106540352242922",
        provider_message_id="wamid.HBgLNTczMDAxMjM0NTY3FQIAEhgg",
        contact={"address": "573001234567", "profile_name": "Ana"},
        contact_key=KEY,
        sent_at=WHEN.isoformat(),
        message={"type": "text", "body": "Hola, quiero pagar el impuesto"},
    )


def _inbound_status_updated() -> dict[str, Any]:
    return _envelope(
        channel="whatsapp",
        channel_account_id="106540352242922",
        provider_message_id="wamid.HBgLNTczMDAxMjM0NTY3FQIAERgS",
        status="delivered",
        recipient="573001234567",
        contact_key=KEY,
        timestamp=WHEN.isoformat(),
    )


def _inbound_unrecognized() -> dict[str, Any]:
    return _envelope(
        channel="chattigo",
        reason="unknown payload shape",
        payload='{"hello": "world"}',
        payload_sha256="a" * 64,
    )


INBOUND_INVALID: dict[str, dict[str, Any]] = {
    "inbound.message.received": {"channel": "telegram"},
    "inbound.status.updated": {"channel": "telegram"},
    "inbound.unrecognized": {"channel": "telegram"},
}

# --- the other domains -------------------------------------------------------------------

VEHICLE_DEBT = {
    "placa": "HHO137",
    "declaracion": 108818889,
    "vigencia": 2025,
    "codi_muni_matr": "307",
    "codi_depto_matr": "68",
    "muni_matr": "GIRON",
    "depto_matr": "SANTANDER",
    "avaluo": 49116000,
    "impto": 737000,
    "sancion": 184000,
    "interes": 0,
    "saldo_pagar": 921000,
    "total": 954688,
    "codi_muni_dest": "655",
    "codi_depto_dest": "68",
    "muni_dest": "SABANA DE TORRES",
    "depto_dest": "SANTANDER",
    "valor_muni": 184200,
    "valor_depto": 736800,
    "fecha_lim": "2025-09-01",
}

EXAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    "inbound.message.received": _inbound_message_received,
    "inbound.status.updated": _inbound_status_updated,
    "inbound.unrecognized": _inbound_unrecognized,
    "crm.contact.upserted": lambda: _envelope(
        manychat_id="test_contact_456",
        nombre_lead="Test Contact Data",
        datetime_actual="2025-06-05T12:41:36Z",
        ultimo_estado="Nuevo",
        contact_id="1234567890_manychat_id",
        first_name="Test",
        last_name="Data",
        phone="+56912345678",
        email="test.data@example.com",
    ),
    "crm.campaign.assigned": lambda: _envelope(
        manychat_id="test_contact_456",
        campaign_id="CAMP-ABC-123",
        comercial_id="COM-XYZ-001",
        datetime_actual="2025-06-05T12:45:00Z",
        ultimo_estado="Asignado",
        tipo_asignacion="Automatica",
    ),
    "crm.lead.state_changed": lambda: _envelope(
        manychat_id="test_contact_456",
        previous_state="Nuevo",
        new_state="Asignado",
        changed_at=WHEN.isoformat(),
        source="odoo",
    ),
    "crm.odoo.record_changed": lambda: _envelope(
        model="manychat.contact",
        odoo_id=42,
        values={"ultimo_estado": "Cerrado", "x_etapa": "ganado", "comercial_id": False},
        write_date="2025-06-05T13:00:00Z",
    ),
    "payments.debt.lookup_requested": lambda: _conversation(placa="HHO137"),
    "payments.debt.looked_up": lambda: _conversation(
        request_id=REQUEST_ID, placa="HHO137", debts=[VEHICLE_DEBT]
    ),
    "payments.debt.lookup_failed": lambda: _conversation(
        request_id=REQUEST_ID, placa="HHO137", reason="SCI TOTAL timed out", retryable=True
    ),
    "payments.link.requested": lambda: _conversation(
        request_key="conv-1-108818889",
        placa="HHO137",
        items=[{"declaracion": 108818889, "vigencia": 2025, "amount": 954688}],
        amount=954688,
    ),
    "payments.link.created": lambda: _conversation(
        request_id=REQUEST_ID,
        url="https://backendpruebas.vepay.com.co/pay/40037",
        transaction_id="40037",
        payment_id="40037",
        sci_payment_id=5562812,
        sci_transaction_id=20566,
        payment_reference="127-196629",
        amount=954688,
    ),
    "payments.link.failed": lambda: _conversation(
        request_id=REQUEST_ID, reason="SCI: declaration already paid", retryable=False
    ),
    "payments.transaction.status_changed": lambda: _envelope(
        transaction_id="40037",
        status="approved",
        provider_status="APROBADA",
        payment_reference="127-196629",
        amount=954688,
        status_at=WHEN.isoformat(),
    ),
    "outbound.message.requested": lambda: _envelope(
        channel="whatsapp",
        contact_key=KEY,
        channel_account_id="106540352242922",
        recipient="+573001234567",
        content={
            "type": "cta_url",
            "body": "Tu deuda es $954.688",
            "display_text": "Pagar ahora",
            "url": "https://backendpruebas.vepay.com.co/pay/40037",
        },
    ),
    "outbound.campaign_message.requested": lambda: _envelope(
        channel="whatsapp",
        contact_key=KEY,
        channel_account_id="106540352242922",
        recipient="+573001234567",
        campaign_id="6b0f6c1e-2a1d-4a8e-9f4b-1c2d3e4f5a6b",
        content={
            "type": "template",
            "name": "bienvenida",
            "language": "es",
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}],
        },
    ),
    "outbound.message.sent": lambda: _envelope(
        channel="whatsapp",
        contact_key=KEY,
        channel_account_id="106540352242922",
        request_id=REQUEST_ID,
        provider_message_id="wamid.HBgLNTczMDAxMjM0NTY3FQIAERgS",
    ),
    "outbound.message.failed": lambda: _envelope(
        channel="chattigo",
        contact_key=KEY,
        channel_account_id="5492644710400",
        request_id=REQUEST_ID,
        provider_code="131047",
        title="Re-engagement message",
        retryable=False,
    ),
    "outbound.message.status_changed": lambda: _envelope(
        channel="whatsapp",
        contact_key=KEY,
        channel_account_id="106540352242922",
        provider_message_id="wamid.HBgLNTczMDAxMjM0NTY3FQIAERgS",
        status="read",
        status_at=WHEN.isoformat(),
        request_id=REQUEST_ID,
    ),
    "dlq.dead_lettered": lambda: _envelope(
        original_subject=f"inbound.message.received.acme.whatsapp.{KEY}",
        stream="INBOUND",
        consumer="conversation-inbound",
        stream_sequence=42,
        delivery_count=1,
        reason="1 validation error for InboundMessageReceived",
        error_type="ValidationError",
        original_headers={"Nats-Msg-Id": "whatsapp:wamid.X"},
        original_payload_b64="eyJub3QiOiAiYW4gZXZlbnQifQ==",
    ),
    "inbound.template.status_changed": lambda: _template(
        status="PAUSED", reason="NONE", detail="Your template has been paused"
    ),
    "inbound.template.quality_changed": lambda: _template(
        previous_quality="GREEN", quality="YELLOW"
    ),
    "inbound.template.category_changed": lambda: _template(
        previous_category="UTILITY", category="MARKETING"
    ),
    "inbound.template.components_changed": lambda: _template(
        body_text="Hola {{1}}, tu impuesto vence pronto", button_texts=["Pagar"]
    ),
    "inbound.account.messaging_limit_changed": lambda: _envelope(
        channel="whatsapp",
        scope="business",
        account_id="506914307656634",
        tier="TIER_2K",
        limit=2000,
        quality_event="UPGRADE",
        changed_at=WHEN.isoformat(),
    ),
    "inbound.contact.marketing_preference_changed": lambda: _conversation(
        channel_account_id="106540352242922",
        contact={"address": "573001234567", "profile_name": "Ana"},
        preference="stop",
        category="marketing_messages",
        changed_at=WHEN.isoformat(),
    ),
    "inbox.chat.changed": lambda: _envelope(
        chat_id="77b029bf-2c34-58b3-ba35-f631505887db",
        change="assignment",
        status="pending",
        assignee="ana",
        version=4,
    ),
    "inbound.media.stored": lambda: _conversation(
        channel_account_id="106540352242922",
        provider_message_id="wamid.HBgLNTczMDA",
        object_name="acme/" + "ab" * 32,
        content_type="image/jpeg",
        size=48213,
        sha256="ab" * 32,
    ),
    "inbound.media.refused": lambda: _conversation(
        channel_account_id="106540352242922",
        provider_message_id="wamid.HBgLNTczMDA",
        reason="too_large",
        detail="the file is 40 MiB; the limit is 16 MiB",
    ),
}

#: One payload-specific override per event that its contract must reject.
INVALID: dict[str, dict[str, Any]] = {
    **INBOUND_INVALID,
    "crm.contact.upserted": {"manychat_id": "has.dot"},
    "crm.campaign.assigned": {"datetime_actual": "2025-06-05T12:45:00"},  # naive
    "crm.lead.state_changed": {"source": "fax"},
    "crm.odoo.record_changed": {"values": {"Bad-Name; DROP": 1}},
    "payments.debt.lookup_requested": {"placa": "hho-137"},
    "payments.debt.looked_up": {"debts": [{**VEHICLE_DEBT, "impto": -1}]},
    "payments.debt.lookup_failed": {"request_id": "not-a-uuid"},
    "payments.link.requested": {"amount": 0},
    "payments.link.created": {"url": "javascript:alert(1)"},
    "payments.link.failed": {"contact_key": "573001234567"},  # a phone, not a key
    "payments.transaction.status_changed": {"status": "APROBADA"},
    "outbound.message.requested": {"recipient": "not a phone"},
    "outbound.message.sent": {"provider_message_id": ""},
    "outbound.campaign_message.requested": {"campaign_id": None},  # a campaign's, always
    "outbound.message.failed": {"retryable": "maybe"},
    "outbound.message.status_changed": {"status": "seen"},
    "dlq.dead_lettered": {"original_payload_b64": "not base64!"},
    "inbound.template.status_changed": {"status": "paused"},  # Meta's spelling only
    "inbound.template.quality_changed": {"quality": ""},
    "inbound.template.category_changed": {"business_account_id": "has.dot"},
    "inbound.template.components_changed": {"template": {"name": "", "language": "es"}},
    "inbound.account.messaging_limit_changed": {"limit": -1},
    "inbound.contact.marketing_preference_changed": {"preference": "maybe"},
    "inbox.chat.changed": {"chat_id": "has.dot"},  # a subject token
    "inbound.media.stored": {"sha256": "not-hex"},
    "inbound.media.refused": {"reason": "whatever"},
}

EVENT_TYPES = sorted(ALL_EVENTS)


def _build(event_type: str, /, **overrides: Any) -> Event:
    return ALL_EVENTS[event_type].model_validate({**EXAMPLES[event_type](), **overrides})


def test_every_event_has_an_example_and_an_invalid_case() -> None:
    assert set(EXAMPLES) == set(ALL_EVENTS)
    assert set(INVALID) == set(ALL_EVENTS)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_example_is_valid_and_pins_type_and_version(event_type: str) -> None:
    event = _build(event_type)
    assert type(event) is ALL_EVENTS[event_type]
    assert event.event_type == event_type
    assert event.schema_version == type(event).SCHEMA_VERSION >= 1


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_round_trip_through_json(event_type: str) -> None:
    event = _build(event_type)
    data = event.model_dump_json()
    assert type(event).model_validate_json(data) == event
    decoded = parse_event(data.encode())
    assert type(decoded) is type(event)
    assert decoded == event


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_subject_of_event(event_type: str) -> None:
    subject = subject_of(_build(event_type))
    assert subjects.subject_matches(subjects.all_of(event_type), subject)
    assert "*" not in subject and ">" not in subject
    assert "3001234567" not in subject  # the example contact's number never shows


def test_subject_of_needs_its_tokens() -> None:
    event = _build("inbound.status.updated", recipient=None, contact_key=None)
    with pytest.raises(ValueError, match="contact_key"):
        subject_of(event)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_unknown_field_rejected(event_type: str) -> None:
    with pytest.raises(ValidationError, match=r"extra_forbidden|Extra inputs"):
        _build(event_type, surprise="field")


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_invalid_payload_value_rejected(event_type: str) -> None:
    overrides = INVALID[event_type]
    with pytest.raises(ValidationError) as caught:
        _build(event_type, **overrides)
    # Rejected for the overridden field, not for something else in the example.
    assert {error["loc"][0] for error in caught.value.errors()} <= set(overrides)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
@pytest.mark.parametrize(
    "overrides",
    [
        {"tenant_id": "acme.eu"},
        {"tenant_id": ""},
        {"occurred_at": "2025-06-05T12:41:36"},
        {"event_id": "not-a-uuid"},
        {"correlation_id": ""},
        {"schema_version": 99},
    ],
    ids=["tenant-dot", "tenant-empty", "naive-time", "bad-event-id", "no-correlation", "v99"],
)
def test_invalid_envelope_rejected(event_type: str, overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _build(event_type, **overrides)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_wrong_event_type_rejected(event_type: str) -> None:
    other = next(t for t in EVENT_TYPES if t != event_type)
    with pytest.raises(ValidationError, match="event_type"):
        _build(event_type, event_type=other)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_event_is_immutable(event_type: str) -> None:
    event = _build(event_type)
    with pytest.raises(ValidationError):
        event.tenant_id = "other"  # type: ignore[misc]


def test_occurred_at_normalised_to_utc() -> None:
    bogota = timezone(timedelta(hours=-5))
    event = _build(
        "crm.lead.state_changed", occurred_at=datetime(2025, 6, 5, 7, 41, 36, tzinfo=bogota)
    )
    assert event.occurred_at == WHEN
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert json.loads(event.model_dump_json())["occurred_at"].endswith("Z")


def test_parse_event_unknown_type() -> None:
    payload = json.dumps({**EXAMPLES["crm.lead.state_changed"](), "event_type": "crm.nope"})
    with pytest.raises(UnknownEventType) as caught:
        parse_event(payload.encode())
    assert caught.value.event_type == "crm.nope"


@pytest.mark.parametrize("data", [b"not json", b"{}", b'{"event_type": 3}', b"[]"])
def test_parse_event_malformed(data: bytes) -> None:
    with pytest.raises(ValidationError):
        parse_event(data)


def test_parse_event_rejects_payload_of_another_type() -> None:
    # The envelope names one type but the body is another's: the named contract decides.
    body = {**EXAMPLES["outbound.message.sent"](), "event_type": "outbound.message.failed"}
    with pytest.raises(ValidationError):
        parse_event(json.dumps(body))


def test_schema_shows_event_type_as_const() -> None:
    for event_type, model in ALL_EVENTS.items():
        properties = model.model_json_schema()["properties"]
        assert properties["event_type"]["const"] == event_type
        assert properties["schema_version"]["const"] == model.SCHEMA_VERSION


def test_a_link_request_amount_must_be_the_sum_of_its_items() -> None:
    from cauce_contracts.payments import PaymentLinkRequested

    base = EXAMPLES["payments.link.requested"]()
    items = [
        {"declaracion": 1, "vigencia": 2024, "amount": 100},
        {"declaracion": 2, "vigencia": 2025, "amount": 250},
    ]
    request = PaymentLinkRequested.model_validate({**base, "items": items, "amount": 350})
    assert request.amount == 350
    with pytest.raises(ValidationError, match="not the sum"):
        PaymentLinkRequested.model_validate({**base, "items": items, "amount": 300})
    with pytest.raises(ValidationError, match="paid once"):
        PaymentLinkRequested.model_validate({**base, "items": [items[0], items[0]], "amount": 200})
