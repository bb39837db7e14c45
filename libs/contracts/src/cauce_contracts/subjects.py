"""NATS subjects of every cauce event, built here so nobody formats one by hand.

A subject is the event's type followed by variable tokens, most specific last::

    inbound.message.received.{tenant_id}.{channel}.{contact_key}

Every variable token is checked against ``[A-Za-z0-9_-]+``: a dot would shift the
token positions consumers filter on, and ``*``/``>`` would turn a publish subject into a
wildcard. Phone numbers never appear in clear: conversations are keyed by
:func:`contact_key`, an HMAC of the address's digits.

The patterns (:data:`SUBJECT_PATTERNS`) are the single source for builders, consumer
filters (:func:`all_of`, :func:`filter_for`) and the AsyncAPI channels.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import string
from enum import StrEnum
from types import MappingProxyType
from typing import Final

_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_CONTACT_KEY = re.compile(r"[0-9a-f]{24}")
_NON_DIGITS = re.compile(r"[^0-9]")

#: Length, in hex characters, of a :func:`contact_key`.
CONTACT_KEY_LENGTH: Final = 24


class Channel(StrEnum):
    """A messaging or business channel events come from or go to."""

    #: Meta's WhatsApp Cloud API, direct.
    WHATSAPP = "whatsapp"
    #: Chattigo BSP (forwarded Meta format and its legacy ISV format).
    CHATTIGO = "chattigo"
    YCLOUD = "ycloud"
    MANYCHAT = "manychat"
    #: SCI TOTAL payment platform (payment status webhooks).
    SCI = "sci"


# --- event types ------------------------------------------------------------------
# Kept here (not on the models) so subjects need no model import; the registry checks
# that every model's EVENT_TYPE has a pattern and vice versa.

INBOUND_MESSAGE_RECEIVED: Final = "inbound.message.received"
INBOUND_STATUS_UPDATED: Final = "inbound.status.updated"
INBOUND_UNRECOGNIZED: Final = "inbound.unrecognized"
CRM_CONTACT_UPSERTED: Final = "crm.contact.upserted"
CRM_CAMPAIGN_ASSIGNED: Final = "crm.campaign.assigned"
CRM_LEAD_STATE_CHANGED: Final = "crm.lead.state_changed"
CRM_ODOO_RECORD_CHANGED: Final = "crm.odoo.record_changed"
PAYMENTS_DEBT_LOOKUP_REQUESTED: Final = "payments.debt.lookup_requested"
PAYMENTS_DEBT_LOOKED_UP: Final = "payments.debt.looked_up"
PAYMENTS_DEBT_LOOKUP_FAILED: Final = "payments.debt.lookup_failed"
PAYMENTS_LINK_REQUESTED: Final = "payments.link.requested"
PAYMENTS_LINK_CREATED: Final = "payments.link.created"
PAYMENTS_LINK_FAILED: Final = "payments.link.failed"
PAYMENTS_TRANSACTION_STATUS_CHANGED: Final = "payments.transaction.status_changed"
OUTBOUND_MESSAGE_REQUESTED: Final = "outbound.message.requested"
OUTBOUND_MESSAGE_SENT: Final = "outbound.message.sent"
OUTBOUND_MESSAGE_FAILED: Final = "outbound.message.failed"
OUTBOUND_STATUS_CHANGED: Final = "outbound.message.status_changed"
OUTBOUND_CAMPAIGN_MESSAGE_REQUESTED: Final = "outbound.campaign_message.requested"
DLQ_DEAD_LETTERED: Final = "dlq.dead_lettered"
INBOUND_TEMPLATE_STATUS_CHANGED: Final = "inbound.template.status_changed"
INBOUND_TEMPLATE_QUALITY_CHANGED: Final = "inbound.template.quality_changed"
INBOUND_TEMPLATE_CATEGORY_CHANGED: Final = "inbound.template.category_changed"
INBOUND_TEMPLATE_COMPONENTS_CHANGED: Final = "inbound.template.components_changed"
INBOUND_MESSAGING_LIMIT_CHANGED: Final = "inbound.account.messaging_limit_changed"
INBOUND_MARKETING_PREFERENCE_CHANGED: Final = "inbound.contact.marketing_preference_changed"
INBOX_CHAT_CHANGED: Final = "inbox.chat.changed"
INBOUND_MEDIA_STORED: Final = "inbound.media.stored"
INBOUND_MEDIA_REFUSED: Final = "inbound.media.refused"

_CONVERSATION = "{tenant_id}.{channel}.{contact_key}"
_TEMPLATE = "{tenant_id}.{channel}.{business_account_id}"

#: event_type -> subject pattern; ``{name}`` marks a variable token.
SUBJECT_PATTERNS: Final = MappingProxyType(
    {
        INBOUND_MESSAGE_RECEIVED: f"{INBOUND_MESSAGE_RECEIVED}.{_CONVERSATION}",
        INBOUND_STATUS_UPDATED: f"{INBOUND_STATUS_UPDATED}.{_CONVERSATION}",
        INBOUND_UNRECOGNIZED: f"{INBOUND_UNRECOGNIZED}.{{channel}}",
        CRM_CONTACT_UPSERTED: f"{CRM_CONTACT_UPSERTED}.{{tenant_id}}.{{manychat_id}}",
        CRM_CAMPAIGN_ASSIGNED: f"{CRM_CAMPAIGN_ASSIGNED}.{{tenant_id}}.{{manychat_id}}",
        CRM_LEAD_STATE_CHANGED: f"{CRM_LEAD_STATE_CHANGED}.{{tenant_id}}.{{manychat_id}}",
        CRM_ODOO_RECORD_CHANGED: f"{CRM_ODOO_RECORD_CHANGED}.{{tenant_id}}",
        PAYMENTS_DEBT_LOOKUP_REQUESTED: f"{PAYMENTS_DEBT_LOOKUP_REQUESTED}.{_CONVERSATION}",
        PAYMENTS_DEBT_LOOKED_UP: f"{PAYMENTS_DEBT_LOOKED_UP}.{_CONVERSATION}",
        PAYMENTS_DEBT_LOOKUP_FAILED: f"{PAYMENTS_DEBT_LOOKUP_FAILED}.{_CONVERSATION}",
        PAYMENTS_LINK_REQUESTED: f"{PAYMENTS_LINK_REQUESTED}.{_CONVERSATION}",
        PAYMENTS_LINK_CREATED: f"{PAYMENTS_LINK_CREATED}.{_CONVERSATION}",
        PAYMENTS_LINK_FAILED: f"{PAYMENTS_LINK_FAILED}.{_CONVERSATION}",
        PAYMENTS_TRANSACTION_STATUS_CHANGED: (
            f"{PAYMENTS_TRANSACTION_STATUS_CHANGED}.{{tenant_id}}.{{transaction_id}}"
        ),
        OUTBOUND_MESSAGE_REQUESTED: f"{OUTBOUND_MESSAGE_REQUESTED}.{_CONVERSATION}",
        OUTBOUND_MESSAGE_SENT: f"{OUTBOUND_MESSAGE_SENT}.{_CONVERSATION}",
        OUTBOUND_MESSAGE_FAILED: f"{OUTBOUND_MESSAGE_FAILED}.{_CONVERSATION}",
        OUTBOUND_STATUS_CHANGED: f"{OUTBOUND_STATUS_CHANGED}.{_CONVERSATION}",
        OUTBOUND_CAMPAIGN_MESSAGE_REQUESTED: (
            f"{OUTBOUND_CAMPAIGN_MESSAGE_REQUESTED}.{_CONVERSATION}"
        ),
        DLQ_DEAD_LETTERED: "dlq.{stream}.{durable_name}",
        INBOUND_TEMPLATE_STATUS_CHANGED: f"{INBOUND_TEMPLATE_STATUS_CHANGED}.{_TEMPLATE}",
        INBOUND_TEMPLATE_QUALITY_CHANGED: f"{INBOUND_TEMPLATE_QUALITY_CHANGED}.{_TEMPLATE}",
        INBOUND_TEMPLATE_CATEGORY_CHANGED: f"{INBOUND_TEMPLATE_CATEGORY_CHANGED}.{_TEMPLATE}",
        INBOUND_TEMPLATE_COMPONENTS_CHANGED: (f"{INBOUND_TEMPLATE_COMPONENTS_CHANGED}.{_TEMPLATE}"),
        INBOUND_MESSAGING_LIMIT_CHANGED: (
            f"{INBOUND_MESSAGING_LIMIT_CHANGED}.{{tenant_id}}.{{channel}}.{{account_id}}"
        ),
        INBOUND_MARKETING_PREFERENCE_CHANGED: (
            f"{INBOUND_MARKETING_PREFERENCE_CHANGED}.{_CONVERSATION}"
        ),
        INBOX_CHAT_CHANGED: f"{INBOX_CHAT_CHANGED}.{{tenant_id}}.{{chat_id}}",
        INBOUND_MEDIA_STORED: f"{INBOUND_MEDIA_STORED}.{_CONVERSATION}",
        INBOUND_MEDIA_REFUSED: f"{INBOUND_MEDIA_REFUSED}.{_CONVERSATION}",
    }
)

#: What each variable token means (used for AsyncAPI channel parameters).
TOKEN_DESCRIPTIONS: Final = MappingProxyType(
    {
        "tenant_id": "Tenant the event belongs to.",
        "channel": "Channel the conversation runs on.",
        "contact_key": (
            "HMAC-SHA256 of the contact address's digits (first 24 hex chars); "
            "never the phone number in clear."
        ),
        "manychat_id": "ManyChat subscriber id of the lead.",
        "transaction_id": "SCI TOTAL transaction id.",
        "stream": "JetStream stream the dead-lettered message came from.",
        "durable_name": "Durable consumer that gave up on the message.",
        "business_account_id": "WhatsApp Business Account (WABA) id.",
        "account_id": "Business portfolio id or phone_number_id the limit applies to.",
        "chat_id": "The inbox chat (conversation) id.",
    }
)


def is_token(value: str) -> bool:
    """Whether ``value`` may be used as one subject token."""
    return _TOKEN.fullmatch(value) is not None


def token(value: str, name: str = "token") -> str:
    """``value`` unchanged if it is a valid subject token, else :class:`ValueError`."""
    if not isinstance(value, str) or not is_token(value):
        raise ValueError(f"{name} must match [A-Za-z0-9_-]+, got {value!r}")
    return value


def contact_key(address: str, secret: bytes) -> str:
    """A stable, non-reversible key for a contact address (a phone number).

    Only the digits count, so ``+57 300 123 4567`` and ``573001234567`` give the same
    key. Keyed with a deployment secret so the key cannot be brute-forced from the
    (small) space of phone numbers by someone who only sees subjects.
    """
    if not secret:
        raise ValueError("contact_key needs a non-empty secret")
    digits = _NON_DIGITS.sub("", address)
    if not digits:
        raise ValueError("contact address has no digits")
    mac = hmac.new(secret, digits.encode("ascii"), hashlib.sha256).hexdigest()
    return mac[:CONTACT_KEY_LENGTH]


def _contact_key_token(value: str) -> str:
    if _CONTACT_KEY.fullmatch(value) is None:
        raise ValueError(
            f"contact_key must be {CONTACT_KEY_LENGTH} lowercase hex chars "
            "(see cauce_contracts.subjects.contact_key)"
        )
    return value


def _channel_token(channel: Channel | str) -> str:
    try:
        return Channel(channel).value
    except ValueError:
        raise ValueError(f"unknown channel {channel!r}") from None


def pattern_params(pattern: str) -> tuple[str, ...]:
    """The variable token names of a subject pattern, in order."""
    return tuple(field for _, field, _, _ in string.Formatter().parse(pattern) if field)


def subject_pattern(event_type: str) -> str:
    """The subject pattern of an event type (``KeyError`` -> :class:`ValueError`)."""
    try:
        return SUBJECT_PATTERNS[event_type]
    except KeyError:
        raise ValueError(f"unknown event type {event_type!r}") from None


def _check_tokens(tokens: dict[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for name, value in tokens.items():
        if name == "channel":
            checked[name] = _channel_token(value)
        elif name == "contact_key":
            checked[name] = _contact_key_token(value)
        else:
            checked[name] = token(value, name)
    return checked


def _build(event_type: str, **tokens: str) -> str:
    pattern = subject_pattern(event_type)
    return pattern.format(**_check_tokens(tokens))


def subject(event_type: str, **tokens: str) -> str:
    """The concrete subject of ``event_type`` from all of its tokens, by name.

    Code publishing an event uses the registry's ``subject_of(event)``, which reads the
    tokens from the event. Missing or unexpected tokens raise :class:`ValueError`.
    """
    params = pattern_params(subject_pattern(event_type))
    if set(tokens) != set(params):
        raise ValueError(f"{event_type} needs tokens {params}, got {tuple(tokens)}")
    return _build(event_type, **tokens)


# --- builders of the subjects the gateway publishes on (its hot path; any other
# publisher uses the registry's ``subject_of(event)``) ---------------------------------


def inbound_message_received(tenant_id: str, channel: Channel | str, contact_key: str) -> str:
    return _build(
        INBOUND_MESSAGE_RECEIVED, tenant_id=tenant_id, channel=channel, contact_key=contact_key
    )


def inbound_status_updated(tenant_id: str, channel: Channel | str, contact_key: str) -> str:
    return _build(
        INBOUND_STATUS_UPDATED, tenant_id=tenant_id, channel=channel, contact_key=contact_key
    )


def inbound_unrecognized(channel: Channel | str) -> str:
    return _build(INBOUND_UNRECOGNIZED, channel=channel)


def dlq(stream: str, durable_name: str) -> str:
    """Where a consumer's dead letters go: ``dlq.{stream}.{durable_name}``."""
    return _build(DLQ_DEAD_LETTERED, stream=stream, durable_name=durable_name)


