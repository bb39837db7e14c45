"""What the channel parsers produce: parsed messages, statuses and business-account
changes, and the parts of a payload they could not understand (kept, with the reason,
never dropped)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cauce_contracts.envelope import Event
from cauce_contracts.inbound import (
    InboundContact,
    InboundMessage,
    MessageStatus,
    ReportedError,
    StatusConversation,
    StatusPricing,
)
from cauce_contracts.subjects import Channel


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes of a payload part: the same part redelivered hashes the
    same, so its dedupe key is stable."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class ParsedMessage:
    """A customer's message, typed. ``source`` is the part it came from (JSON bytes,
    self-contained: replayable through the same parser), made from ``part`` on demand."""

    channel: Channel
    #: The key that maps to a tenant: Meta phone_number_id, Chattigo DID, YCloud number.
    channel_account_id: str
    provider_message_id: str
    contact: InboundContact
    sent_at: datetime
    message: InboundMessage
    #: The part it came from, as bytes or as decoded JSON (see ``source``).
    part: bytes | Mapping[str, Any] = field(repr=False)
    phone_number_id: str | None = None
    display_phone_number: str | None = None

    @property
    def source(self) -> bytes:
        return _bytes_of(self.part)


@dataclass(frozen=True)
class ParsedStatus:
    """A status update of a message we sent."""

    channel: Channel
    channel_account_id: str
    provider_message_id: str
    status: MessageStatus
    timestamp: datetime
    #: The part it came from, as bytes or as decoded JSON (see ``source``).
    part: bytes | Mapping[str, Any] = field(repr=False)
    recipient: str | None = None
    conversation: StatusConversation | None = None
    pricing: StatusPricing | None = None
    errors: tuple[ReportedError, ...] = ()
    biz_opaque_callback_data: str | None = None
    phone_number_id: str | None = None
    display_phone_number: str | None = None

    @property
    def source(self) -> bytes:
        return _bytes_of(self.part)


def _bytes_of(part: bytes | Mapping[str, Any]) -> bytes:
    """A part's bytes: serialised only when asked for (an event that cannot be built keeps
    them), not for every message of every webhook."""
    return part if isinstance(part, bytes) else canonical_json(part)


@dataclass(frozen=True)
class ParsedAccountChange:
    """A change Meta reports about a WhatsApp Business Account (a template, a messaging
    limit, a customer's marketing preference): the fields of its event, already checked
    against the contract. What the event still needs is known only when it is built: the
    tenant, the contact key (it needs the secret) and, when Meta gave no time, the
    receive time."""

    channel: Channel
    #: The contract it becomes (``TemplateStatusChanged``, ``MessagingLimitChanged``...).
    event_type: type[Event]
    #: The event's own fields, without the envelope, ``changed_at`` and ``contact_key``.
    fields: Mapping[str, Any] = field(repr=False)
    #: The WABA that reported it (``entry[].id``).
    business_account_id: str
    #: The business number it names (``user_preferences``, or a limit change that gives
    #: one): its tenant is that number's. None: the WABA's tenant.
    phone_number_id: str | None
    #: Meta's time of the change; None when Meta gave none.
    changed_at: datetime | None
    #: What identifies the change (Meta's field, the account, the template, the new
    #: value, Meta's time): the dedupe key, without the channel and the contact.
    identity: tuple[str, ...]
    source: bytes = field(repr=False)
    #: The customer's address (a marketing preference): their contact key keys the event.
    contact_address: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class UnrecognizedPart:
    """A payload, or one part of it, no parser understood; ``payload`` is verbatim
    (the raw body) or the canonical JSON of the part."""

    channel: Channel
    reason: str
    payload: bytes = field(repr=False)
    channel_account_id: str | None = None
    content_type: str = "application/json"
    #: The WABA a business-account change came from, when the part names no number
    #: (``channel_account_id``): its tenant is the WABA's.
    business_account_id: str | None = None


ParsedItem = ParsedMessage | ParsedStatus | ParsedAccountChange | UnrecognizedPart


@dataclass(frozen=True)
class ParseResult:
    """Everything one webhook delivery carried, in payload order."""

    items: tuple[ParsedMessage | ParsedStatus | ParsedAccountChange, ...] = ()
    unrecognized: tuple[UnrecognizedPart, ...] = ()

    def all_items(self) -> tuple[ParsedItem, ...]:
        """Parsed items first (payload order), then the unrecognized parts."""
        return (*self.items, *self.unrecognized)


#: The result of :func:`cauce_gateway.parsing.meta.parse_meta_webhook`.
MetaParseResult = ParseResult


class PartRejected(ValueError):
    """A payload part cannot become an event; the message is the reason."""


def as_object(value: Any, what: str) -> Mapping[str, Any]:
    """``value`` as a JSON object, or :class:`PartRejected` naming ``what``."""
    if not isinstance(value, Mapping):
        raise PartRejected(f"{what} is missing or not an object")
    return value


def required_text(obj: Mapping[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise PartRejected(f"{what}.{key} is missing or not a string")
    return value
