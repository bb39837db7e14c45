"""Meta's WhatsApp Business Account webhooks beyond messages -> typed account changes.

Seven ``field`` s of an ``object: whatsapp_business_account`` delivery become the
contracts of :mod:`cauce_contracts.business_account`:

* ``message_template_status_update`` -> ``TemplateStatusChanged`` (Meta's ``event`` as
  the status; ``reason``; ``other_info``, ``rejection_info`` and ``disable_info`` folded
  into ``detail``);
* ``message_template_quality_update`` -> ``TemplateQualityChanged``;
* ``template_category_update`` -> ``TemplateCategoryChanged``; Meta's notice of an
  impending recategorisation (``correct_category``, with ``new_category`` the current
  one) is published as the change, ahead of time;
* ``message_template_components_update`` -> ``TemplateComponentsChanged``;
* ``phone_number_quality_update`` -> ``MessagingLimitChanged(scope="phone_number")``,
  keyed by the phone_number_id when Meta gives one, else by the WABA that reported it
  (Meta's payload names the number only by its display number);
* ``business_capability_update`` -> ``MessagingLimitChanged(scope="business")`` keyed
  by the WABA;
* ``user_preferences`` -> one ``MarketingPreferenceChanged`` per entry of
  ``value.user_preferences``, the account being ``metadata.phone_number_id``.

Template, limit and capability changes are dated by ``entry[].time`` (none: the receive
time). Each change, or a preference of one, that cannot become its event is an
:class:`~cauce_gateway.parsing.items.UnrecognizedPart` with the reason; its payload is
a one-change delivery (the entry's ``id`` and ``time`` kept), so it replays through
:func:`~cauce_gateway.parsing.meta.parse_meta_webhook` once fixed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from cauce_contracts.business_account import (
    MarketingPreferenceChanged,
    MessagingLimitChanged,
    TemplateCategoryChanged,
    TemplateComponentsChanged,
    TemplateQualityChanged,
    TemplateRef,
    TemplateStatusChanged,
)
from cauce_contracts.envelope import Event
from cauce_contracts.inbound import InboundContact
from cauce_contracts.subjects import Channel
from cauce_gateway.parsing.items import (
    ParsedAccountChange,
    PartRejected,
    UnrecognizedPart,
    as_object,
    canonical_json,
    required_text,
)
from cauce_gateway.parsing.whatsapp_message import address_of, describe, unix_time

WHATSAPP_OBJECT = "whatsapp_business_account"

Json = Mapping[str, Any]

#: Meta's messaging-limit tiers and the unique customers per moving 24 h each allows
#: (None: unlimited). TIER_50 and TIER_1K are older per-number tiers Meta still names.
TIER_LIMITS: Mapping[str, int | None] = {
    "TIER_50": 50,
    "TIER_250": 250,
    "TIER_1K": 1000,
    "TIER_2K": 2000,
    "TIER_10K": 10000,
    "TIER_100K": 100000,
    "TIER_UNLIMITED": None,
}
_TIER_OF_LIMIT = {limit: tier for tier, limit in TIER_LIMITS.items() if limit is not None}
#: ``business_capability_update`` says unlimited with -1.
_UNLIMITED = -1

_META_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
#: ``TemplateStatusChanged.detail`` and the other texts are bounded by the contract.
_DETAIL_MAX_CHARS = 4096
#: A stand-in envelope: a change is checked against its contract when parsed (so a bad
#: one is unrecognized with the reason), before its tenant and contact key are known.
_STAND_IN: Mapping[str, Any] = {
    "tenant_id": "unassigned",
    "correlation_id": "parsing",
    "changed_at": datetime(1970, 1, 1, tzinfo=UTC),
    "contact_key": "0" * 24,
}


class _Change:
    """One change of one entry: where it is, its WABA and time, its value."""

    def __init__(self, channel: Channel, where: str, entry: Json, change: Json) -> None:
        self.channel = channel
        self.where = where
        self.entry = entry
        self.change = change
        self.field: str = change["field"]
        self.business_account_id: str | None = None
        self.time: datetime | None = None

    @property
    def waba(self) -> str:
        if self.business_account_id is None:
            raise PartRejected("entry.id is missing or not a string")
        return self.business_account_id

    def number(self) -> str | None:
        """The business number's phone_number_id, when the change names one."""
        value = self.change.get("value")
        if not isinstance(value, Mapping):
            return None
        metadata = value.get("metadata")
        for number in (
            value.get("phone_number_id"),
            metadata.get("phone_number_id") if isinstance(metadata, Mapping) else None,
        ):
            if isinstance(number, str) and number:
                return number
        return None

    def document(self, change: Json | None = None) -> bytes:
        """A delivery of just this change (or of ``change``, a part of it): replayable."""
        head = {k: self.entry[k] for k in ("id", "time") if k in self.entry}
        entry = {**head, "changes": [self.change if change is None else change]}
        return canonical_json({"object": WHATSAPP_OBJECT, "entry": [entry]})

    def rejected(
        self, reason: str, *, where: str | None = None, part: bytes | None = None
    ) -> UnrecognizedPart:
        return UnrecognizedPart(
            self.channel,
            f"{where or self.where}: {reason}",
            self.document() if part is None else part,
            self.number(),
            business_account_id=self.business_account_id,
        )

    def stamp(self, moment: datetime | None = None) -> str:
        """Meta's time in a dedupe key (``-`` when it gave none)."""
        moment = moment or self.time
        return "-" if moment is None else str(int(moment.timestamp()))

    def event(
        self,
        event_type: type[Event],
        fields: dict[str, Any],
        identity: tuple[str, ...],
        *,
        phone_number_id: str | None = None,
        changed_at: datetime | None = None,
        contact_address: str | None = None,
        source: bytes | None = None,
    ) -> ParsedAccountChange:
        check(event_type, fields)
        return ParsedAccountChange(
            channel=self.channel,
            event_type=event_type,
            fields=fields,
            business_account_id=self.waba,
            phone_number_id=phone_number_id,
            changed_at=changed_at or self.time,
            identity=(self.field, *identity),
            source=self.document() if source is None else source,
            contact_address=contact_address,
        )