# --- consumer filters ---------------------------------------------------------------


def filter_for(event_type: str, **tokens: str) -> str:
    """A consumer filter subject for ``event_type``, fixing the given tokens.

    Unfixed tokens become ``*``, except that trailing unfixed tokens collapse into one
    ``>``: ``filter_for("inbound.message.received", tenant_id="acme")`` is
    ``inbound.message.received.acme.>``.
    """
    pattern = subject_pattern(event_type)
    params = pattern_params(pattern)
    unknown = set(tokens) - set(params)
    if unknown:
        raise ValueError(f"{event_type} has no token(s) {sorted(unknown)}; it has {params}")
    values = _check_tokens(tokens)
    last_fixed = max((params.index(name) for name in values), default=-1)
    parts = [values.get(name, "*") for name in params[: last_fixed + 1]]
    if last_fixed < len(params) - 1:
        parts.append(">")
    prefix = pattern.split("{", 1)[0].rstrip(".")
    return ".".join([prefix, *parts])


def all_of(event_type: str) -> str:
    """The filter matching every subject of ``event_type``, e.g. ``inbound.message.received.>``."""
    return filter_for(event_type)


def subject_matches(filter_subject: str, subject: str) -> bool:
    """NATS subject matching (``*`` one token, ``>`` one or more trailing tokens)."""
    pattern = filter_subject.split(".")
    tokens = subject.split(".")
    for index, part in enumerate(pattern):
        if part == ">":
            return len(tokens) > index
        if index >= len(tokens) or (part != "*" and part != tokens[index]):
            return False
    return len(tokens) == len(pattern)


