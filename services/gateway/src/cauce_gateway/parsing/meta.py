"""Meta WhatsApp Cloud API webhooks: ``object=whatsapp_business_account`` -> entries ->
changes (``field: "messages"``) -> value with ``metadata``, ``contacts``, ``messages``,
``statuses`` and ``errors``; changes of the account's other fields (templates, messaging
limits, marketing preferences) are read by
:mod:`~cauce_gateway.parsing.business_account`.

One delivery may batch several entries, changes, messages and statuses: each becomes
its own item, in payload order. Whatever cannot become an item (an unknown message
type, a missing id, another webhook field, account-level errors) is returned as an
:class:`~cauce_gateway.parsing.items.UnrecognizedPart` with the reason. Parsing never
raises on provider input.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from cauce_contracts.inbound import (
    InboundContact,
    MessageStatus,
    StatusConversation,
    StatusPricing,
)
from cauce_contracts.subjects import Channel
from cauce_gateway.parsing.business_account import (
    ACCOUNT_FIELDS,
    WHATSAPP_OBJECT,
    parse_account_change,
)
from cauce_gateway.parsing.items import (
    MetaParseResult,
    ParsedAccountChange,
    ParsedMessage,
    ParsedStatus,
    ParseResult,
    PartRejected,
    UnrecognizedPart,
    as_object,
    canonical_json,
    required_text,
)
from cauce_gateway.parsing.whatsapp_message import (
    address_of,
    describe,
    message_body,
    provider_errors,
    unix_time,
)

__all__ = [
    "WHATSAPP_OBJECT",
    "AccountResolver",
    "ChannelAccount",
    "load_json",
    "message_status",
    "meta_account",
    "parse_meta_webhook",
    "parse_whatsapp_document",
    "raw_bytes",
]

Json = Mapping[str, Any]


def load_json(payload: bytes | Json, channel: Channel) -> Json | UnrecognizedPart:
    """The payload as a JSON object, or the whole payload as unrecognized."""
    if isinstance(payload, Mapping):
        return payload
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return UnrecognizedPart(channel, f"payload is not valid JSON: {exc}", payload)
    if not isinstance(doc, dict):
        return UnrecognizedPart(channel, "payload is not a JSON object", payload)
    return doc


def raw_bytes(payload: bytes | Json) -> bytes:
    return payload if isinstance(payload, bytes) else canonical_json(payload)


@dataclass(frozen=True)
class ChannelAccount:
    """How one ``value`` maps to a channel account."""

    channel: Channel
    account_id: str
    phone_number_id: str | None
    display_phone_number: str | None


#: Given a value's ``metadata`` (maybe absent), the account it belongs to.
AccountResolver = Callable[[Json | None], ChannelAccount]


def meta_account(channel: Channel) -> AccountResolver:
    """Meta direct: the account is ``metadata.phone_number_id`` (required)."""

    def resolve(metadata: Json | None) -> ChannelAccount:
        if metadata is None:
            raise PartRejected("value.metadata is missing or not an object")
        phone_number_id = required_text(metadata, "phone_number_id", "metadata")
        display = metadata.get("display_phone_number")
        return ChannelAccount(
            channel, phone_number_id, phone_number_id, display if isinstance(display, str) else None
        )

    return resolve


def parse_meta_webhook(payload: bytes | Json, *, channel: Channel) -> MetaParseResult:
    """Parse one Meta-format webhook delivery (raw body bytes or decoded JSON): messages,
    statuses and the business account's changes."""
    return parse_whatsapp_document(
        payload, channel=channel, account=meta_account(channel), account_changes=True
    )


