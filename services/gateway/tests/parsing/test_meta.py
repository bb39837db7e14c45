"""Meta Cloud API webhooks -> parsed messages, statuses and unrecognized parts."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cauce_contracts.inbound import (
    AudioMessage,
    ButtonMessage,
    ButtonReply,
    ContactAddress,
    ContactEmail,
    ContactName,
    ContactOrg,
    ContactPhone,
    ContactsMessage,
    ContactUrl,
    DocumentMessage,
    ImageMessage,
    InboundContact,
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
from cauce_gateway.parsing import ParsedMessage, ParsedStatus, parse_meta_webhook

from .fixture_files import doc, raw

OUR_WAMID = "wamid.GAw1NzMwMDEyMzQ1NjcVAgASGBRIQkVCMkExRjhDNkU1NUQxNEEwNwA="
REPLY = MessageContext(message_id=OUR_WAMID, sender="573105550100")

EXPECTED_BODIES: dict[str, Any] = {
    "text": TextMessage(body="Hola, quiero consultar el impuesto de mi vehículo"),
    "image": ImageMessage(
        media=MediaRef(
            id="1479537139650973",
            mime_type="image/jpeg",
            sha256="XmPpVyBhu4jG5tZm0X4pWq2yVGE1eEJhY8bQm2xl0Jk=",
            caption="Foto de la tarjeta de propiedad",
        )
    ),
    "audio_voice": AudioMessage(
        media=MediaRef(
            id="1003383421387256",
            mime_type="audio/ogg; codecs=opus",
            sha256="g3Zc8xGq0JmL4bQ2Vn7wT1rS6yE9uI5oP0aD3fH8kLs=",
        ),
        voice=True,
    ),
    "video": VideoMessage(
        media=MediaRef(
            id="1282713069509452",
            mime_type="video/mp4",
            sha256="p0Q9r8S7t6U5v4W3x2Y1z0A9b8C7d6E5f4G3h2I1j0K=",
            caption="Así quedó el carro",
        )
    ),
    "document": DocumentMessage(
        media=MediaRef(
            id="893254362837641",
            mime_type="application/pdf",
            sha256="Yq1Dw5KkH7mJt3Rz9Lc0Vb2Nx6Pa8Se4Gf1Ui7Oh5Wd=",
            caption="Recibo de pago",
        ),
        filename="recibo_ABC123.pdf",
    ),
    "sticker": StickerMessage(
        media=MediaRef(
            id="2158493201445561",
            mime_type="image/webp",
            sha256="Tz0Qm3Kw8Rj5Hv2Lp9Xc6Nb1Sd4Fg7Ah0Jk3Ze6Yu9I=",
        ),
        animated=False,
    ),
    "location": LocationMessage(
        latitude=4.6097102,
        longitude=-74.081749,
        name="Secretaría Distrital de Movilidad",
        address="Calle 13 # 37-35, Bogotá",
        url="https://www.movilidadbogota.gov.co",
    ),
    "contacts": ContactsMessage(
        contacts=(
            SharedContact(
                name=ContactName(
                    formatted_name="Andrés Gómez", first_name="Andrés", last_name="Gómez"
                ),
                phones=(ContactPhone(phone="+57 310 555 0199", wa_id="573105550199", type="CELL"),),
                emails=(ContactEmail(email="andres.gomez@example.com", type="WORK"),),
                org=ContactOrg(
                    company="Transportes del Valle S.A.S.", department="Flota", title="Coordinador"
                ),
                urls=(ContactUrl(url="https://transportesdelvalle.example.com", type="WORK"),),
                addresses=(
                    ContactAddress(
                        street="Carrera 43A # 1-50",
                        city="Medellín",
                        state="Antioquia",
                        zip="050021",
                        country="Colombia",
                        country_code="CO",
                        type="WORK",
                    ),
                ),
                birthday="1988-04-17",
            ),
        )
    ),
    "reaction": ReactionMessage(message_id=OUR_WAMID, emoji="👍"),
    "reaction_removed": ReactionMessage(message_id=OUR_WAMID),
    "interactive_button_reply": InteractiveMessage(
        reply=ButtonReply(id="pay_now", title="Pagar ahora"), context=REPLY
    ),
    "interactive_list_reply": InteractiveMessage(
        reply=ListReply(id="vehicle_moto", title="Motocicleta", description="Placa tipo ABC12D"),
        context=REPLY,
    ),
    "button": ButtonMessage(payload="CONSULTAR_DEUDA", text="Consultar deuda", context=REPLY),
    "order": OrderMessage(
        catalog_id="1176352429727812",
        text="Quiero pagar estos dos",
        product_items=(
            OrderItem(
                product_retailer_id="impuesto-2025",
                quantity=1,
                item_price=Decimal(485000),
                currency="COP",
            ),
            OrderItem(
                product_retailer_id="soat-2025",
                quantity=2,
                item_price=Decimal("123450.5"),
                currency="COP",
            ),
        ),
    ),
    "system": SystemMessage(
        body="Camila Rodríguez changed their phone number from 573001234567 to 573009876543",
        system_type="user_changed_number",
        new_wa_id="573009876543",
    ),
    "unsupported": UnsupportedMessage(
        errors=(
            ReportedError(
                code=131051,
                title="Message type unknown",
                message="Message type unknown",
                details="Message type is currently not supported.",
            ),
        )
    ),
    "text_with_referral": TextMessage(
        body="Hola, vi el anuncio del descuento",
        referral=Referral(
            source_url="https://fb.me/3cr4Wqqkv",
            source_id="120212345678901234",
            source_type="ad",
            headline="Paga tu impuesto vehicular sin filas",
            body="Escríbenos y te ayudamos en minutos",
            media_type="image",
            image_url="https://scontent.xx.fbcdn.net/v/t45.1600-4/anuncio.jpg",
            thumbnail_url="https://scontent.xx.fbcdn.net/v/t45.1600-4/anuncio_thumb.jpg",
            ctwa_clid="ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a",
        ),
    ),
    "text_forwarded": TextMessage(
        body="Mira este mensaje que me llegó", context=MessageContext(frequently_forwarded=True)
    ),
    "text_product_inquiry": TextMessage(
        body="¿Este plan incluye el SOAT?",
        context=MessageContext(
            message_id=OUR_WAMID,
            sender="573105550100",
            referred_product=ReferredProduct(
                catalog_id="1176352429727812", product_retailer_id="plan-anual"
            ),
        ),
    ),
}


def parse(payload: bytes | dict[str, Any]) -> Any:
    return parse_meta_webhook(payload, channel=Channel.WHATSAPP)


def only_message(payload: bytes | dict[str, Any]) -> ParsedMessage:
    result = parse(payload)
    assert result.unrecognized == ()
    (item,) = result.items
    assert isinstance(item, ParsedMessage)
    return item


@pytest.mark.parametrize("name", sorted(EXPECTED_BODIES))
def test_each_message_type_parses_to_its_typed_body(name: str) -> None:
    item = only_message(raw(f"meta/{name}.json"))
    assert item.message == EXPECTED_BODIES[name]
    source = doc(f"meta/{name}.json")["entry"][0]["changes"][0]["value"]["messages"][0]
    assert item.provider_message_id == source["id"]
    assert item.channel is Channel.WHATSAPP
    assert item.channel_account_id == "106540352242922"
    assert item.phone_number_id == "106540352242922"
    assert item.display_phone_number == "573105550100"
    assert item.sent_at == datetime(2025, 12, 29, 17, 49, 22, tzinfo=UTC)


def test_contact_carries_address_and_profile_name() -> None:
    item = only_message(raw("meta/text.json"))
    assert item.contact == InboundContact(address="573001234567", profile_name="Camila Rodríguez")


def test_system_message_without_contacts_has_no_profile_name() -> None:
    item = only_message(raw("meta/system.json"))
    assert item.contact == InboundContact(address="573001234567")


def test_decoded_json_parses_like_the_raw_bytes() -> None:
    assert parse(doc("meta/image.json")) == parse(raw("meta/image.json"))


def test_reaction_with_empty_emoji_is_a_removal() -> None:
    payload = doc("meta/reaction.json")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["reaction"]["emoji"] = ""
    body = only_message(payload).message
    assert isinstance(body, ReactionMessage)
    assert body.is_removal and body.message_id == OUR_WAMID


def test_legacy_unknown_type_is_read_as_unsupported() -> None:
    payload = doc("meta/unsupported.json")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["type"] = "unknown"
    assert only_message(payload).message == EXPECTED_BODIES["unsupported"]


def test_fields_meta_adds_later_are_ignored() -> None:
    payload = doc("meta/image.json")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["image"]["url"] = "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1"
    message["brand_new_field"] = {"x": 1}
    body = only_message(payload).message
    assert isinstance(body, ImageMessage)
    assert body.media.url == "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1"


STATUS_WAMID = "wamid.GAw1NzMwMDEyMzQ1NjcVAgASGBRIQkVCMkExRjhDNkU1NUQxNEEwNwA="


def only_status(name: str) -> ParsedStatus:
    result = parse(raw(name))
    assert result.unrecognized == ()
    (item,) = result.items
    assert isinstance(item, ParsedStatus)
    assert item.provider_message_id == STATUS_WAMID
    assert item.recipient == "573001234567"
    assert item.channel_account_id == "106540352242922"
    return item


def test_sent_status_keeps_conversation_pricing_and_callback_data() -> None:
    item = only_status("meta/status_sent.json")
    assert item.status is MessageStatus.SENT
    assert item.timestamp == datetime.fromtimestamp(1767030601, UTC)
    assert item.conversation == StatusConversation(
        id="c7a9e3b1f0d24e8a9b6c5d4e3f2a1b0c",
        origin_type="utility",
        expires_at=datetime.fromtimestamp(1767117001, UTC),
    )
    assert item.pricing == StatusPricing(billable=True, pricing_model="CBP", category="utility")
    assert item.biz_opaque_callback_data == "campaign:vehiculos-2025:row:17"
    assert item.errors == ()


def test_delivered_status_with_per_message_pricing() -> None:
    item = only_status("meta/status_delivered.json")
    assert item.status is MessageStatus.DELIVERED
    assert item.pricing == StatusPricing(
        billable=True, pricing_model="PMP", category="utility", type="regular"
    )
    assert item.conversation is not None and item.conversation.expires_at is None


def test_read_status() -> None:
    item = only_status("meta/status_read.json")
    assert item.status is MessageStatus.READ
    assert item.timestamp == datetime.fromtimestamp(1767030655, UTC)
    assert item.conversation is None and item.pricing is None


def test_failed_status_keeps_meta_errors() -> None:
    item = only_status("meta/status_failed.json")
    assert item.status is MessageStatus.FAILED
    assert item.errors == (
        ReportedError(
            code=131026,
            title="Message undeliverable",
            message="Message undeliverable",
            details="Message Undeliverable.",
        ),
    )


def test_batch_yields_every_message_and_status_in_payload_order() -> None:
    result = parse(raw("meta/batch.json"))
    assert result.unrecognized == ()
    summary = [
        (
            type(item).__name__,
            item.channel_account_id,
            item.contact.address if isinstance(item, ParsedMessage) else item.recipient,
        )
        for item in result.items
    ]
    assert summary == [
        ("ParsedMessage", "106540352242922", "573001234567"),
        ("ParsedMessage", "106540352242922", "573157654321"),
        ("ParsedStatus", "106540352242922", "573001234567"),
        ("ParsedStatus", "106540352242922", "573157654321"),
        ("ParsedMessage", "118204771234567", "573208887766"),
        ("ParsedStatus", "118204771234567", "573208887766"),
    ]
    second = result.items[1]
    assert isinstance(second, ParsedMessage)
    assert second.contact.profile_name == "Julián Pérez"
    assert second.message == TextMessage(body="Buenas tardes")
    assert [i.status for i in result.items if isinstance(i, ParsedStatus)] == [
        MessageStatus.DELIVERED,
        MessageStatus.READ,
        MessageStatus.SENT,
    ]


def test_each_item_source_is_a_self_contained_replayable_webhook_part() -> None:
    result = parse(raw("meta/batch.json"))
    second = result.items[1]
    part = json.loads(second.source)
    assert [c["wa_id"] for c in part["contacts"]] == ["573157654321"]
    assert part["metadata"]["phone_number_id"] == "106540352242922"
    replay = parse(
        {
            "object": "whatsapp_business_account",
            "entry": [{"changes": [{"field": "messages", "value": part}]}],
        }
    )
    (replayed,) = replay.items
    assert isinstance(replayed, ParsedMessage)
    assert replayed.message == second.message


def test_unknown_message_type_is_kept_as_unrecognized_with_its_part() -> None:
    result = parse(raw("meta/unknown_type.json"))
    assert result.items == ()
    (part,) = result.unrecognized
    assert part.reason == "entry[0].changes[0].messages[0]: unknown message type 'request_welcome'"
    assert part.channel_account_id == "106540352242922"
    assert json.loads(part.payload)["messages"][0]["type"] == "request_welcome"


def test_one_bad_message_does_not_hide_its_neighbours() -> None:
    payload = doc("meta/batch.json")
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    result = parse(payload)
    assert len(result.items) == 5
    (part,) = result.unrecognized
    assert part.reason == "entry[0].changes[0].messages[0]: message.id is missing or not a string"


def _first_message(payload: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    return message


@pytest.mark.parametrize(
    ("fixture", "breaks", "reason"),
    [
        ("meta/text.json", lambda m: m.pop("from"), "message.from is missing"),
        (
            "meta/text.json",
            lambda m: m.update(timestamp="ayer"),
            "message.timestamp is missing or not unix",
        ),
        ("meta/text.json", lambda m: m.pop("text"), "text is missing or not an object"),
        ("meta/text.json", lambda m: m.update(text={}), "text message: text.body: Field required"),
        ("meta/image.json", lambda m: m["image"].pop("id"), "media needs an id or a url"),
        ("meta/location.json", lambda m: m["location"].update(latitude=123), "latitude"),
        (
            "meta/reaction.json",
            lambda m: m["reaction"].pop("message_id"),
            "message_id: Field required",
        ),
        (
            "meta/interactive_button_reply.json",
            lambda m: m["interactive"].update(type="carousel"),
            "unknown interactive type 'carousel'",
        ),
        ("meta/order.json", lambda m: m["order"].update(product_items=[]), "product_items"),
        (
            "meta/unsupported.json",
            lambda m: m["errors"][0].pop("code"),
            "errors: 0.code: Field required",
        ),
    ],
)
def test_missing_or_invalid_required_bits_become_unrecognized_with_a_reason(
    fixture: str, breaks: Any, reason: str
) -> None:
    payload = doc(fixture)
    breaks(_first_message(payload))
    result = parse(payload)
    assert result.items == ()
    (part,) = result.unrecognized
    assert reason in part.reason


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "payload is not valid JSON"),
        (b"\xff\xfe", "payload is not valid JSON"),
        (b"[1, 2]", "payload is not a JSON object"),
        (b'{"object": "page", "entry": []}', "object is 'page'"),
        (b'{"object": "whatsapp_business_account", "entry": []}', "entry is missing, empty"),
    ],
)
def test_whole_payload_unrecognized_keeps_the_raw_bytes(payload: bytes, reason: str) -> None:
    result = parse(payload)
    assert result.items == ()
    (part,) = result.unrecognized
    assert part.reason.startswith(reason)
    assert part.payload == payload
    assert part.channel_account_id is None


def test_other_webhook_fields_and_missing_metadata_are_unrecognized() -> None:
    payload = doc("meta/text.json")
    # Template changes have their own parser now (test_business_account.py).
    other_field = {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}}
    no_metadata = copy.deepcopy(payload["entry"][0]["changes"][0])
    del no_metadata["value"]["metadata"]
    payload["entry"][0]["changes"] += [other_field, no_metadata]
    result = parse(payload)
    assert len(result.items) == 1
    assert [p.reason for p in result.unrecognized] == [
        "entry[0].changes[1]: unsupported webhook field 'account_update'",
        "entry[0].changes[2]: value.metadata is missing or not an object",
    ]


def test_account_level_errors_are_unrecognized_not_dropped() -> None:
    payload = doc("meta/status_read.json")
    value = payload["entry"][0]["changes"][0]["value"]
    del value["statuses"]
    value["errors"] = [
        {"code": 131000, "title": "Something went wrong", "message": "Something went wrong"}
    ]
    result = parse(payload)
    (part,) = result.unrecognized
    assert part.reason == "entry[0].changes[0]: account-level errors notification"
    assert part.channel_account_id == "106540352242922"
    assert json.loads(part.payload)["errors"][0]["code"] == 131000


def test_status_with_unknown_value_or_no_recipient_is_unrecognized() -> None:
    payload = doc("meta/batch.json")
    statuses = payload["entry"][0]["changes"][1]["value"]["statuses"]
    statuses[0]["status"] = "bounced"
    del statuses[1]["recipient_id"]
    result = parse(payload)
    assert len(result.items) == 4
    assert [p.reason for p in result.unrecognized] == [
        "entry[0].changes[1].statuses[0]: status.status 'bounced' is not a known status",
        "entry[0].changes[1].statuses[1]: status.recipient_id is missing",
    ]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(
    key=st.sampled_from(["id", "from", "timestamp", "type", "text", "context", "referral"]),
    value=json_values,
)
def test_parsing_never_raises_and_never_loses_a_message(key: str, value: Any) -> None:
    payload = doc("meta/text_with_referral.json")
    _first_message(payload)[key] = value
    result = parse(payload)
    assert len(result.items) + len(result.unrecognized) == 1


def test_absurdly_nested_json_is_unrecognized_not_a_crash() -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    (part,) = parse(body).unrecognized
    assert part.reason.startswith("payload is not valid JSON")