# --- per-contact partitions ---------------------------------------------------------
# One contact's customer messages must be handled in arrival order and never two at a
# time, by however many replicas run. The INBOUND stream appends a partition token to
# every ``inbound.message.received`` subject as it stores it (a JetStream subject
# transform with the server's deterministic ``partition()`` hash of tenant, channel and
# contact key); each partition has its own durable consumer with one message in flight
# (``max_ack_pending=1``). So a contact always lands in the same partition, and a
# partition is a queue JetStream hands to one replica at a time.

#: Partitions of ``inbound.message.received``; changing it moves contacts between
#: partitions (drain the conversation consumers first).
MESSAGE_PARTITIONS: Final = 16


def message_partition_transform() -> tuple[str, str]:
    """The INBOUND stream's subject transform: (source, destination with partition)."""
    pattern = subject_pattern(INBOUND_MESSAGE_RECEIVED)
    params = pattern_params(pattern)
    prefix = pattern.split("{", 1)[0].rstrip(".")
    source = ".".join([prefix, *("*" for _ in params)])
    wildcards = [f"{{{{wildcard({i})}}}}" for i in range(1, len(params) + 1)]
    indexes = ",".join(str(i) for i in range(1, len(params) + 1))
    destination = ".".join(
        [prefix, *wildcards, f"{{{{partition({MESSAGE_PARTITIONS},{indexes})}}}}"]
    )
    return source, destination


def message_partition_filter(partition: int) -> str:
    """The filter of one partition's stored ``inbound.message.received`` subjects."""
    if not 0 <= partition < MESSAGE_PARTITIONS:
        raise ValueError(f"partition must be in [0, {MESSAGE_PARTITIONS}), got {partition}")
    source, _ = message_partition_transform()
    return f"{source}.{partition}"