def parse_whatsapp_document(
    payload: bytes | Json,
    *,
    channel: Channel,
    account: AccountResolver,
    field_optional: bool = False,
    account_changes: bool = False,
) -> ParseResult:
    """The Meta-format walk, with the account rule (and leniency) of the channel;
    ``account_changes``: read the fields of :data:`ACCOUNT_FIELDS` too (else they are
    unrecognized, as any other field)."""
    doc = load_json(payload, channel)
    if isinstance(doc, UnrecognizedPart):
        return ParseResult(unrecognized=(doc,))
    if doc.get("object") != WHATSAPP_OBJECT:
        reason = f"object is {doc.get('object')!r}, not {WHATSAPP_OBJECT!r}"
        return ParseResult(unrecognized=(UnrecognizedPart(channel, reason, raw_bytes(payload)),))
    entries = doc.get("entry")
    if not isinstance(entries, list) or not entries:
        reason = "entry is missing, empty or not an array"
        return ParseResult(unrecognized=(UnrecognizedPart(channel, reason, raw_bytes(payload)),))

    walk = _Walk(channel, account, field_optional, account_changes)
    for e, entry in enumerate(entries):
        walk.entry(e, entry)
    return ParseResult(items=tuple(walk.items), unrecognized=tuple(walk.unrecognized))


class _Walk:
    """Accumulates items and unrecognized parts over one document."""

    def __init__(
        self,
        channel: Channel,
        account: AccountResolver,
        field_optional: bool,
        account_changes: bool,
    ) -> None:
        self.channel = channel
        self.account = account
        self.field_optional = field_optional
        self.account_changes = account_changes
        self.items: list[ParsedMessage | ParsedStatus | ParsedAccountChange] = []
        self.unrecognized: list[UnrecognizedPart] = []

    def reject(self, where: str, reason: str, part: Any, account_id: str | None = None) -> None:
        self.unrecognized.append(
            UnrecognizedPart(self.channel, f"{where}: {reason}", canonical_json(part), account_id)
        )

    def entry(self, e: int, entry: Any) -> None:
        changes = entry.get("changes") if isinstance(entry, Mapping) else None
        if not isinstance(changes, list) or not changes:
            self.reject(f"entry[{e}]", "changes is missing, empty or not an array", entry)
            return
        for c, change in enumerate(changes):
            self.change(f"entry[{e}].changes[{c}]", change, entry)

    def change(self, where: str, change: Any, entry: Mapping[str, Any]) -> None:
        if not isinstance(change, Mapping):
            self.reject(where, "change is not an object", change)
            return
        field = change.get("field")
        if field != "messages" and not (self.field_optional and field is None):
            if self.account_changes and isinstance(field, str) and field in ACCOUNT_FIELDS:
                self.account_change(where, change, entry)
            else:
                self.reject(where, f"unsupported webhook field {field!r}", change)
            return
        value = change.get("value")
        if not isinstance(value, Mapping):
            self.reject(where, "value is missing or not an object", change)
            return
        metadata = value.get("metadata")
        try:
            account = self.account(metadata if isinstance(metadata, Mapping) else None)
        except PartRejected as exc:
            self.reject(where, str(exc), change)
            return

        messages, statuses, errors = (value.get(k) for k in ("messages", "statuses", "errors"))
        if not any(isinstance(v, list) and v for v in (messages, statuses, errors)):
            self.reject(
                where, "value carries no messages, statuses or errors", change, account.account_id
            )
            return
        names = _profile_names(value.get("contacts"))
        wrapper = {k: value[k] for k in ("messaging_product", "metadata") if k in value}

        for m, msg in enumerate(messages if isinstance(messages, list) else ()):
            part = {
                **wrapper,
                "contacts": _contacts_of(value.get("contacts"), msg),
                "messages": [msg],
            }
            try:
                self.items.append(_message(msg, account, names, part))
            except PartRejected as exc:
                self.reject(f"{where}.messages[{m}]", str(exc), part, account.account_id)
        for s, status in enumerate(statuses if isinstance(statuses, list) else ()):
            part = {**wrapper, "statuses": [status]}
            try:
                self.items.append(
                    _status(
                        status,
                        account,
                        part,
                        recipient_required=not self.field_optional,
                    )
                )
            except PartRejected as exc:
                self.reject(f"{where}.statuses[{s}]", str(exc), part, account.account_id)
        if isinstance(errors, list) and errors:
            part = {**wrapper, "errors": errors}
            self.reject(where, "account-level errors notification", part, account.account_id)

    def account_change(
        self, where: str, change: Mapping[str, Any], entry: Mapping[str, Any]
    ) -> None:
        for outcome in parse_account_change(self.channel, where, entry, change):
            if isinstance(outcome, UnrecognizedPart):
                self.unrecognized.append(outcome)
            else:
                self.items.append(outcome)