def check(event_type: type[Event], fields: Mapping[str, Any]) -> None:
    """:class:`PartRejected` unless ``fields`` make a valid ``event_type``."""
    stand_in = {k: v for k, v in _STAND_IN.items() if k in event_type.model_fields}
    try:
        event_type.model_validate({**stand_in, **fields})
    except ValidationError as exc:
        raise PartRejected(f"{event_type.EVENT_TYPE}: {describe(exc)}") from exc


# --- shared pieces ------------------------------------------------------------------


def _optional_text(value: Json, key: str) -> str | None:
    raw = value.get(key)
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise PartRejected(f"value.{key} is not a string")
    return raw


def _name(value: Json, key: str) -> str:
    """One of Meta's upper-case names (``APPROVED``, ``GREEN``, ``MARKETING``), checked
    against the contract with the rest of the event."""
    raw = _optional_text(value, key)
    if raw is None:
        raise PartRejected(f"value.{key} is missing or not a string")
    return raw


def _id(value: Json, key: str) -> str | None:
    """An optional Graph id, given as a number or a string."""
    raw = value.get(key)
    if isinstance(raw, bool) or not isinstance(raw, int | str | None):
        raise PartRejected(f"value.{key} is not a number or a string")
    return str(raw) if raw not in (None, "") else None


def _template(value: Json) -> tuple[TemplateRef, str]:
    """Which template, and how a dedupe key names it (its id, else name and language)."""
    template_id = _id(value, "message_template_id")
    name = required_text(value, "message_template_name", "value")
    language = required_text(value, "message_template_language", "value")
    try:
        ref = TemplateRef(template_id=template_id, name=name, language=language)
    except ValidationError as exc:
        raise PartRejected(f"template: {describe(exc)}") from exc
    return ref, template_id or f"{name}:{language}"


