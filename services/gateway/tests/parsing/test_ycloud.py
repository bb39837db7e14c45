"""YCloud v2 webhook events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cauce_contracts.inbound import (
    ImageMessage,
    InboundContact,
    MediaRef,
    MessageContext,
    MessageStatus,
    ReportedError,
    StatusConversation,
    StatusPricing,
    TextMessage,
)
from cauce_contracts.subjects import Channel
from cauce_gateway.parsing import ParsedMessage, ParsedStatus, parse_ycloud_webhook

from .fixture_files import doc, raw

CONTACT = InboundContact(address="573001234567", profile_name="Camila Rodríguez")


def only(name: str) -> ParsedMessage | ParsedStatus:
    result = parse_ycloud_webhook(raw(name))
    assert result.unrecognized == ()
    (item,) = result.items
    assert item.channel is Channel.YCLOUD
    assert item.channel_account_id == "573105550100"
    return item


def test_inbound_text() -> None:
    item = only("ycloud/inbound_text.json")
    assert isinstance(item, ParsedMessage)
    assert item.message == TextMessage(body="Buenos días, ¿cuánto debo?")
    assert item.contact == CONTACT
    assert (
        item.provider_message_id
        == doc("ycloud/inbound_text.json")["whatsappInboundMessage"]["wamid"]
    )
    assert item.sent_at == datetime(2025, 12, 29, 17, 49, 22, tzinfo=UTC)


def test_inbound_image_keeps_the_download_link_and_reply_context() -> None:
    item = only("ycloud/inbound_image.json")
    assert isinstance(item, ParsedMessage)
    assert item.message == ImageMessage(
        media=MediaRef(
            id="1209831427790345",
            url="https://api.ycloud.com/v2/whatsapp/media/download/1209831427790345",
            mime_type="image/jpeg",
            sha256="Jd6mV0pQ2sR8tW1yX4zA7bC3eF9gH5iK2lM6nO0pQ1r=",
            caption="Comprobante",
        ),
        context=MessageContext(
            message_id="wamid.GAw1NzMwMDEyMzQ1NjcVAgASGBRIQkVCMkExRjhDNkU1NUQxNEEwNwA=",
            sender="573105550100",
        ),
    )


def test_delivered_update_is_dated_by_deliver_time() -> None:
    item = only("ycloud/status_delivered.json")
    assert isinstance(item, ParsedStatus)
    assert item.status is MessageStatus.DELIVERED
    assert item.recipient == "573001234567"
    assert item.timestamp == datetime(2025, 12, 29, 17, 51, 9, 800000, tzinfo=UTC)
    assert item.conversation == StatusConversation(
        id="9f1c2b3a4d5e6f708192a3b4c5d6e7f8",
        origin_type="service",
        expires_at=datetime(2025, 12, 30, 17, 51, 5, tzinfo=UTC),
    )
    assert item.pricing == StatusPricing(category="service", pricing_model="PMP")
    assert item.biz_opaque_callback_data == "conv-42:turn-7"


def test_failed_update_keeps_the_whatsapp_api_error() -> None:
    item = only("ycloud/status_failed.json")
    assert isinstance(item, ParsedStatus)
    assert item.status is MessageStatus.FAILED
    assert item.timestamp == datetime(2025, 12, 29, 17, 52, 39, 950000, tzinfo=UTC)
    assert item.errors == (
        ReportedError(
            code=131026,
            title="OAuthException",
            message="Message undeliverable",
            details="Message Undeliverable.",
        ),
    )


def test_ycloud_own_error_code_is_kept_as_title() -> None:
    payload = doc("ycloud/status_failed.json")
    del payload["whatsappMessage"]["whatsappApiError"]
    payload["whatsappMessage"]["errorCode"] = "INSUFFICIENT_BALANCE"
    (item,) = parse_ycloud_webhook(payload).items
    assert isinstance(item, ParsedStatus)
    assert item.errors == (
        ReportedError(code=0, title="INSUFFICIENT_BALANCE", message="Message undeliverable"),
    )


def test_accepted_status_without_wamid_uses_the_ycloud_id() -> None:
    payload = doc("ycloud/status_failed.json")
    message = payload["whatsappMessage"]
    message.update(status="accepted")
    del message["wamid"]
    (item,) = parse_ycloud_webhook(payload).items
    assert isinstance(item, ParsedStatus)
    assert item.status is MessageStatus.ACCEPTED
    assert item.provider_message_id == "6952bfd8d4a9e77c2c1f0a71"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d.update(type="whatsapp.template.reviewed"), "unsupported YCloud event type"),
        (lambda d: d.pop("whatsappInboundMessage"), "whatsappInboundMessage is missing"),
        (lambda d: d["whatsappInboundMessage"].update(type="poll"), "unknown message type 'poll'"),
        (
            lambda d: d["whatsappInboundMessage"].update(sendTime="29/12/2025"),
            "sendTime is not an RFC 3339",
        ),
        (
            lambda d: d["whatsappInboundMessage"].update(sendTime="2025-12-29T17:49:22"),
            "has no UTC offset",
        ),
        (
            lambda d: d["whatsappInboundMessage"].pop("from"),
            "whatsappInboundMessage.from is missing",
        ),
    ],
)
def test_problems_become_unrecognized_with_a_reason(mutate: object, reason: str) -> None:
    payload = doc("ycloud/inbound_text.json")
    mutate(payload)  # type: ignore[operator]
    result = parse_ycloud_webhook(payload)
    assert result.items == ()
    (part,) = result.unrecognized
    assert reason in part.reason