def _profile_names(contacts: Any) -> dict[str, str | None]:
    names: dict[str, str | None] = {}
    for contact in contacts if isinstance(contacts, list) else ():
        if isinstance(contact, Mapping) and isinstance(contact.get("wa_id"), str):
            profile = contact.get("profile")
            name = profile.get("name") if isinstance(profile, Mapping) else None
            names[contact["wa_id"]] = name if isinstance(name, str) else None
    return names


def _contacts_of(contacts: Any, msg: Any) -> list[Any]:
    """The ``contacts`` entries that belong to ``msg``'s sender (for a self-contained part)."""
    sender = msg.get("from") if isinstance(msg, Mapping) else None
    return [
        c
        for c in (contacts if isinstance(contacts, list) else ())
        if isinstance(c, Mapping) and c.get("wa_id") == sender
    ]


def _message(
    raw: Any, account: ChannelAccount, names: Mapping[str, str | None], part: Json
) -> ParsedMessage:
    msg = as_object(raw, "message")
    wamid = required_text(msg, "id", "message")
    sender = required_text(msg, "from", "message")
    try:
        contact = InboundContact(
            address=address_of(sender, "message.from"), profile_name=names.get(sender)
        )
    except ValidationError as exc:
        raise PartRejected(f"message.from: {describe(exc)}") from exc
    return ParsedMessage(
        channel=account.channel,
        channel_account_id=account.account_id,
        provider_message_id=wamid,
        contact=contact,
        sent_at=unix_time(msg.get("timestamp"), "message.timestamp"),
        message=message_body(msg),
        part=part,
        phone_number_id=account.phone_number_id,
        display_phone_number=account.display_phone_number,
    )


def message_status(value: Any, what: str) -> MessageStatus:
    try:
        return MessageStatus(value)
    except ValueError as exc:
        raise PartRejected(f"{what} {value!r} is not a known status") from exc


def _status(
    raw: Any, account: ChannelAccount, part: Json, *, recipient_required: bool
) -> ParsedStatus:
    status = as_object(raw, "status")
    recipient_id = status.get("recipient_id")
    if recipient_id is None and recipient_required:
        raise PartRejected("status.recipient_id is missing")
    conversation = status.get("conversation")
    pricing = status.get("pricing")
    try:
        parsed_conversation = (
            StatusConversation(
                id=required_text(conversation, "id", "conversation"),
                origin_type=_origin_type(conversation.get("origin")),
                expires_at=(
                    unix_time(
                        conversation["expiration_timestamp"], "conversation.expiration_timestamp"
                    )
                    if conversation.get("expiration_timestamp") is not None
                    else None
                ),
            )
            if isinstance(conversation, Mapping)
            else None
        )
        parsed_pricing = (
            StatusPricing(
                **{
                    k: pricing[k]
                    for k in ("billable", "pricing_model", "category", "type")
                    if pricing.get(k) is not None
                }
            )
            if isinstance(pricing, Mapping)
            else None
        )
    except ValidationError as exc:
        raise PartRejected(f"status: {describe(exc)}") from exc
    callback = status.get("biz_opaque_callback_data")
    return ParsedStatus(
        channel=account.channel,
        channel_account_id=account.account_id,
        provider_message_id=required_text(status, "id", "status"),
        status=message_status(status.get("status"), "status.status"),
        timestamp=unix_time(status.get("timestamp"), "status.timestamp"),
        part=part,
        recipient=address_of(recipient_id, "status.recipient_id")
        if recipient_id is not None
        else None,
        conversation=parsed_conversation,
        pricing=parsed_pricing,
        errors=provider_errors(status.get("errors")),
        biz_opaque_callback_data=callback if isinstance(callback, str) else None,
        phone_number_id=account.phone_number_id,
        display_phone_number=account.display_phone_number,
    )


def _origin_type(origin: Any) -> Any:
    return origin.get("type") if isinstance(origin, Mapping) else None