def _template_fields(change: _Change, ref: TemplateRef) -> dict[str, Any]:
    return {
        "channel": change.channel,
        "business_account_id": change.waba,
        "template": ref,
    }


def _info(value: Json, key: str, first: str, second: str, joint: str) -> list[str]:
    """``first`` and ``second`` of the ``key`` object, in one text (none: nothing)."""
    raw = value.get(key)
    if raw is None:
        return []
    info = as_object(raw, f"value.{key}")
    texts = [info[p] for p in (first, second) if isinstance(info.get(p), str) and info[p]]
    return [joint.join(texts)] if texts else []


def _status_detail(value: Json, reason_text: str | None) -> str | None:
    """Meta's explanations in one text: why it was paused or locked (``other_info``),
    rejected (``rejection_info``) or disabled (``disable_info``)."""
    details = [
        *_info(value, "other_info", "title", "description", ": "),
        *_info(value, "rejection_info", "reason", "recommendation", " Recommendation: "),
        *_info(value, "disable_info", "title", "description", ": "),
    ]
    disable_info = value.get("disable_info")
    if isinstance(disable_info, Mapping) and disable_info.get("disable_date") is not None:
        disabled = unix_time(disable_info["disable_date"], "value.disable_info.disable_date")
        details.append(f"disabled on {disabled.isoformat()}")
    if reason_text is not None:
        details.append(reason_text)
    return "; ".join(details)[:_DETAIL_MAX_CHARS] or None


# --- templates --------------------------------------------------------------------


def _template_status(change: _Change, value: Json) -> Iterator[ParsedAccountChange]:
    ref, template_key = _template(value)
    status = _name(value, "event")
    reason = _optional_text(value, "reason")
    # ``reason`` is one of Meta's names; a text (should Meta send one) is kept as detail
    # rather than losing the status change with it.
    reason_text = None if reason is None or _META_NAME.match(reason) else reason
    fields = {
        **_template_fields(change, ref),
        "status": status,
        "reason": None if reason_text is not None else reason,
        "detail": _status_detail(value, reason_text),
    }
    yield change.event(
        TemplateStatusChanged, fields, (change.waba, template_key, status, change.stamp())
    )


def _template_quality(change: _Change, value: Json) -> Iterator[ParsedAccountChange]:
    ref, template_key = _template(value)
    quality = _name(value, "new_quality_score")
    fields = {
        **_template_fields(change, ref),
        "previous_quality": _optional_text(value, "previous_quality_score"),
        "quality": quality,
    }
    yield change.event(
        TemplateQualityChanged, fields, (change.waba, template_key, quality, change.stamp())
    )


def _template_category(change: _Change, value: Json) -> Iterator[ParsedAccountChange]:
    ref, template_key = _template(value)
    # An impending change names the coming category ``correct_category`` and the current
    # one ``new_category``; a completed one ``new_category`` and ``previous_category``.
    coming = _optional_text(value, "correct_category")
    if coming is not None:
        category = coming
        previous = _optional_text(value, "new_category")
    else:
        category = _name(value, "new_category")
        previous = _optional_text(value, "previous_category")
    fields = {
        **_template_fields(change, ref),
        "previous_category": previous,
        "category": category,
    }
    yield change.event(
        TemplateCategoryChanged, fields, (change.waba, template_key, category, change.stamp())
    )


