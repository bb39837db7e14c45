"""Chattigo: forwarded Meta format (account = DID) and the legacy ISV format."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cauce_contracts.inbound import (
    DocumentMessage,
    ImageMessage,
    InboundContact,
    MediaRef,
    MessageStatus,
    TextMessage,
)
from cauce_contracts.subjects import Channel
from cauce_gateway.parsing import ParsedMessage, ParsedStatus, parse_chattigo_webhook

from .fixture_files import doc, raw

DID = "573105550100"
RECEIVED = datetime(2025, 12, 29, 18, 0, tzinfo=UTC)
CONTACT = InboundContact(address="573001234567", profile_name="Camila Rodríguez")


def only_message(payload: bytes | dict[str, object], **kwargs: object) -> ParsedMessage:
    result = parse_chattigo_webhook(payload, received_at=RECEIVED, **kwargs)  # type: ignore[arg-type]
    assert result.unrecognized == ()
    (item,) = result.items
    assert isinstance(item, ParsedMessage)
    assert item.channel is Channel.CHATTIGO
    return item


def test_forwarded_meta_format_is_keyed_by_the_did() -> None:
    item = only_message(raw("chattigo/meta_text.json"))
    assert item.message == TextMessage(body="Hola")
    assert item.channel_account_id == DID
    assert item.phone_number_id == "734053143122597"
    assert item.contact == CONTACT
    assert item.sent_at == datetime.fromtimestamp(1767030562, UTC)


def test_bare_status_notice_uses_the_did_of_the_url_token() -> None:
    result = parse_chattigo_webhook(raw("chattigo/status_bare.json"), account_did=DID)
    assert result.unrecognized == ()
    (item,) = result.items
    assert isinstance(item, ParsedStatus)
    assert item.status is MessageStatus.DELIVERED
    assert item.channel_account_id == DID
    assert item.recipient is None
    assert item.timestamp == datetime.fromtimestamp(1767030600, UTC)


def test_bare_status_without_any_known_did_is_unrecognized() -> None:
    result = parse_chattigo_webhook(raw("chattigo/status_bare.json"))
    assert result.items == ()
    (part,) = result.unrecognized
    assert "no metadata.display_phone_number and no account DID known" in part.reason


def test_legacy_text() -> None:
    item = only_message(raw("chattigo/legacy_text.json"))
    assert item.message == TextMessage(body="Hola, necesito ayuda con mi placa")
    assert item.provider_message_id == "1767030562123"
    assert item.channel_account_id == DID
    assert item.contact == CONTACT
    assert item.sent_at == RECEIVED


def test_legacy_image_maps_to_an_image_with_its_url_and_caption() -> None:
    item = only_message(raw("chattigo/legacy_image.json"))
    assert item.message == ImageMessage(
        media=MediaRef(
            url="https://chattigo-media.s3.amazonaws.com/inbound/5f2c/recibo.jpg",
            mime_type="image/jpeg",
            caption="Foto del recibo",
        )
    )


def test_legacy_document_keeps_its_file_name() -> None:
    item = only_message(raw("chattigo/legacy_document.json"))
    assert item.message == DocumentMessage(
        media=MediaRef(
            url="https://chattigo-media.s3.amazonaws.com/inbound/5f2d/tarjeta.pdf",
            mime_type="application/pdf",
        ),
        filename="tarjeta_propiedad.pdf",
    )


def test_legacy_audio_by_mime_type() -> None:
    payload = doc("chattigo/legacy_image.json")
    payload["attachment"] = {
        "mediaUrl": "https://cdn.example.com/nota.ogg",
        "mimeType": "audio/ogg",
    }
    assert only_message(payload).message.type == "audio"


def test_legacy_message_problems_are_unrecognized_with_the_raw_payload() -> None:
    cases = {
        "location": ("type", "location", "unknown legacy message type 'location'"),
        "no id": ("id", None, "legacy message.id is missing"),
        "instagram": ("channel", "INSTAGRAM", "channel 'INSTAGRAM' is not WHATSAPP"),
        "no msisdn digits": ("msisdn", "anon", "msisdn has no digits"),
        # found by the signed fuzz suite: a 500 (unhashable type) before the fix
        "type an object": ("type", {"$gt": ""}, "unknown legacy message type {'$gt': ''}"),
        "type a list": ("type", ["image"], "unknown legacy message type ['image']"),
    }
    for key, value, reason in cases.values():
        payload = doc("chattigo/legacy_text.json")
        payload[key] = value
        body = json.dumps(payload).encode()
        result = parse_chattigo_webhook(body)
        assert result.items == ()
        (part,) = result.unrecognized
        assert reason in part.reason
        assert part.payload == body
        assert part.channel_account_id == DID


def test_media_with_a_mime_type_that_is_no_string_is_unrecognized() -> None:
    """Found by the signed fuzz suite: a 500 (bool has no ``split``) before the fix."""
    payload = doc("chattigo/legacy_document.json")
    payload["attachment"]["mimeType"] = True
    (part,) = parse_chattigo_webhook(payload).unrecognized
    assert "attachment.mimeType is not a string" in part.reason


def test_media_without_attachment_is_unrecognized() -> None:
    payload = doc("chattigo/legacy_image.json")
    del payload["attachment"]
    (part,) = parse_chattigo_webhook(payload).unrecognized
    assert "attachment is missing" in part.reason


def test_something_else_entirely_is_unrecognized() -> None:
    result = parse_chattigo_webhook(b'{"event": "ping"}', account_did=DID)
    (part,) = result.unrecognized
    assert part.reason == "neither a Meta-format nor a legacy ISV payload"
    assert part.channel_account_id == DID
