"""Parsed items -> inbound events with their subjects and dedupe keys.

Every item becomes exactly one :class:`Publication`: a message or status whose
channel account maps to no tenant becomes an ``inbound.unrecognized`` event (reason
``"unknown channel account"``) rather than being dropped.

Dedupe keys come from the provider's ids, so a redelivered webhook maps to the same
``Nats-Msg-Id`` and the same ``event_id``:

* message: ``{channel}:msg:{wamid}``
* status: ``{channel}:status:{wamid}:{status}`` (one message moves through several)
* unrecognized: ``{channel}:unrecognized:{sha256 of the payload bytes}``
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from cauce_contracts.envelope import stable_event_id
from cauce_contracts.inbound import (
    UNRECOGNIZED_PAYLOAD_MAX_CHARS,
    InboundMessageReceived,
    InboundPayloadUnrecognized,
    InboundStatusUpdated,
)
from cauce_contracts.subjects import (
    Channel,
    contact_key,
    inbound_message_received,
    inbound_status_updated,
    inbound_unrecognized,
)
from cauce_gateway.parsing.items import ParsedItem, ParsedMessage, ParsedStatus, UnrecognizedPart
from cauce_gateway.parsing.publication import Publication

#: Tenant of unrecognized payloads whose account is unknown (or absent).
UNASSIGNED_TENANT = "unassigned"
UNKNOWN_ACCOUNT = "unknown channel account"
#: Subject ``contact_key`` of a status whose recipient the channel did not say (Chattigo's
#: bare notices). The subject scheme requires 24 hex chars; an HMAC never is all zeros
#: in practice, and the event's own ``contact_key`` stays None.
UNKNOWN_CONTACT_KEY = "0" * 24

#: ``tenant_for(channel, channel_account_id)`` -> tenant id, or None when unmapped.
TenantLookup = Callable[[Channel, str], str | None]


def message_msg_id(channel: Channel, provider_message_id: str) -> str:
    return f"{channel}:msg:{provider_message_id}"


def status_msg_id(channel: Channel, provider_message_id: str, status: str) -> str:
    return f"{channel}:status:{provider_message_id}:{status}"


def unrecognized_msg_id(channel: Channel, payload: bytes) -> str:
    return f"{channel}:unrecognized:{hashlib.sha256(payload).hexdigest()}"


def build_inbound_events(
    items: Iterable[ParsedItem],
    *,
    tenant_for: TenantLookup,
    contact_key_secret: bytes,
    correlation_id: str,
    received_at: datetime | None = None,
) -> list[Publication]:
    """One publication per item, in order.

    ``received_at`` dates the unrecognized events (default: now); messages and
    statuses are dated by the provider's own timestamp, so a retry builds the same event.
    """
    received = received_at or datetime.now(UTC)
    publications: list[Publication] = []
    for item in items:
        if isinstance(item, UnrecognizedPart):
            tenant = (
                tenant_for(item.channel, item.channel_account_id)
                if item.channel_account_id
                else None
            )
            publications.append(_unrecognized(item, tenant, correlation_id, received))
            continue
        tenant = tenant_for(item.channel, item.channel_account_id)
        if tenant is None:
            part = UnrecognizedPart(
                item.channel, UNKNOWN_ACCOUNT, item.source, item.channel_account_id
            )
            publications.append(_unrecognized(part, None, correlation_id, received))
        elif isinstance(item, ParsedMessage):
            publications.append(_message(item, tenant, contact_key_secret, correlation_id))
        else:
            publications.append(_status(item, tenant, contact_key_secret, correlation_id))
    return publications


def _message(item: ParsedMessage, tenant: str, secret: bytes, correlation_id: str) -> Publication:
    key = contact_key(item.contact.address, secret)
    msg_id = message_msg_id(item.channel, item.provider_message_id)
    event = InboundMessageReceived(
        event_id=stable_event_id(msg_id),
        occurred_at=item.sent_at,
        tenant_id=tenant,
        correlation_id=correlation_id,
        channel=item.channel,
        channel_account_id=item.channel_account_id,
        provider_message_id=item.provider_message_id,
        contact=item.contact,
        contact_key=key,
        sent_at=item.sent_at,
        message=item.message,
    )
    return Publication(event, inbound_message_received(tenant, item.channel, key), msg_id)


def _status(item: ParsedStatus, tenant: str, secret: bytes, correlation_id: str) -> Publication:
    key = contact_key(item.recipient, secret) if item.recipient else None
    msg_id = status_msg_id(item.channel, item.provider_message_id, item.status.value)
    event = InboundStatusUpdated(
        event_id=stable_event_id(msg_id),
        occurred_at=item.timestamp,
        tenant_id=tenant,
        correlation_id=correlation_id,
        channel=item.channel,
        channel_account_id=item.channel_account_id,
        provider_message_id=item.provider_message_id,
        status=item.status,
        recipient=item.recipient,
        contact_key=key,
        timestamp=item.timestamp,
        conversation=item.conversation,
        pricing=item.pricing,
        errors=item.errors,
        biz_opaque_callback_data=item.biz_opaque_callback_data,
    )
    subject = inbound_status_updated(tenant, item.channel, key or UNKNOWN_CONTACT_KEY)
    return Publication(event, subject, msg_id)


def _unrecognized(
    part: UnrecognizedPart, tenant: str | None, correlation_id: str, received_at: datetime
) -> Publication:
    msg_id = unrecognized_msg_id(part.channel, part.payload)
    text = part.payload.decode("utf-8", errors="replace")
    truncated = len(text) > UNRECOGNIZED_PAYLOAD_MAX_CHARS
    event = InboundPayloadUnrecognized(
        event_id=stable_event_id(msg_id),
        occurred_at=received_at,
        tenant_id=tenant or UNASSIGNED_TENANT,
        correlation_id=correlation_id,
        channel=part.channel,
        reason=part.reason[:2048],
        channel_account_id=part.channel_account_id,
        payload=text[:UNRECOGNIZED_PAYLOAD_MAX_CHARS],
        payload_truncated=truncated,
        payload_sha256=hashlib.sha256(part.payload).hexdigest(),
        content_type=part.content_type,
    )
    return Publication(event, inbound_unrecognized(part.channel), msg_id)