def _template_components(change: _Change, value: Json) -> Iterator[ParsedAccountChange]:
    ref, template_key = _template(value)
    buttons = value.get("message_template_buttons")
    if buttons is not None and not isinstance(buttons, list):
        raise PartRejected("value.message_template_buttons is not an array")
    button_texts: list[str] = []
    for b, raw in enumerate(buttons or ()):
        button = as_object(raw, f"value.message_template_buttons[{b}]")
        text = button.get("message_template_button_text")
        if not isinstance(text, str):
            raise PartRejected(
                f"value.message_template_buttons[{b}].message_template_button_text "
                "is missing or not a string"
            )
        button_texts.append(text)
    texts = {
        "header_text": _optional_text(value, "message_template_title"),
        "body_text": _optional_text(value, "message_template_element"),
        "footer_text": _optional_text(value, "message_template_footer"),
        "button_texts": tuple(button_texts),
    }
    digest = hashlib.sha256(canonical_json(texts)).hexdigest()[:32]
    fields = {**_template_fields(change, ref), **texts}
    yield change.event(
        TemplateComponentsChanged, fields, (change.waba, template_key, digest, change.stamp())
    )


# --- messaging limits -------------------------------------------------------------


def _limit(raw: Any, what: str) -> tuple[str | None, int | None]:
    """(tier name, unique customers; None: unlimited) from a tier name or a number."""
    if isinstance(raw, str) and raw in TIER_LIMITS:
        return raw, TIER_LIMITS[raw]
    if isinstance(raw, str) and re.fullmatch(r"-?[0-9]{1,12}", raw):
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw == _UNLIMITED:
            return "TIER_UNLIMITED", None
        if raw >= 0:
            return _TIER_OF_LIMIT.get(raw), raw
    raise PartRejected(f"{what} {raw!r} names no messaging limit")


def _first_present(value: Json, *keys: str) -> tuple[str, Any]:
    for key in keys:
        if value.get(key) is not None:
            return key, value[key]
    raise PartRejected(f"value carries no messaging limit ({' or '.join(keys)})")


def _phone_number_quality(change: _Change, value: Json) -> Iterator[ParsedAccountChange]:
    # ``max_daily_conversations_per_business`` is the portfolio's limit; ``current_limit``
    # (going away) may be a throughput level, so it only stands in when the other is absent.
    key, raw = _first_present(value, "max_daily_conversations_per_business", "current_limit")
    tier, limit = _limit(raw, f"value.{key}")
    phone_number_id = _id(value, "phone_number_id") or change.number()
    display = value.get("display_phone_number")
    number = address_of(display, "value.display_phone_number") if display is not None else "-"
    account_id = phone_number_id or change.waba
    event = _optional_text(value, "event")
    fields = {
        "channel": change.channel,
        "scope": "phone_number",
        "account_id": account_id,
        "tier": tier,
        "limit": limit,
        "quality_event": event,
    }
    yield change.event(
        MessagingLimitChanged,
        fields,
        (account_id, number, tier or str(limit), event or "-", change.stamp()),
        phone_number_id=phone_number_id,
    )


def _business_capability(change: _Change, value: Json) -> Iterator[ParsedAccountChange]:
    # ``max_daily_conversation_per_phone`` is the same portfolio limit's older name.
    key, raw = _first_present(
        value, "max_daily_conversations_per_business", "max_daily_conversation_per_phone"
    )
    tier, limit = _limit(raw, f"value.{key}")
    fields = {
        "channel": change.channel,
        "scope": "business",
        "account_id": change.waba,
        "tier": tier,
        "limit": limit,
    }
    yield change.event(
        MessagingLimitChanged, fields, (change.waba, tier or str(limit), change.stamp())
    )


# --- marketing preferences ----------------------------------------------------------


