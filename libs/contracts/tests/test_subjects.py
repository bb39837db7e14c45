from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable

import pytest

from cauce_contracts import ALL_EVENTS, subjects
from cauce_contracts.streams import STREAMS
from cauce_contracts.subjects import Channel, contact_key

SECRET = b"subject-test-secret"
KEY = contact_key("+57 300 123 4567", SECRET)

#: builder -> keyword arguments giving a valid subject
BUILDERS: dict[Callable[..., str], dict[str, object]] = {
    subjects.inbound_message_received: {"tenant_id": "acme", "channel": "whatsapp"},
    subjects.inbound_status_updated: {"tenant_id": "acme", "channel": Channel.YCLOUD},
    subjects.inbound_unrecognized: {"channel": Channel.CHATTIGO},
    subjects.crm_contact_upserted: {"tenant_id": "acme", "manychat_id": "test_contact_456"},
    subjects.crm_campaign_assigned: {"tenant_id": "acme", "manychat_id": "123"},
    subjects.crm_lead_state_changed: {"tenant_id": "acme", "manychat_id": "123"},
    subjects.payments_debt_lookup_requested: {"tenant_id": "acme", "channel": "whatsapp"},
    subjects.payments_debt_looked_up: {"tenant_id": "acme", "channel": "whatsapp"},
    subjects.payments_debt_lookup_failed: {"tenant_id": "acme", "channel": "whatsapp"},
    subjects.payments_link_requested: {"tenant_id": "acme", "channel": "whatsapp"},
    subjects.payments_link_created: {"tenant_id": "acme", "channel": "whatsapp"},
    subjects.payments_link_failed: {"tenant_id": "acme", "channel": "whatsapp"},
    subjects.payments_transaction_status_changed: {"tenant_id": "acme", "transaction_id": "40037"},
    subjects.outbound_message_requested: {"tenant_id": "acme", "channel": "chattigo"},
    subjects.outbound_message_sent: {"tenant_id": "acme", "channel": "chattigo"},
    subjects.outbound_message_failed: {"tenant_id": "acme", "channel": "chattigo"},
    subjects.outbound_status_changed: {"tenant_id": "acme", "channel": "chattigo"},
    subjects.dlq: {"stream": "INBOUND", "durable_name": "conversation-inbound"},
}


def _valid_kwargs(builder: Callable[..., str]) -> dict[str, object]:
    kwargs = dict(BUILDERS[builder])
    if "contact_key" in inspect.signature(builder).parameters:
        kwargs["contact_key"] = KEY
    return kwargs


def _event_type_of(subject: str) -> str:
    matching = [t for t in ALL_EVENTS if subjects.subject_matches(subjects.all_of(t), subject)]
    assert len(matching) == 1, (subject, matching)
    return matching[0]


def test_a_builder_for_every_event() -> None:
    built = {_event_type_of(builder(**_valid_kwargs(builder))) for builder in BUILDERS}
    assert built == set(ALL_EVENTS)


def test_examples() -> None:
    assert (
        subjects.inbound_message_received("acme", Channel.WHATSAPP, KEY)
        == f"inbound.message.received.acme.whatsapp.{KEY}"
    )
    assert subjects.inbound_unrecognized("ycloud") == "inbound.unrecognized.ycloud"
    assert subjects.dlq("CRM", "crm-sync") == "dlq.CRM.crm-sync"
    assert (
        subjects.payments_transaction_status_changed("acme", "40037")
        == "payments.transaction.status_changed.acme.40037"
    )


@pytest.mark.parametrize("builder", list(BUILDERS), ids=lambda b: b.__name__)
def test_builder_subject_is_captured_by_one_stream(builder: Callable[..., str]) -> None:
    subject = builder(**_valid_kwargs(builder))
    holders = [
        s.name for s in STREAMS if any(subjects.subject_matches(f, subject) for f in s.subjects)
    ]
    assert len(holders) == 1, holders


BAD_TOKENS = ["a.b", "*", ">", "acme>", "ac me", "", "ñandú", "a\tb", "a\nb"]


@pytest.mark.parametrize("builder", list(BUILDERS), ids=lambda b: b.__name__)
@pytest.mark.parametrize("bad", BAD_TOKENS)
def test_builder_rejects_bad_tokens(builder: Callable[..., str], bad: str) -> None:
    valid = _valid_kwargs(builder)
    for name in valid:
        with pytest.raises(ValueError):
            builder(**{**valid, name: bad})


def test_unknown_channel_rejected() -> None:
    with pytest.raises(ValueError, match="unknown channel"):
        subjects.inbound_message_received("acme", "telegram", KEY)


def test_contact_key_must_be_a_key_not_a_phone() -> None:
    with pytest.raises(ValueError, match="contact_key"):
        subjects.outbound_message_requested("acme", "whatsapp", "573001234567")


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
    assert full == subjects.outbound_message_requested("acme", "whatsapp", KEY)
    with pytest.raises(ValueError, match="unknown event type"):
        subjects.all_of("inbound.message")
    with pytest.raises(ValueError, match="no token"):
        subjects.filter_for("dlq.dead_lettered", tenant_id="acme")
    with pytest.raises(ValueError):
        subjects.filter_for("inbound.message.received", tenant_id="a.*")


def test_filters_do_not_overlap() -> None:
    # Each event's filter matches its own subjects and no other event's.
    samples = {
        _event_type_of(subject): subject
        for subject in (builder(**_valid_kwargs(builder)) for builder in BUILDERS)
    }
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
