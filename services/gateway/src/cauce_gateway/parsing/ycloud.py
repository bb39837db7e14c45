"""YCloud webhook events (API v2).

* ``whatsapp.inbound_message.received``: ``whatsappInboundMessage`` carries the
  message in Meta's message-object shape (``type``, ``text``, ``image`` ... with a
  download ``link`` on media) plus YCloud's ``id``, ``wamid``, ``wabaId``, ``from``,
  ``to``, ``customerProfile.name`` and ``sendTime`` (RFC 3339).
* ``whatsapp.message.updated``: ``whatsappMessage`` is an outbound message with its new
  ``status`` and timestamps (``sendTime``, ``deliverTime``, ``readTime``), pricing
  (``pricingCategory``, ``pricingModel``), ``conversation`` and, when failed,
  ``errorCode``/``errorMessage``/``whatsappApiError``.

The account is the business number (``to`` inbound, ``from`` on updates), digits only.
Other YCloud event types are kept as unrecognized.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from cauce_contracts.inbound import (
    InboundContact,
    ReportedError,
    StatusConversation,
    StatusPricing,
)
from cauce_contracts.subjects import Channel
from cauce_gateway.parsing.items import (
    ParsedMessage,
    ParsedStatus,
    ParseResult,
    PartRejected,
    UnrecognizedPart,
    as_object,
    required_text,
)
from cauce_gateway.parsing.meta import load_json, message_status, raw_bytes
from cauce_gateway.parsing.whatsapp_message import address_of, describe, message_body

INBOUND_MESSAGE_RECEIVED = "whatsapp.inbound_message.received"
MESSAGE_UPDATED = "whatsapp.message.updated"

#: The timestamp field that dates each status.
_STATUS_TIME = {"sent": "sendTime", "delivered": "deliverTime", "read": "readTime"}

Json = Mapping[str, Any]


def parse_ycloud_webhook(payload: bytes | Json) -> ParseResult:
    """Parse one YCloud webhook event (raw body bytes or decoded JSON)."""
    doc = load_json(payload, Channel.YCLOUD)
    if isinstance(doc, UnrecognizedPart):
        return ParseResult(unrecognized=(doc,))
    kind = doc.get("type")
    account: str | None = None
    try:
        if kind == INBOUND_MESSAGE_RECEIVED:
            msg = as_object(doc.get("whatsappInboundMessage"), "whatsappInboundMessage")
            account = _account(msg.get("to"), "whatsappInboundMessage.to")
            return ParseResult(items=(_message(msg, account, raw_bytes(payload)),))
        if kind == MESSAGE_UPDATED:
            msg = as_object(doc.get("whatsappMessage"), "whatsappMessage")
            account = _account(msg.get("from"), "whatsappMessage.from")
            return ParseResult(items=(_status(doc, msg, account, raw_bytes(payload)),))
        raise PartRejected(f"unsupported YCloud event type {kind!r}")
    except PartRejected as exc:
        part = UnrecognizedPart(Channel.YCLOUD, str(exc), raw_bytes(payload), account)
        return ParseResult(unrecognized=(part,))


def _account(value: Any, what: str) -> str:
    return address_of(value, what)


def rfc3339(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise PartRejected(f"{what} is missing or not a string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise PartRejected(f"{what} is not an RFC 3339 time") from exc
    if parsed.tzinfo is None:
        raise PartRejected(f"{what} has no UTC offset")
    return parsed.astimezone(UTC)


def _message(msg: Json, account: str, source: bytes) -> ParsedMessage:
    profile = msg.get("customerProfile")
    name = profile.get("name") if isinstance(profile, Mapping) else None
    try:
        contact = InboundContact(
            address=address_of(msg.get("from"), "whatsappInboundMessage.from"),
            profile_name=name if isinstance(name, str) else None,
        )
    except ValidationError as exc:
        raise PartRejected(f"whatsappInboundMessage.from: {describe(exc)}") from exc
    wamid = msg.get("wamid")
    return ParsedMessage(
        channel=Channel.YCLOUD,
        channel_account_id=account,
        provider_message_id=(
            wamid
            if isinstance(wamid, str) and wamid
            else required_text(msg, "id", "whatsappInboundMessage")
        ),
        contact=contact,
        sent_at=rfc3339(msg.get("sendTime"), "whatsappInboundMessage.sendTime"),
        message=message_body(msg),
        part=source,
        display_phone_number=msg.get("to") if isinstance(msg.get("to"), str) else None,
    )


def _errors(msg: Json) -> tuple[ReportedError, ...]:
    api_error = msg.get("whatsappApiError")
    try:
        if isinstance(api_error, Mapping) and api_error.get("code") is not None:
            data = api_error.get("error_data")
            details = data.get("details") if isinstance(data, Mapping) else None
            return (
                ReportedError(
                    code=api_error["code"],
                    title=api_error.get("type"),
                    message=api_error.get("message"),
                    details=details,
                ),
            )
        code = msg.get("errorCode")
        if code is None:
            return ()
        # YCloud's own codes are not numeric: keep them as the title, code 0.
        numeric = str(code).isdigit()
        return (
            ReportedError(
                code=int(code) if numeric else 0,
                title=None if numeric else str(code),
                message=msg.get("errorMessage"),
            ),
        )
    except ValidationError as exc:
        raise PartRejected(f"whatsappMessage errors: {describe(exc)}") from exc


def _status(doc: Json, msg: Json, account: str, source: bytes) -> ParsedStatus:
    status = message_status(msg.get("status"), "whatsappMessage.status")
    time_field = _STATUS_TIME.get(status.value, "updateTime")
    stamp = next(
        (v for v in (msg.get(time_field), msg.get("updateTime"), doc.get("createTime")) if v),
        None,
    )
    conversation = msg.get("conversation")
    try:
        parsed_conversation = (
            StatusConversation(
                id=required_text(conversation, "id", "whatsappMessage.conversation"),
                origin_type=conversation.get("originType"),
                expires_at=(
                    rfc3339(conversation["expireTime"], "conversation.expireTime")
                    if conversation.get("expireTime")
                    else None
                ),
            )
            if isinstance(conversation, Mapping)
            else None
        )
        pricing = {
            k: msg[src]
            for k, src in (("category", "pricingCategory"), ("pricing_model", "pricingModel"))
            if msg.get(src) is not None
        }
        parsed_pricing = StatusPricing(**pricing) if pricing else None
    except ValidationError as exc:
        raise PartRejected(f"whatsappMessage: {describe(exc)}") from exc
    wamid = msg.get("wamid")
    to = msg.get("to")
    return ParsedStatus(
        channel=Channel.YCLOUD,
        channel_account_id=account,
        provider_message_id=(
            wamid
            if isinstance(wamid, str) and wamid
            else required_text(msg, "id", "whatsappMessage")
        ),
        status=status,
        timestamp=rfc3339(stamp, f"whatsappMessage.{time_field}"),
        part=source,
        recipient=address_of(to, "whatsappMessage.to") if to is not None else None,
        conversation=parsed_conversation,
        pricing=parsed_pricing,
        errors=_errors(msg),
        biz_opaque_callback_data=(
            msg["externalId"] if isinstance(msg.get("externalId"), str) else None
        ),
        display_phone_number=msg.get("from") if isinstance(msg.get("from"), str) else None,
    )
