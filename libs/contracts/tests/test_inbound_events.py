"""Inbound event contracts: round-trips, unknown fields and invalid values rejected."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from cauce_contracts.inbound import (
    MESSAGE_TYPES,
    UNRECOGNIZED_PAYLOAD_MAX_CHARS,
    AudioMessage,
    ButtonMessage,
    ButtonReply,
    ContactName,
    ContactPhone,
    ContactsMessage,
    DocumentMessage,
    FlowReply,
    ImageMessage,
    InboundContact,
    InboundMessage,
    InboundMessageReceived,
    InboundPayloadUnrecognized,
    InboundStatusUpdated,
    InteractiveMessage,
    ListReply,
    LocationMessage,
    MediaRef,
    MessageContext,
    MessageStatus,
    OrderItem,
    OrderMessage,
    ReactionMessage,
    Referral,
    ReferredProduct,
    ReportedError,
    SharedContact,
    StatusConversation,
    StatusPricing,
    StickerMessage,
    SystemMessage,
    TextMessage,
    UnsupportedMessage,
    VideoMessage,
)
from cauce_contracts.subjects import Channel

KEY = "0123456789abcdef01234567"
SENT = datetime(2025, 12, 29, 17, 49, 22, tzinfo=UTC)
MEDIA = MediaRef(id="1479537139650973", mime_type="image/jpeg", sha256="XmPp=", caption="Foto")

BODIES: list[Any] = [
    TextMessage(body="Hola"),
    TextMessage(
        body="Vi el anuncio",
        referral=Referral(source_type="ad", source_id="1202", ctwa_clid="ARAk", headline="Paga"),
        context=MessageContext(
            message_id="wamid.X",
            sender="573105550100",
            referred_product=ReferredProduct(catalog_id="11", product_retailer_id="p-1"),
        ),
    ),
    ImageMessage(media=MEDIA),
    AudioMessage(media=MediaRef(id="1003", mime_type="audio/ogg; codecs=opus"), voice=True),
    VideoMessage(media=MediaRef(url="https://cdn.example.com/v.mp4")),
    DocumentMessage(media=MediaRef(id="893"), filename="recibo.pdf"),
    StickerMessage(media=MediaRef(id="2158"), animated=True),
    LocationMessage(latitude=4.6097, longitude=-74.0817, name="Movilidad", address="Calle 13"),
    ContactsMessage(
        contacts=(
            SharedContact(
                name=ContactName(formatted_name="Andrés Gómez"),
                phones=(ContactPhone(phone="+57 310 555 0199", wa_id="573105550199", type="CELL"),),
                birthday="1988-04-17",
            ),
        )
    ),
    ReactionMessage(message_id="wamid.Y", emoji="👍"),
    ReactionMessage(message_id="wamid.Y"),
    InteractiveMessage(reply=ButtonReply(id="pay_now", title="Pagar ahora")),
    InteractiveMessage(reply=ListReply(id="moto", title="Moto", description="ABC12D")),
    InteractiveMessage(reply=FlowReply(name="flow", body="Sent", response_json='{"a":1}')),
    ButtonMessage(
        payload="CONSULTAR", text="Consultar deuda", context=MessageContext(forwarded=True)
    ),
    OrderMessage(
        catalog_id="1176",
        product_items=(
            OrderItem(
                product_retailer_id="soat",
                quantity=2,
                item_price=Decimal("123450.5"),
                currency="COP",
            ),
        ),
    ),
    SystemMessage(
        body="changed number", system_type="user_changed_number", new_wa_id="573009876543"
    ),
    UnsupportedMessage(
        errors=(ReportedError(code=131051, title="Message type unknown", details="x"),)
    ),
]


def received(message: Any, **overrides: Any) -> InboundMessageReceived:
    fields: dict[str, Any] = {
        "event_id": uuid.uuid4(),
        "tenant_id": "acme",
        "correlation_id": "req-1",
        "channel": Channel.WHATSAPP,
        "channel_account_id": "106540352242922",
        "provider_message_id": "wamid.HBgM",
        "contact": InboundContact(address="573001234567", profile_name="Camila"),
        "contact_key": KEY,
        "sent_at": SENT,
        "message": message,
        **overrides,
    }
    return InboundMessageReceived(**fields)


def status_event(**overrides: Any) -> InboundStatusUpdated:
    fields: dict[str, Any] = {
        "tenant_id": "acme",
        "correlation_id": "req-1",
        "channel": Channel.WHATSAPP,
        "channel_account_id": "106540352242922",
        "provider_message_id": "wamid.HBgM",
        "status": MessageStatus.FAILED,
        "recipient": "573001234567",
        "contact_key": KEY,
        "timestamp": SENT,
        "conversation": StatusConversation(id="c7a9", origin_type="utility", expires_at=SENT),
        "pricing": StatusPricing(
            billable=True, pricing_model="PMP", category="utility", type="regular"
        ),
        "errors": (
            ReportedError(code=131026, title="Message undeliverable", details="Undeliverable."),
        ),
        "biz_opaque_callback_data": "campaign:7",
        **overrides,
    }
    return InboundStatusUpdated(**fields)


def unrecognized(**overrides: Any) -> InboundPayloadUnrecognized:
    fields: dict[str, Any] = {
        "tenant_id": "unassigned",
        "correlation_id": "req-1",
        "channel": Channel.CHATTIGO,
        "reason": "unknown message type 'request_welcome'",
        "payload": '{"object":"whatsapp_business_account"}',
        "payload_sha256": "a" * 64,
        **overrides,
    }
    return InboundPayloadUnrecognized(**fields)


def test_every_message_type_has_a_body_under_test() -> None:
    assert {b.type for b in BODIES} == set(MESSAGE_TYPES)


@pytest.mark.parametrize("body", BODIES, ids=lambda b: b.type)
def test_message_received_round_trips_through_json(body: Any) -> None:
    event = received(body)
    again = InboundMessageReceived.model_validate_json(event.model_dump_json())
    assert again == event
    assert again.message == body
    assert type(again.message) is type(body)
    assert again.event_type == "inbound.message.received"


def test_status_and_unrecognized_round_trip_through_json() -> None:
    for event in (status_event(), unrecognized()):
        assert type(event).model_validate_json(event.model_dump_json()) == event


def test_event_types_are_the_subject_prefixes() -> None:
    assert received(BODIES[0]).event_type == "inbound.message.received"
    assert status_event().event_type == "inbound.status.updated"
    assert unrecognized().event_type == "inbound.unrecognized"


def test_sent_at_keeps_the_instant_of_an_offset_time() -> None:
    bogota = datetime(2025, 12, 29, 12, 49, 22, tzinfo=timezone(timedelta(hours=-5)))
    assert received(BODIES[0], sent_at=bogota).sent_at == SENT


def test_reaction_without_emoji_is_a_removal() -> None:
    assert ReactionMessage(message_id="wamid.Y").is_removal
    assert not ReactionMessage(message_id="wamid.Y", emoji="❤️").is_removal
    with pytest.raises(ValidationError):
        ReactionMessage(message_id="wamid.Y", emoji="")


def _dump(event: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = json.loads(event.model_dump_json())
    return dumped


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ((), "raw"),
        (("message",), "unknown_field"),
        (("contact",), "wa_id"),
        (("message", "media"), "link"),
    ],
)
def test_unknown_fields_are_rejected(path: tuple[str, ...], extra: str) -> None:
    doc = _dump(received(ImageMessage(media=MEDIA)))
    target = doc
    for key in path:
        target = target[key]
    target[extra] = "x"
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        InboundMessageReceived.model_validate(doc)


def test_unknown_fields_are_rejected_on_status_and_unrecognized() -> None:
    status_doc = _dump(status_event())
    status_doc["pricing"]["price"] = 1
    with pytest.raises(ValidationError):
        InboundStatusUpdated.model_validate(status_doc)
    unrecognized_doc = {**_dump(unrecognized()), "raw_bytes": "x"}
    with pytest.raises(ValidationError):
        InboundPayloadUnrecognized.model_validate(unrecognized_doc)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"event_type": "inbound.status.updated"}, "event_type"),
        ({"schema_version": 2}, "schema_version"),
        ({"channel": "telegram"}, "channel"),
        ({"contact_key": "573001234567"}, "contact_key"),
        ({"contact": {"address": "+57 300 123"}}, "contact.address"),
        ({"sent_at": "2025-12-29T17:49:22"}, "sent_at"),
        ({"message": {"type": "hologram", "body": "x"}}, "message"),
        ({"message": {"type": "text"}}, "message.text.body"),
        ({"message": {"type": "location", "latitude": 91, "longitude": 0}}, "latitude"),
        ({"message": {"type": "image", "media": {"caption": "no id nor url"}}}, "media"),
        ({"message": {"type": "interactive", "reply": {"type": "carousel", "id": "x"}}}, "reply"),
        ({"message": {"type": "contacts", "contacts": []}}, "contacts"),
        ({"tenant_id": "acme.eu"}, "tenant_id"),
    ],
)
def test_invalid_values_are_rejected(change: dict[str, Any], where: str) -> None:
    doc = {**_dump(received(BODIES[0])), **change}
    with pytest.raises(ValidationError) as info:
        InboundMessageReceived.model_validate(doc)
    assert where.split(".")[0] in str(info.value)


@pytest.mark.parametrize(
    "change",
    [
        {"status": "bounced"},
        {"recipient": "not-a-number"},
        {"errors": [{"title": "no code"}]},
        {"conversation": {"origin_type": "utility"}},
        {"timestamp": "yesterday"},
    ],
)
def test_invalid_status_values_are_rejected(change: dict[str, Any]) -> None:
    doc = {**_dump(status_event()), **change}
    with pytest.raises(ValidationError):
        InboundStatusUpdated.model_validate(doc)


def test_status_may_omit_recipient() -> None:
    event = status_event(
        recipient=None, contact_key=None, conversation=None, pricing=None, errors=()
    )
    assert InboundStatusUpdated.model_validate_json(event.model_dump_json()).recipient is None


def test_unrecognized_payload_is_capped_and_hashed() -> None:
    assert unrecognized(payload="x" * UNRECOGNIZED_PAYLOAD_MAX_CHARS).payload_truncated is False
    with pytest.raises(ValidationError):
        unrecognized(payload="x" * (UNRECOGNIZED_PAYLOAD_MAX_CHARS + 1))
    with pytest.raises(ValidationError):
        unrecognized(payload_sha256="not-hex")
    with pytest.raises(ValidationError):
        unrecognized(reason="")


def test_message_union_discriminates_on_type() -> None:
    adapter = TypeAdapter[InboundMessage](InboundMessage)
    parsed = adapter.validate_python({"type": "audio", "media": {"id": "1"}, "voice": True})
    assert parsed == AudioMessage(media=MediaRef(id="1"), voice=True)
