from __future__ import annotations

import itertools

import pytest

from cauce_contracts import ALL_EVENTS, subjects
from cauce_contracts.streams import STREAMS
from cauce_contracts.subjects import Channel, contact_key

SECRET = b"subject-test-secret"
KEY = contact_key("+57 300 123 4567", SECRET)

#: event type -> the tokens of a valid subject of it
TOKENS: dict[str, dict[str, str]] = {
    subjects.INBOUND_MESSAGE_RECEIVED: {"tenant_id": "acme", "channel": "whatsapp"},
    subjects.INBOUND_STATUS_UPDATED: {"tenant_id": "acme", "channel": Channel.YCLOUD},
    subjects.INBOUND_UNRECOGNIZED: {"channel": Channel.CHATTIGO},
    subjects.CRM_CONTACT_UPSERTED: {"tenant_id": "acme", "manychat_id": "test_contact_456"},
    subjects.CRM_CAMPAIGN_ASSIGNED: {"tenant_id": "acme", "manychat_id": "123"},
    subjects.CRM_LEAD_STATE_CHANGED: {"tenant_id": "acme", "manychat_id": "123"},
    subjects.CRM_ODOO_RECORD_CHANGED: {"tenant_id": "acme"},
    subjects.PAYMENTS_DEBT_LOOKUP_REQUESTED: {"tenant_id": "acme", "channel": "whatsapp"},
    subjects.PAYMENTS_DEBT_LOOKED_UP: {"tenant_id": "acme", "channel": "whatsapp"},
    subjects.PAYMENTS_DEBT_LOOKUP_FAILED: {"tenant_id": "acme", "channel": "whatsapp"},
    subjects.PAYMENTS_LINK_REQUESTED: {"tenant_id": "acme", "channel": "whatsapp"},
    subjects.PAYMENTS_LINK_CREATED: {"tenant_id": "acme", "channel": "whatsapp"},
    subjects.PAYMENTS_LINK_FAILED: {"tenant_id": "acme", "channel": "whatsapp"},
    subjects.PAYMENTS_TRANSACTION_STATUS_CHANGED: {"tenant_id": "acme", "transaction_id": "40037"},
    subjects.OUTBOUND_MESSAGE_REQUESTED: {"tenant_id": "acme", "channel": "chattigo"},
    subjects.OUTBOUND_MESSAGE_SENT: {"tenant_id": "acme", "channel": "chattigo"},
    subjects.OUTBOUND_MESSAGE_FAILED: {"tenant_id": "acme", "channel": "chattigo"},
    subjects.OUTBOUND_STATUS_CHANGED: {"tenant_id": "acme", "channel": "chattigo"},
    subjects.OUTBOUND_CAMPAIGN_MESSAGE_REQUESTED: {"tenant_id": "acme", "channel": "whatsapp"},
    subjects.DLQ_DEAD_LETTERED: {"stream": "INBOUND", "durable_name": "conversation-inbound"},
    **{
        event_type: {"tenant_id": "acme", "channel": "whatsapp", "business_account_id": "1020"}
        for event_type in (
            subjects.INBOUND_TEMPLATE_STATUS_CHANGED,
            subjects.INBOUND_TEMPLATE_QUALITY_CHANGED,
            subjects.INBOUND_TEMPLATE_CATEGORY_CHANGED,
            subjects.INBOUND_TEMPLATE_COMPONENTS_CHANGED,
        )
    },
    subjects.INBOUND_MESSAGING_LIMIT_CHANGED: {
        "tenant_id": "acme",
        "channel": "whatsapp",
        "account_id": "b-77",
    },
    subjects.INBOUND_MARKETING_PREFERENCE_CHANGED: {"tenant_id": "acme", "channel": "whatsapp"},
    subjects.INBOX_CHAT_CHANGED: {
        "tenant_id": "acme",
        "chat_id": "77b029bf-2c34-58b3-ba35-f631505887db",
    },
    subjects.INBOUND_MEDIA_STORED: {"tenant_id": "acme", "channel": "whatsapp"},
    subjects.INBOUND_MEDIA_REFUSED: {"tenant_id": "acme", "channel": "ycloud"},
}


def _valid_tokens(event_type: str) -> dict[str, str]:
    tokens = dict(TOKENS[event_type])
    if "contact_key" in subjects.pattern_params(subjects.subject_pattern(event_type)):
        tokens["contact_key"] = KEY
    return tokens


def _event_type_of(subject: str) -> str:
    matching = [t for t in ALL_EVENTS if subjects.subject_matches(subjects.all_of(t), subject)]
    assert len(matching) == 1, (subject, matching)
    return matching[0]


def test_a_subject_for_every_event() -> None:
    built = {_event_type_of(subjects.subject(t, **_valid_tokens(t))) for t in TOKENS}
    assert built == set(ALL_EVENTS)


