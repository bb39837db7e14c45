"""Parsed items -> inbound events with their subjects and dedupe keys.

Every item becomes exactly one :class:`Publication`: a message, status or account
change whose account maps to no tenant becomes an ``inbound.unrecognized`` event (reason
``"unknown channel account"``) rather than being dropped.

Dedupe keys come from the provider's ids, so a redelivered webhook maps to the same
``Nats-Msg-Id`` and the same ``event_id``:

* message: ``{channel}:msg:{wamid}``
* status: ``{channel}:status:{wamid}:{status}`` (one message moves through several)
* business-account change: ``{channel}:{field}:{account}:...:{Meta's time}`` from what
  identifies it (the WABA or number, the template, the new value; ``-`` for a time Meta
  did not give), a customer's preference ending in their contact key
* unrecognized: ``{channel}:unrecognized:{sha256 of the payload bytes}``
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from pydantic import ValidationError

from cauce_contracts.envelope import stable_event_id
from cauce_contracts.fields import PROVIDER_ID_MAX_CHARS
from cauce_contracts.inbound import (
    UNRECOGNIZED_PAYLOAD_MAX_CHARS,
    InboundMessageReceived,
    InboundPayloadUnrecognized,
    InboundStatusUpdated,
)
from cauce_contracts.registry import subject_of
from cauce_contracts.subjects import (
    Channel,
    contact_key,
    inbound_message_received,
    inbound_status_updated,
    inbound_unrecognized,
)
from cauce_gateway.parsing.items import (
    ParsedAccountChange,
    ParsedItem,
    ParsedMessage,
    ParsedStatus,
    UnrecognizedPart,
)
from cauce_gateway.parsing.publication import Publication

#: Tenant of unrecognized payloads whose account is unknown (or absent).
UNASSIGNED_TENANT = "unassigned"
UNKNOWN_ACCOUNT = "unknown channel account"
#: Subject ``contact_key`` of a status whose recipient the channel did not say (Chattigo's
#: bare notices). The subject scheme requires 24 hex chars; an HMAC never is all zeros
#: in practice, and the event's own ``contact_key`` stays None.
UNKNOWN_CONTACT_KEY = "0" * 24

#: ``tenant_for(channel, channel_account_id)`` -> tenant id, or None when unmapped (also
#: ``business_tenant_for(channel, business_account_id)``: a WABA's tenant).
TenantLookup = Callable[[Channel, str], str | None]


def _no_business_accounts(channel: Channel, business_account_id: str) -> str | None:
    return None


def message_msg_id(channel: Channel, provider_message_id: str) -> str:
    return f"{channel}:msg:{provider_message_id}"


def status_msg_id(channel: Channel, provider_message_id: str, status: str) -> str:
    return f"{channel}:status:{provider_message_id}:{status}"


def unrecognized_msg_id(channel: Channel, payload: bytes) -> str:
    return f"{channel}:unrecognized:{hashlib.sha256(payload).hexdigest()}"


def account_change_msg_id(channel: Channel, identity: Iterable[str]) -> str:
    return ":".join((channel, *identity))


def build_inbound_events(
    items: Iterable[ParsedItem],
    *,
    tenant_for: TenantLookup,
    contact_key_secret: bytes,
    correlation_id: str,
    received_at: datetime | None = None,
    business_tenant_for: TenantLookup = _no_business_accounts,
) -> list[Publication]:
    """One publication per item, in order.

    ``received_at`` dates the unrecognized events, and the account changes Meta gave no
    time (default: now); messages and statuses are dated by the provider's own
    timestamp, so a retry builds the same event. ``business_tenant_for`` finds the
    tenant of a change that names only its WABA (default: none does).
    """
    received = received_at or datetime.now(UTC)
    publications: list[Publication] = []
    for item in items:
        try:
            publications.append(
                _publication(
                    item,
                    tenant_for,
                    business_tenant_for,
                    contact_key_secret,
                    correlation_id,
                    received,
                )
            )
        except ValidationError as error:
            # A part the parser let through but an event contract refuses (a value out
            # of its bounds): kept verbatim, never a 500 that the channel retries.
            if isinstance(item, UnrecognizedPart):
                raise  # the unrecognized event is built to always fit
            reason = f"the event contract refused it: {_first_problem(error)}"
            part = UnrecognizedPart(item.channel, reason, item.source)
            publications.append(_unrecognized(part, None, correlation_id, received))
    return publications


def _publication(
    item: ParsedItem,
    tenant_for: TenantLookup,
    business_tenant_for: TenantLookup,
    contact_key_secret: bytes,
    correlation_id: str,
    received: datetime,
) -> Publication:
    """The event of one parsed item (an unrecognized one when its account is unknown)."""
    if isinstance(item, UnrecognizedPart):
        if item.channel_account_id:
            tenant = tenant_for(item.channel, item.channel_account_id)
        elif item.business_account_id:
            tenant = business_tenant_for(item.channel, item.business_account_id)
        else:
            tenant = None
        return _unrecognized(item, tenant, correlation_id, received)
    if isinstance(item, ParsedAccountChange):
        if item.phone_number_id:
            tenant = tenant_for(item.channel, item.phone_number_id)
        else:
            tenant = business_tenant_for(item.channel, item.business_account_id)
        if tenant is None:
            part = UnrecognizedPart(
                item.channel,
                UNKNOWN_ACCOUNT,
                item.source,
                item.phone_number_id,
                business_account_id=item.business_account_id,
            )
            return _unrecognized(part, None, correlation_id, received)
        return _account_change(item, tenant, contact_key_secret, correlation_id, received)
    tenant = tenant_for(item.channel, item.channel_account_id)
    if tenant is None:
        part = UnrecognizedPart(item.channel, UNKNOWN_ACCOUNT, item.source, item.channel_account_id)
        return _unrecognized(part, None, correlation_id, received)
    if isinstance(item, ParsedMessage):
        return _message(item, tenant, contact_key_secret, correlation_id)
    return _status(item, tenant, contact_key_secret, correlation_id)


def _first_problem(error: ValidationError) -> str:
    problem = error.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in problem["loc"])
    return f"{where}: {problem['msg']}"[:512]


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


def _account_change(
    item: ParsedAccountChange,
    tenant: str,
    secret: bytes,
    correlation_id: str,
    received_at: datetime,
) -> Publication:
    fields = dict(item.fields)
    identity = item.identity
    if item.contact_address is not None:
        key = contact_key(item.contact_address, secret)
        fields["contact_key"] = key
        identity = (*identity, key)
    msg_id = account_change_msg_id(item.channel, identity)
    changed_at = item.changed_at or received_at
    event = item.event_type.model_validate(
        {
            **fields,
            "event_id": stable_event_id(msg_id),
            "occurred_at": changed_at,
            "tenant_id": tenant,
            "correlation_id": correlation_id,
            "changed_at": changed_at,
        }
    )
    return Publication(event, subject_of(event), msg_id)


def _provider_id(value: str | None) -> str | None:
    """An account id the contract can carry (1-256 characters), else None: a longer one
    is nobody's account, and the payload the event keeps still has it verbatim."""
    return value if value and len(value) <= PROVIDER_ID_MAX_CHARS else None


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
        channel_account_id=_provider_id(part.channel_account_id or part.business_account_id),
        payload=text[:UNRECOGNIZED_PAYLOAD_MAX_CHARS],
        payload_truncated=truncated,
        payload_sha256=hashlib.sha256(part.payload).hexdigest(),
        content_type=part.content_type,
    )
    return Publication(event, inbound_unrecognized(part.channel), msg_id)
