"""Parsed items -> inbound events, subjects and dedupe keys."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cauce_contracts.envelope import stable_event_id
from cauce_contracts.inbound import (
    UNRECOGNIZED_PAYLOAD_MAX_CHARS,
    InboundMessageReceived,
    InboundPayloadUnrecognized,
    InboundStatusUpdated,
    MessageStatus,
)
from cauce_contracts.subjects import Channel, contact_key
from cauce_gateway.parsing import (
    ParseResult,
    Publication,
    UnrecognizedPart,
    build_inbound_events,
    parse_chattigo_webhook,
    parse_meta_webhook,
    parse_ycloud_webhook,
)
from cauce_gateway.parsing.events import UNKNOWN_CONTACT_KEY

from .fixture_files import FIXTURES, raw

SECRET = b"contact-key-secret-for-tests"
RECEIVED = datetime(2025, 12, 29, 18, 0, tzinfo=UTC)
TENANTS = {
    (Channel.WHATSAPP, "106540352242922"): "acme",
    (Channel.WHATSAPP, "118204771234567"): "globex",
    (Channel.CHATTIGO, "573105550100"): "acme",
    (Channel.YCLOUD, "573105550100"): "acme",
}


def tenant_for(channel: Channel, account: str) -> str | None:
    return TENANTS.get((channel, account))


def build(result: ParseResult, lookup: object = tenant_for) -> list[Publication]:
    return build_inbound_events(
        result.all_items(),
        tenant_for=lookup,  # type: ignore[arg-type]
        contact_key_secret=SECRET,
        correlation_id="req-7",
        received_at=RECEIVED,
    )


def parse_fixture(path: Path) -> ParseResult:
    provider = path.parent.name
    if provider == "meta":
        return parse_meta_webhook(path.read_bytes(), channel=Channel.WHATSAPP)
    if provider == "chattigo":
        return parse_chattigo_webhook(
            path.read_bytes(), account_did="573105550100", received_at=RECEIVED
        )
    return parse_ycloud_webhook(path.read_bytes())


ALL_FIXTURES = sorted(FIXTURES.rglob("*.json"))


def test_message_event_subject_and_dedupe_key() -> None:
    result = parse_meta_webhook(raw("meta/text.json"), channel=Channel.WHATSAPP)
    (pub,) = build(result)
    event = pub.event
    assert isinstance(event, InboundMessageReceived)
    wamid = result.items[0].provider_message_id
    key = contact_key("573001234567", SECRET)
    assert pub.msg_id == f"whatsapp:msg:{wamid}"
    assert pub.subject == f"inbound.message.received.acme.whatsapp.{key}"
    assert "573001234567" not in pub.subject
    assert event.event_id == stable_event_id(pub.msg_id)
    assert event.tenant_id == "acme"
    assert event.correlation_id == "req-7"
    assert event.contact_key == key
    assert event.contact.address == "573001234567"
    assert event.provider_message_id == wamid
    assert event.occurred_at == event.sent_at == datetime.fromtimestamp(1767030562, UTC)


def test_status_events_dedupe_per_status() -> None:
    result = parse_meta_webhook(raw("meta/batch.json"), channel=Channel.WHATSAPP)
    pubs = build(result)
    statuses = [p for p in pubs if isinstance(p.event, InboundStatusUpdated)]
    assert [p.msg_id.rsplit(":", 1)[1] for p in statuses] == ["delivered", "read", "sent"]
    first = statuses[0]
    assert first.msg_id == f"whatsapp:status:{first.event.provider_message_id}:delivered"  # type: ignore[attr-defined]
    assert first.subject == (
        f"inbound.status.updated.acme.whatsapp.{contact_key('573001234567', SECRET)}"
    )
    assert statuses[2].subject.startswith("inbound.status.updated.globex.whatsapp.")


def test_same_message_with_a_new_status_gets_a_new_key() -> None:
    sent = build(parse_meta_webhook(raw("meta/status_sent.json"), channel=Channel.WHATSAPP))[0]
    read = build(parse_meta_webhook(raw("meta/status_read.json"), channel=Channel.WHATSAPP))[0]
    assert sent.event.provider_message_id == read.event.provider_message_id  # type: ignore[attr-defined]
    assert sent.msg_id != read.msg_id
    assert sent.event.event_id != read.event.event_id


def test_batch_gives_one_publication_per_item_in_order() -> None:
    pubs = build(parse_meta_webhook(raw("meta/batch.json"), channel=Channel.WHATSAPP))
    assert [type(p.event).__name__ for p in pubs] == [
        "InboundMessageReceived",
        "InboundMessageReceived",
        "InboundStatusUpdated",
        "InboundStatusUpdated",
        "InboundMessageReceived",
        "InboundStatusUpdated",
    ]
    assert [p.event.tenant_id for p in pubs] == ["acme"] * 4 + ["globex"] * 2
    assert len({p.msg_id for p in pubs}) == 6


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_redelivery_builds_identical_publications(path: Path) -> None:
    first = build(parse_fixture(path))
    again = build(parse_fixture(path))
    assert first == again
    assert first, "every fixture yields at least one publication"


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_event_round_trips_through_json(path: Path) -> None:
    for pub in build(parse_fixture(path)):
        event_type = type(pub.event)
        assert event_type.model_validate_json(pub.event.model_dump_json()) == pub.event
        assert pub.subject.startswith(pub.event.event_type + ".")


def test_unknown_account_becomes_unrecognized_never_dropped() -> None:
    result = parse_meta_webhook(raw("meta/batch.json"), channel=Channel.WHATSAPP)
    pubs = build(result, lambda channel, account: "acme" if account == "106540352242922" else None)
    assert len(pubs) == 6
    lost = pubs[4:]
    for pub, item in zip(lost, result.items[4:], strict=True):
        event = pub.event
        assert isinstance(event, InboundPayloadUnrecognized)
        assert pub.subject == "inbound.unrecognized.whatsapp"
        assert event.reason == "unknown channel account"
        assert event.tenant_id == "unassigned"
        assert event.channel_account_id == "118204771234567"
        assert event.payload == item.source.decode()
        assert pub.msg_id == f"whatsapp:unrecognized:{hashlib.sha256(item.source).hexdigest()}"
        assert event.event_id == stable_event_id(pub.msg_id)
    # The part is a webhook value that parses back to the same item once the account is known.
    replay_value = json.loads(lost[0].event.payload)  # type: ignore[attr-defined]
    replay = parse_meta_webhook(
        {
            "object": "whatsapp_business_account",
            "entry": [{"changes": [{"field": "messages", "value": replay_value}]}],
        },
        channel=Channel.WHATSAPP,
    )
    assert replay.items[0].provider_message_id == result.items[4].provider_message_id


def test_unrecognized_part_of_a_known_account_keeps_its_tenant() -> None:
    pubs = build(parse_meta_webhook(raw("meta/unknown_type.json"), channel=Channel.WHATSAPP))
    (pub,) = pubs
    event = pub.event
    assert isinstance(event, InboundPayloadUnrecognized)
    assert event.tenant_id == "acme"
    assert event.reason.endswith("unknown message type 'request_welcome'")
    assert event.occurred_at == RECEIVED
    assert event.payload_sha256 == pub.msg_id.rsplit(":", 1)[1]


def test_unparseable_body_is_published_verbatim_and_hashed() -> None:
    body = b'{"object": "whatsapp_business_account", "entry": [' + b"\xff" * 3
    (pub,) = build(parse_meta_webhook(body, channel=Channel.WHATSAPP))
    event = pub.event
    assert isinstance(event, InboundPayloadUnrecognized)
    assert event.tenant_id == "unassigned"
    assert event.channel_account_id is None
    assert event.payload.startswith('{"object": "whatsapp_business_account"')
    assert event.payload_sha256 == hashlib.sha256(body).hexdigest()
    assert pub.msg_id == f"whatsapp:unrecognized:{event.payload_sha256}"


def test_oversized_unrecognized_payload_is_truncated_but_hashed_whole() -> None:
    body = b"x" * (UNRECOGNIZED_PAYLOAD_MAX_CHARS + 10)
    part = UnrecognizedPart(Channel.YCLOUD, "payload is not valid JSON", body)
    (pub,) = build(ParseResult(unrecognized=(part,)))
    event = pub.event
    assert isinstance(event, InboundPayloadUnrecognized)
    assert event.payload_truncated is True
    assert len(event.payload) == UNRECOGNIZED_PAYLOAD_MAX_CHARS
    assert event.payload_sha256 == hashlib.sha256(body).hexdigest()


def test_chattigo_status_without_recipient_goes_to_the_unknown_contact_key() -> None:
    result = parse_chattigo_webhook(raw("chattigo/status_bare.json"), account_did="573105550100")
    (pub,) = build(result)
    event = pub.event
    assert isinstance(event, InboundStatusUpdated)
    assert event.status is MessageStatus.DELIVERED
    assert event.contact_key is None
    assert pub.subject == f"inbound.status.updated.acme.chattigo.{UNKNOWN_CONTACT_KEY}"