def test_examples() -> None:
    assert (
        subjects.subject(
            subjects.INBOUND_MESSAGE_RECEIVED,
            tenant_id="acme",
            channel=Channel.WHATSAPP,
            contact_key=KEY,
        )
        == f"inbound.message.received.acme.whatsapp.{KEY}"
    )
    assert (
        subjects.subject(subjects.INBOUND_UNRECOGNIZED, channel="ycloud")
        == "inbound.unrecognized.ycloud"
    )
    assert subjects.dlq("CRM", "crm-sync") == "dlq.CRM.crm-sync"
    # the gateway's builders are the generic subject() under a name
    assert subjects.inbound_message_received("acme", "whatsapp", KEY) == subjects.subject(
        subjects.INBOUND_MESSAGE_RECEIVED, tenant_id="acme", channel="whatsapp", contact_key=KEY
    )
    assert subjects.inbound_status_updated("acme", "ycloud", KEY) == subjects.subject(
        subjects.INBOUND_STATUS_UPDATED, tenant_id="acme", channel="ycloud", contact_key=KEY
    )
    assert subjects.inbound_unrecognized("sci") == "inbound.unrecognized.sci"
    assert (
        subjects.subject(
            subjects.PAYMENTS_TRANSACTION_STATUS_CHANGED, tenant_id="acme", transaction_id="40037"
        )
        == "payments.transaction.status_changed.acme.40037"
    )


@pytest.mark.parametrize("event_type", list(TOKENS))
def test_each_subject_is_captured_by_one_stream(event_type: str) -> None:
    subject = subjects.subject(event_type, **_valid_tokens(event_type))
    holders = [
        s.name for s in STREAMS if any(subjects.subject_matches(f, subject) for f in s.subjects)
    ]
    assert len(holders) == 1, holders


BAD_TOKENS = ["a.b", "*", ">", "acme>", "ac me", "", "ñandú", "a\tb", "a\nb"]


@pytest.mark.parametrize("event_type", list(TOKENS))
@pytest.mark.parametrize("bad", BAD_TOKENS)
def test_bad_tokens_are_refused(event_type: str, bad: str) -> None:
    valid = _valid_tokens(event_type)
    for name in valid:
        with pytest.raises(ValueError):
            subjects.subject(event_type, **{**valid, name: bad})


def test_unknown_channel_rejected() -> None:
    with pytest.raises(ValueError, match="unknown channel"):
        subjects.subject(
            subjects.INBOUND_MESSAGE_RECEIVED, tenant_id="acme", channel="telegram", contact_key=KEY
        )


def test_contact_key_must_be_a_key_not_a_phone() -> None:
    with pytest.raises(ValueError, match="contact_key"):
        subjects.subject(
            subjects.OUTBOUND_MESSAGE_REQUESTED,
            tenant_id="acme",
            channel="whatsapp",
            contact_key="573001234567",
        )


def test_contact_key_is_stable_and_digit_only() -> None:
    key = contact_key("+57 300 123 4567", SECRET)
    assert key == contact_key("573001234567", SECRET)
    assert key == contact_key("(57) 300-123-4567", SECRET)
    assert len(key) == 24
    assert all(c in "0123456789abcdef" for c in key)
    assert subjects.is_token(key)


def test_contact_key_hides_the_number() -> None:
    number = "573001234567"
    key = contact_key(number, SECRET)
    assert number not in key
    assert "3001234567" not in key
    assert "1234567" not in key
    assert key != contact_key(number, b"another-secret")
    assert key != contact_key("573001234568", SECRET)


def test_contact_key_rejects_empty_input() -> None:
    with pytest.raises(ValueError):
        contact_key("no digits here", SECRET)
    with pytest.raises(ValueError):
        contact_key("573001234567", b"")


def test_all_of_and_filters() -> None:
    assert subjects.all_of("inbound.message.received") == "inbound.message.received.>"
    assert subjects.all_of("dlq.dead_lettered") == "dlq.>"
    assert (
        subjects.filter_for("inbound.message.received", tenant_id="acme")
        == "inbound.message.received.acme.>"
    )
    assert (
        subjects.filter_for("outbound.message.requested", channel="chattigo")
        == "outbound.message.requested.*.chattigo.>"
    )
    full = subjects.filter_for(
        "outbound.message.requested", tenant_id="acme", channel="whatsapp", contact_key=KEY
    )
    assert full == subjects.subject(
        subjects.OUTBOUND_MESSAGE_REQUESTED, tenant_id="acme", channel="whatsapp", contact_key=KEY
    )
    with pytest.raises(ValueError, match="unknown event type"):
        subjects.all_of("inbound.message")
    with pytest.raises(ValueError, match="no token"):
        subjects.filter_for("dlq.dead_lettered", tenant_id="acme")
    with pytest.raises(ValueError):
        subjects.filter_for("inbound.message.received", tenant_id="a.*")


def test_filters_do_not_overlap() -> None:
    # Each event's filter matches its own subjects and no other event's.
    samples = {t: subjects.subject(t, **_valid_tokens(t)) for t in TOKENS}
    for filtered, sampled in itertools.product(ALL_EVENTS, samples):
        matches = subjects.subject_matches(subjects.all_of(filtered), samples[sampled])
        assert matches == (filtered == sampled), (filtered, sampled)


@pytest.mark.parametrize(
    ("filter_subject", "subject", "expected"),
    [
        ("a.>", "a.b.c", True),
        ("a.>", "a", False),
        ("a.*.c", "a.b.c", True),
        ("a.*.c", "a.b.d", False),
        ("a.*", "a.b.c", False),
        ("a.b", "a.b", True),
    ],
)
def test_subject_matches(filter_subject: str, subject: str, expected: bool) -> None:
    assert subjects.subject_matches(filter_subject, subject) is expected