def _profile_names(contacts: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    for contact in contacts if isinstance(contacts, list) else ():
        if isinstance(contact, Mapping) and isinstance(contact.get("wa_id"), str):
            profile = contact.get("profile")
            name = profile.get("name") if isinstance(profile, Mapping) else None
            if isinstance(name, str) and name:
                names[contact["wa_id"]] = name
    return names


def _user_preferences(
    change: _Change, value: Json
) -> Iterator[ParsedAccountChange | UnrecognizedPart]:
    metadata = as_object(value.get("metadata"), "value.metadata")
    phone_number_id = required_text(metadata, "phone_number_id", "metadata")
    preferences = value.get("user_preferences")
    if not isinstance(preferences, list) or not preferences:
        raise PartRejected("value.user_preferences is missing, empty or not an array")
    all_contacts = value.get("contacts")
    contacts = all_contacts if isinstance(all_contacts, list) else []
    names = _profile_names(contacts)
    wrapper = {k: value[k] for k in ("messaging_product", "metadata") if k in value}
    for p, raw in enumerate(preferences):
        customer = raw.get("wa_id") if isinstance(raw, Mapping) else None
        theirs = [c for c in contacts if isinstance(c, Mapping) and c.get("wa_id") == customer]
        part = change.document(
            {
                "field": change.field,
                "value": {**wrapper, "contacts": theirs, "user_preferences": [raw]},
            }
        )
        try:
            yield _preference(change, raw, phone_number_id, names, part)
        except PartRejected as exc:
            yield change.rejected(
                str(exc), where=f"{change.where}.user_preferences[{p}]", part=part
            )


def _preference(
    change: _Change, raw: Any, phone_number_id: str, names: Mapping[str, str], source: bytes
) -> ParsedAccountChange:
    preference = as_object(raw, "user_preference")
    wa_id = required_text(preference, "wa_id", "user_preference")
    try:
        contact = InboundContact(
            address=address_of(wa_id, "user_preference.wa_id"), profile_name=names.get(wa_id)
        )
    except ValidationError as exc:
        raise PartRejected(f"user_preference.wa_id: {describe(exc)}") from exc
    choice = preference.get("value")
    if choice not in ("stop", "resume"):
        raise PartRejected(f"user_preference.value {choice!r} is neither 'stop' nor 'resume'")
    timestamp = preference.get("timestamp")
    changed_at = (
        unix_time(timestamp, "user_preference.timestamp") if timestamp is not None else None
    )
    detail = preference.get("detail")
    if detail is not None and not isinstance(detail, str):
        raise PartRejected("user_preference.detail is not a string")
    fields = {
        "channel": change.channel,
        "channel_account_id": phone_number_id,
        "contact": contact,
        "preference": choice,
        "category": required_text(preference, "category", "user_preference"),
        "detail": detail or None,
    }
    return change.event(
        MarketingPreferenceChanged,
        fields,
        (phone_number_id, choice, change.stamp(changed_at)),
        phone_number_id=phone_number_id,
        changed_at=changed_at,
        contact_address=contact.address,
        source=source,
    )


_ChangeParser = Callable[[_Change, Json], Iterator[ParsedAccountChange | UnrecognizedPart]]

#: Meta's ``field`` -> how its change is read.
ACCOUNT_FIELDS: Mapping[str, _ChangeParser] = {
    "message_template_status_update": _template_status,
    "message_template_quality_update": _template_quality,
    "template_category_update": _template_category,
    "message_template_components_update": _template_components,
    "phone_number_quality_update": _phone_number_quality,
    "business_capability_update": _business_capability,
    "user_preferences": _user_preferences,
}


def parse_account_change(
    channel: Channel, where: str, entry: Json, change: Json
) -> Iterator[ParsedAccountChange | UnrecognizedPart]:
    """The event(s) of one change whose ``field`` is in :data:`ACCOUNT_FIELDS`, or the
    change (or the part of it) that cannot become one, with the reason."""
    account = _Change(channel, where, entry, change)
    try:
        account.business_account_id = required_text(entry, "id", "entry")
        if entry.get("time") is not None:
            account.time = unix_time(entry["time"], "entry.time")
        value = change.get("value")
        if not isinstance(value, Mapping):
            raise PartRejected("value is missing or not an object")
        # Parsed whole before anything is yielded: a change that fails halfway yields
        # only its rejection (a preference fails alone, inside the parser).
        outcomes = list(ACCOUNT_FIELDS[account.field](account, value))
    except PartRejected as exc:
        yield account.rejected(str(exc))
        return
    yield from outcomes
