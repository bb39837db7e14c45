"""Meta's WhatsApp Business Account webhooks (templates, messaging limits, marketing
preferences) -> typed account changes, and the events they become."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cauce_contracts.business_account import (
    MarketingPreferenceChanged,
    MessagingLimitChanged,
    TemplateCategoryChanged,
    TemplateComponentsChanged,
    TemplateQualityChanged,
    TemplateRef,
    TemplateStatusChanged,
)
from cauce_contracts.envelope import stable_event_id
from cauce_contracts.inbound import InboundContact, InboundPayloadUnrecognized
from cauce_contracts.registry import subject_of
from cauce_contracts.subjects import Channel, contact_key
from cauce_gateway.parsing import (
    ParsedAccountChange,
    ParseResult,
    Publication,
    build_inbound_events,
    parse_chattigo_webhook,
    parse_meta_webhook,
)
from cauce_gateway.parsing.business_account import TIER_LIMITS

from .fixture_files import doc

WABA = "102290129340398"
NUMBER = "106540352242922"
ENTRY_TIME = datetime.fromtimestamp(1739321024, UTC)
RECEIVED = datetime(2026, 2, 12, 9, 30, tzinfo=UTC)
SECRET = b"contact-key-secret-for-tests"
ORDER_CONFIRMATION = TemplateRef(
    template_id="1689556908129832", name="order_confirmation", language="en-US"
)


def parse(payload: bytes | dict[str, Any]) -> ParseResult:
    return parse_meta_webhook(payload, channel=Channel.WHATSAPP)


def only_change(payload: dict[str, Any]) -> ParsedAccountChange:
    result = parse(payload)
    assert result.unrecognized == ()
    (item,) = result.items
    assert isinstance(item, ParsedAccountChange)
    return item


def value_of(payload: dict[str, Any], change: int = 0) -> dict[str, Any]:
    value: dict[str, Any] = payload["entry"][0]["changes"][change]["value"]
    return value


def build(
    result: ParseResult,
    *,
    numbers: dict[str, str] | None = None,
    wabas: dict[str, str] | None = None,
) -> list[Publication]:
    known_numbers = {NUMBER: "acme"} if numbers is None else numbers
    known_wabas = {WABA: "acme"} if wabas is None else wabas
    return build_inbound_events(
        result.all_items(),
        tenant_for=lambda channel, account: known_numbers.get(account),
        business_tenant_for=lambda channel, waba: known_wabas.get(waba),
        contact_key_secret=SECRET,
        correlation_id="req-9",
        received_at=RECEIVED,
    )


def only_event(payload: dict[str, Any]) -> Publication:
    (pub,) = build(parse(payload))
    return pub


# --- Meta's documented examples -----------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "status", "reason", "detail"),
    [
        ("template_status_approved", "APPROVED", "NONE", None),
        (
            "template_status_paused",
            "PAUSED",
            "NONE",
            "FIRST_PAUSE: Your WhatsApp message template has been paused for 3 hours "
            "because of low quality.",
        ),
        (
            "template_status_rejected",
            "REJECTED",
            "INVALID_FORMAT",
            "Variables can't be at the start or end of the template. Recommendation: Add "
            "text before the first variable and after the last one.",
        ),
        ("template_status_disabled", "DISABLED", "NONE", "disabled on 2025-06-29T22:02:43+00:00"),
        ("template_status_pending_deletion", "PENDING_DELETION", None, None),
    ],
)
def test_template_status_update(
    fixture: str, status: str, reason: str | None, detail: str | None
) -> None:
    item = only_change(doc(f"meta/{fixture}.json"))
    assert item.event_type is TemplateStatusChanged
    assert item.business_account_id == WABA
    assert item.phone_number_id is None
    assert item.changed_at == ENTRY_TIME
    assert item.fields == {
        "channel": Channel.WHATSAPP,
        "business_account_id": WABA,
        "template": ORDER_CONFIRMATION,
        "status": status,
        "reason": reason,
        "detail": detail,
    }
    assert item.identity == (
        "message_template_status_update",
        WABA,
        "1689556908129832",
        status,
        "1739321024",
    )


def test_template_quality_update() -> None:
    item = only_change(doc("meta/template_quality.json"))
    assert item.event_type is TemplateQualityChanged
    assert item.fields["template"] == ORDER_CONFIRMATION
    assert (item.fields["previous_quality"], item.fields["quality"]) == ("GREEN", "YELLOW")
    assert item.identity[-2:] == ("YELLOW", "1739321024")


def test_template_category_update_completed() -> None:
    item = only_change(doc("meta/template_category.json"))
    assert item.event_type is TemplateCategoryChanged
    assert item.fields["template"] == TemplateRef(
        template_id="278077987957091", name="welcome_template", language="en-US"
    )
    assert (item.fields["previous_category"], item.fields["category"]) == (
        "UTILITY",
        "MARKETING",
    )
    assert item.changed_at == ENTRY_TIME


def test_impending_recategorisation_is_published_as_the_change() -> None:
    # Meta names the coming category ``correct_category``; ``new_category`` is the
    # current one. Campaigns treat the template as what it is about to become.
    item = only_change(doc("meta/template_category_impending.json"))
    assert item.event_type is TemplateCategoryChanged
    assert (item.fields["previous_category"], item.fields["category"]) == (
        "UTILITY",
        "MARKETING",
    )
    assert item.changed_at == ENTRY_TIME


def test_template_components_update() -> None:
    item = only_change(doc("meta/template_components.json"))
    assert item.event_type is TemplateComponentsChanged
    assert item.fields["template"] == TemplateRef(
        template_id="1315502779341834", name="order_confirmation", language="en_US"
    )
    assert item.fields["header_text"] == "Your order is confirmed!"
    assert item.fields["body_text"].startswith("Thank you for your order, {{1}}!")
    assert item.fields["footer_text"] == "Lucky Shrub: the Succulent Specialists!"
    assert item.fields["button_texts"] == ("Email support", "Call support")


def test_components_without_optional_parts() -> None:
    payload = doc("meta/template_components.json")
    value = value_of(payload)
    for key in ("message_template_title", "message_template_footer", "message_template_buttons"):
        del value[key]
    item = only_change(payload)
    assert (item.fields["header_text"], item.fields["footer_text"]) == (None, None)
    assert item.fields["button_texts"] == ()


def test_edited_components_are_another_change() -> None:
    before = only_change(doc("meta/template_components.json"))
    payload = doc("meta/template_components.json")
    value_of(payload)["message_template_footer"] = "Lucky Shrub"
    after = only_change(payload)
    assert before.identity != after.identity
    assert before.identity[:3] == after.identity[:3]


def test_phone_number_quality_update_reads_the_portfolio_limit() -> None:
    # Meta's example: ``current_limit`` is a throughput level (TIER_UNLIMITED), the
    # messaging limit is ``max_daily_conversations_per_business``.
    item = only_change(doc("meta/phone_number_quality.json"))
    assert item.event_type is MessagingLimitChanged
    assert item.fields == {
        "channel": Channel.WHATSAPP,
        "scope": "phone_number",
        "account_id": WABA,  # Meta names the number by its display number only
        "tier": "TIER_2K",
        "limit": 2000,
        "quality_event": "THROUGHPUT_UPGRADE",
    }
    assert item.phone_number_id is None
    assert item.identity == (
        "phone_number_quality_update",
        WABA,
        "15550783881",
        "TIER_2K",
        "THROUGHPUT_UPGRADE",
        "1739321024",
    )


def test_older_phone_number_quality_update_reads_current_limit() -> None:
    item = only_change(doc("meta/phone_number_quality_legacy.json"))
    assert (item.fields["tier"], item.fields["limit"]) == ("TIER_250", 250)
    assert item.fields["quality_event"] == "DOWNGRADE"


def test_phone_number_quality_update_naming_the_number_is_keyed_by_it() -> None:
    payload = doc("meta/phone_number_quality.json")
    value_of(payload)["phone_number_id"] = NUMBER
    item = only_change(payload)
    assert item.fields["account_id"] == NUMBER
    assert item.phone_number_id == NUMBER


def test_business_capability_update() -> None:
    item = only_change(doc("meta/business_capability.json"))
    assert item.event_type is MessagingLimitChanged
    assert item.fields == {
        "channel": Channel.WHATSAPP,
        "scope": "business",
        "account_id": WABA,
        "tier": "TIER_2K",
        "limit": 2000,
    }
    assert item.identity == ("business_capability_update", WABA, "TIER_2K", "1739321024")


@pytest.mark.parametrize(
    ("given", "tier", "limit"),
    [
        *((name, name, limit) for name, limit in TIER_LIMITS.items()),
        (250, "TIER_250", 250),
        (10000, "TIER_10K", 10000),
        (100000, "TIER_100K", 100000),
        (-1, "TIER_UNLIMITED", None),
        ("2000", "TIER_2K", 2000),
        ("-1", "TIER_UNLIMITED", None),
        (5000, None, 5000),
    ],
)
def test_messaging_limit_as_a_tier_name_or_a_number(
    given: str | int, tier: str | None, limit: int | None
) -> None:
    payload = doc("meta/business_capability.json")
    value_of(payload)["max_daily_conversations_per_business"] = given
    item = only_change(payload)
    assert (item.fields["tier"], item.fields["limit"]) == (tier, limit)


def test_old_tiers_map_to_their_limits() -> None:
    assert TIER_LIMITS["TIER_50"] == 50
    assert TIER_LIMITS["TIER_1K"] == 1000
    assert TIER_LIMITS["TIER_UNLIMITED"] is None


def test_capability_without_the_portfolio_field_falls_back_to_the_older_name() -> None:
    payload = doc("meta/business_capability.json")
    value = value_of(payload)
    del value["max_daily_conversations_per_business"]
    value["max_daily_conversation_per_phone"] = 10000
    assert only_change(payload).fields["limit"] == 10000


def test_user_preferences() -> None:
    item = only_change(doc("meta/user_preferences.json"))
    assert item.event_type is MarketingPreferenceChanged
    assert item.phone_number_id == NUMBER
    assert item.contact_address == "16505551234"
    assert item.changed_at == datetime.fromtimestamp(1731705721, UTC)
    assert item.fields == {
        "channel": Channel.WHATSAPP,
        "channel_account_id": NUMBER,
        "contact": InboundContact(address="16505551234"),
        "preference": "resume",
        "category": "marketing_messages",
        "detail": "User requested to resume marketing messages",
    }
    assert item.identity == ("user_preferences", NUMBER, "resume", "1731705721")


def test_each_preference_is_its_own_change_with_its_own_part() -> None:
    payload = doc("meta/user_preferences.json")
    value = value_of(payload)
    value["contacts"].append({"profile": {"name": "Sheena Nelson"}, "wa_id": "16505550000"})
    value["user_preferences"].append(
        {**value["user_preferences"][0], "wa_id": "16505550000", "value": "stop"}
    )
    value["user_preferences"].append({**value["user_preferences"][0], "value": "maybe"})
    result = parse(payload)
    first, second = result.items
    assert isinstance(first, ParsedAccountChange) and isinstance(second, ParsedAccountChange)
    assert second.fields["contact"] == InboundContact(
        address="16505550000", profile_name="Sheena Nelson"
    )
    assert second.fields["preference"] == "stop"
    part = json.loads(second.source)["entry"][0]["changes"][0]["value"]
    assert [p["wa_id"] for p in part["user_preferences"]] == ["16505550000"]
    assert [c["wa_id"] for c in part["contacts"]] == ["16505550000"]
    (bad,) = result.unrecognized
    assert bad.reason == (
        "entry[0].changes[0].user_preferences[2]: "
        "user_preference.value 'maybe' is neither 'stop' nor 'resume'"
    )
    assert bad.channel_account_id == NUMBER
    assert json.loads(bad.payload)["entry"][0]["changes"][0]["value"]["user_preferences"] == [
        value["user_preferences"][2]
    ]


def test_a_delivery_may_mix_messages_and_account_changes() -> None:
    payload = doc("meta/text.json")
    for fixture in ("template_status_paused", "user_preferences", "business_capability"):
        payload["entry"] += doc(f"meta/{fixture}.json")["entry"]
    payload["entry"][1]["changes"].append({"field": "account_update", "value": {}})
    result = parse(payload)
    assert [type(item).__name__ for item in result.items] == [
        "ParsedMessage",
        "ParsedAccountChange",
        "ParsedAccountChange",
        "ParsedAccountChange",
    ]
    assert [item.event_type for item in result.items[1:]] == [  # type: ignore[union-attr]
        TemplateStatusChanged,
        MarketingPreferenceChanged,
        MessagingLimitChanged,
    ]
    (other,) = result.unrecognized
    assert other.reason == "entry[1].changes[1]: unsupported webhook field 'account_update'"


def test_without_entry_time_the_change_has_none_and_a_dash_in_its_key() -> None:
    payload = doc("meta/template_status_paused.json")
    del payload["entry"][0]["time"]
    item = only_change(payload)
    assert item.changed_at is None
    assert item.identity[-1] == "-"


def test_chattigo_forwards_no_account_changes() -> None:
    result = parse_chattigo_webhook(doc("meta/template_status_paused.json"), account_did="57310")
    assert result.items == ()
    (part,) = result.unrecognized
    assert part.reason == (
        "entry[0].changes[0]: unsupported webhook field 'message_template_status_update'"
    )


# --- malformed changes: unrecognized, with the reason -------------------------------


def _set(key: str, value: Any) -> Any:
    return lambda v: v.update({key: value})


def _drop(key: str) -> Any:
    return lambda v: v.pop(key)


@pytest.mark.parametrize(
    ("fixture", "breaks", "reason"),
    [
        (
            "template_status_paused",
            _drop("message_template_name"),
            "value.message_template_name is missing or not a string",
        ),
        (
            "template_status_paused",
            _drop("message_template_language"),
            "value.message_template_language is missing or not a string",
        ),
        (
            "template_status_paused",
            _set("message_template_id", {"id": 1}),
            "value.message_template_id is not a number or a string",
        ),
        ("template_status_paused", _drop("event"), "value.event is missing or not a string"),
        (
            "template_status_paused",
            _set("event", "paused"),
            "inbound.template.status_changed: status: String should match pattern",
        ),
        (
            "template_status_paused",
            _set("other_info", "paused"),
            "value.other_info is missing or not an object",
        ),
        (
            "template_status_disabled",
            _set("disable_info", {"disable_date": "soon"}),
            "value.disable_info.disable_date is missing or not unix seconds",
        ),
        (
            "template_quality",
            _drop("new_quality_score"),
            "value.new_quality_score is missing or not a string",
        ),
        (
            "template_category",
            _drop("new_category"),
            "value.new_category is missing or not a string",
        ),
        (
            "template_components",
            _set("message_template_buttons", {"text": "x"}),
            "value.message_template_buttons is not an array",
        ),
        (
            "template_components",
            _set("message_template_buttons", [{"message_template_button_type": "URL"}]),
            "value.message_template_buttons[0].message_template_button_text is missing",
        ),
        (
            "template_components",
            _set("message_template_element", 42),
            "value.message_template_element is not a string",
        ),
        (
            "phone_number_quality",
            _set("max_daily_conversations_per_business", "TIER_NOT_SET"),
            "value.max_daily_conversations_per_business 'TIER_NOT_SET' names no messaging limit",
        ),
        (
            "phone_number_quality_legacy",
            _drop("current_limit"),
            "value carries no messaging limit "
            "(max_daily_conversations_per_business or current_limit)",
        ),
        (
            "phone_number_quality",
            _set("display_phone_number", "n/a"),
            "value.display_phone_number has no digits",
        ),
        (
            "business_capability",
            _set("max_daily_conversations_per_business", -5),
            "value.max_daily_conversations_per_business -5 names no messaging limit",
        ),
        (
            "business_capability",
            lambda v: [v.pop(k) for k in list(v) if k.startswith("max_daily")],
            "value carries no messaging limit",
        ),
        (
            "user_preferences",
            _drop("metadata"),
            "value.metadata is missing or not an object",
        ),
        (
            "user_preferences",
            _set("user_preferences", []),
            "value.user_preferences is missing, empty or not an array",
        ),
    ],
)
def test_a_malformed_change_is_unrecognized_with_the_reason(
    fixture: str, breaks: Any, reason: str
) -> None:
    payload = doc(f"meta/{fixture}.json")
    breaks(value_of(payload))
    result = parse(payload)
    assert result.items == ()
    (part,) = result.unrecognized
    assert part.reason.startswith("entry[0].changes[0]: ")
    assert reason in part.reason
    assert part.business_account_id == WABA
    assert json.loads(part.payload) == payload  # a one-change delivery: replayable as is


@pytest.mark.parametrize(
    ("breaks", "reason"),
    [
        (lambda entry: entry.pop("id"), "entry.id is missing or not a string"),
        (lambda entry: entry.update(time="yesterday"), "entry.time is missing or not unix"),
        (
            lambda entry: entry["changes"][0].update(value=[]),
            "value is missing or not an object",
        ),
    ],
)
def test_a_malformed_entry_is_unrecognized_with_the_reason(breaks: Any, reason: str) -> None:
    payload = doc("meta/template_status_paused.json")
    breaks(payload["entry"][0])
    (part,) = parse(payload).unrecognized
    assert reason in part.reason


def test_the_malformed_template_change_that_was_unsupported_before() -> None:
    payload = doc("meta/text.json")
    payload["entry"][0]["changes"].append(
        {"field": "message_template_status_update", "value": {"event": "APPROVED"}}
    )
    result = parse(payload)
    assert len(result.items) == 1
    (part,) = result.unrecognized
    assert part.reason == (
        "entry[0].changes[1]: value.message_template_name is missing or not a string"
    )


def test_a_reason_that_is_not_one_of_metas_names_is_kept_as_detail() -> None:
    payload = doc("meta/template_status_paused.json")
    value_of(payload)["reason"] = "Low quality"
    item = only_change(payload)
    assert item.fields["reason"] is None
    assert item.fields["detail"].endswith("; Low quality")


def test_an_overlong_detail_is_cut_to_the_contract() -> None:
    payload = doc("meta/template_status_paused.json")
    value_of(payload)["other_info"]["description"] = "x" * 5000
    assert len(only_change(payload).fields["detail"]) == 4096


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
FIXTURE_KEYS = [
    ("template_status_rejected", "event"),
    ("template_status_rejected", "reason"),
    ("template_status_rejected", "rejection_info"),
    ("template_status_disabled", "disable_info"),
    ("template_quality", "previous_quality_score"),
    ("template_category_impending", "correct_category"),
    ("template_components", "message_template_buttons"),
    ("template_components", "message_template_id"),
    ("phone_number_quality", "max_daily_conversations_per_business"),
    ("phone_number_quality", "display_phone_number"),
    ("business_capability", "max_daily_conversations_per_business"),
    ("user_preferences", "user_preferences"),
    ("user_preferences", "contacts"),
    ("user_preferences", "metadata"),
]


@settings(max_examples=200, deadline=None)
@given(where=st.sampled_from(FIXTURE_KEYS), value=json_values)
def test_parsing_never_raises_and_never_loses_a_change(where: tuple[str, str], value: Any) -> None:
    fixture, key = where
    payload = doc(f"meta/{fixture}.json")
    value_of(payload)[key] = value
    result = parse(payload)
    assert len(result.items) + len(result.unrecognized) >= 1
    build(result)  # and whatever was parsed makes valid events


# --- the events -----------------------------------------------------------------------


def test_template_event_reaches_the_wabas_tenant() -> None:
    pub = only_event(doc("meta/template_status_paused.json"))
    event = pub.event
    assert isinstance(event, TemplateStatusChanged)
    assert pub.msg_id == (
        f"whatsapp:message_template_status_update:{WABA}:1689556908129832:PAUSED:1739321024"
    )
    assert event.event_id == stable_event_id(pub.msg_id)
    assert pub.subject == f"inbound.template.status_changed.acme.whatsapp.{WABA}"
    assert pub.subject == subject_of(event)
    assert event.tenant_id == "acme"
    assert event.correlation_id == "req-9"
    assert event.business_account_id == WABA
    assert event.template == ORDER_CONFIRMATION
    assert (event.status, event.reason) == ("PAUSED", "NONE")
    assert event.detail is not None and event.detail.startswith("FIRST_PAUSE: ")
    assert event.changed_at == event.occurred_at == ENTRY_TIME


def test_change_without_meta_time_is_dated_on_receipt() -> None:
    payload = doc("meta/template_quality.json")
    del payload["entry"][0]["time"]
    pub = only_event(payload)
    assert isinstance(pub.event, TemplateQualityChanged)
    assert pub.event.changed_at == pub.event.occurred_at == RECEIVED
    assert pub.msg_id.endswith(":YELLOW:-")


def test_a_template_without_an_id_is_keyed_by_name_and_language() -> None:
    payload = doc("meta/template_quality.json")
    del value_of(payload)["message_template_id"]
    pub = only_event(payload)
    assert pub.msg_id == (
        f"whatsapp:message_template_quality_update:{WABA}:order_confirmation:en-US:"
        "YELLOW:1739321024"
    )
    assert pub.event.template.template_id is None  # type: ignore[attr-defined]


def test_limit_events_are_keyed_by_the_account_that_reported_them() -> None:
    business = only_event(doc("meta/business_capability.json"))
    number = only_event(doc("meta/phone_number_quality.json"))
    assert business.subject == f"inbound.account.messaging_limit_changed.acme.whatsapp.{WABA}"
    assert number.subject == business.subject
    assert business.msg_id != number.msg_id
    named = doc("meta/phone_number_quality.json")
    value_of(named)["phone_number_id"] = NUMBER
    by_number = only_event(named)
    assert by_number.subject == f"inbound.account.messaging_limit_changed.acme.whatsapp.{NUMBER}"
    assert isinstance(by_number.event, MessagingLimitChanged)
    assert (by_number.event.scope, by_number.event.account_id) == ("phone_number", NUMBER)


def test_a_limit_naming_its_number_takes_the_numbers_tenant() -> None:
    named = doc("meta/phone_number_quality.json")
    value_of(named)["phone_number_id"] = NUMBER
    (pub,) = build(parse(named), numbers={NUMBER: "globex"}, wabas={})
    assert pub.event.tenant_id == "globex"


def test_preference_event_is_keyed_by_the_contact_key_never_the_number() -> None:
    pub = only_event(doc("meta/user_preferences.json"))
    event = pub.event
    assert isinstance(event, MarketingPreferenceChanged)
    key = contact_key("16505551234", SECRET)
    assert event.contact_key == key
    assert event.tenant_id == "acme"
    assert event.channel_account_id == NUMBER
    assert pub.subject == f"inbound.contact.marketing_preference_changed.acme.whatsapp.{key}"
    assert pub.msg_id == f"whatsapp:user_preferences:{NUMBER}:resume:1731705721:{key}"
    assert "16505551234" not in pub.subject + pub.msg_id
    assert event.changed_at == datetime.fromtimestamp(1731705721, UTC)


def test_preference_tenant_is_the_numbers_not_the_wabas() -> None:
    (pub,) = build(parse(doc("meta/user_preferences.json")), numbers={}, wabas={WABA: "acme"})
    assert isinstance(pub.event, InboundPayloadUnrecognized)
    assert pub.event.channel_account_id == NUMBER


def test_unknown_waba_goes_to_the_unassigned_tenant_as_an_unknown_number_does() -> None:
    payload = doc("meta/template_status_paused.json")
    (pub,) = build(parse(payload), wabas={})
    event = pub.event
    assert isinstance(event, InboundPayloadUnrecognized)
    assert pub.subject == "inbound.unrecognized.whatsapp"
    assert event.reason == "unknown channel account"
    assert event.tenant_id == "unassigned"
    assert event.channel_account_id == WABA
    # Once the WABA is configured, the kept part replays into the same event.
    replayed = only_event(json.loads(event.payload))
    assert replayed == only_event(payload)


def test_a_malformed_change_of_a_known_waba_keeps_its_tenant() -> None:
    payload = doc("meta/template_quality.json")
    del value_of(payload)["new_quality_score"]
    (pub,) = build(parse(payload))
    assert isinstance(pub.event, InboundPayloadUnrecognized)
    assert pub.event.tenant_id == "acme"
    assert pub.event.channel_account_id == WABA


@pytest.mark.parametrize(
    "fixture",
    [
        "template_status_paused",
        "template_quality",
        "template_category",
        "template_components",
        "phone_number_quality",
        "business_capability",
        "user_preferences",
    ],
)
def test_a_redelivered_change_is_the_same_event_and_a_later_one_is_not(fixture: str) -> None:
    payload = doc(f"meta/{fixture}.json")
    first = only_event(payload)
    assert only_event(copy.deepcopy(payload)) == first
    later = copy.deepcopy(payload)
    if "time" in later["entry"][0]:
        later["entry"][0]["time"] += 60
    else:
        value_of(later)["user_preferences"][0]["timestamp"] += 60
    assert only_event(later).msg_id != first.msg_id
