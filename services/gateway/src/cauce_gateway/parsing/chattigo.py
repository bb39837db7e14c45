"""Chattigo webhooks: Meta's format forwarded as is, or Chattigo's legacy ISV format.

The account is the Chattigo DID (the business number). Meta-format deliveries carry it
as ``metadata.display_phone_number``; Chattigo's own status notices may omit metadata
(and ``field``, and ``recipient_id``), so the DID the gateway knows from the per-account
URL token is the fallback. Legacy ISV messages look like::

    {"id": "...", "did": "5492644710400", "msisdn": "5492644472542", "type": "text",
     "channel": "WHATSAPP", "content": "Hola", "name": "Nombre", "isAttachment": false,
     "attachment": {"mediaUrl": "...", "mimeType": "image/jpeg", "fileName": "x.jpg"}}
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from cauce_contracts.inbound import InboundContact, InboundMessage
from cauce_contracts.subjects import Channel
from cauce_gateway.parsing.items import (
    ParsedMessage,
    ParseResult,
    PartRejected,
    UnrecognizedPart,
    as_object,
    required_text,
)
from cauce_gateway.parsing.meta import (
    WHATSAPP_OBJECT,
    AccountResolver,
    ChannelAccount,
    load_json,
    parse_whatsapp_document,
    raw_bytes,
)
from cauce_gateway.parsing.whatsapp_message import address_of, describe

_MESSAGE = TypeAdapter[InboundMessage](InboundMessage)
_MEDIA_TYPES = frozenset({"media", "image", "video", "audio", "document", "file"})

Json = Mapping[str, Any]


def chattigo_account(account_did: str | None) -> AccountResolver:
    """The DID from ``metadata.display_phone_number``, else the one the URL named."""

    def resolve(metadata: Json | None) -> ChannelAccount:
        display = metadata.get("display_phone_number") if metadata else None
        phone_number_id = metadata.get("phone_number_id") if metadata else None
        if display is not None:
            did = address_of(display, "metadata.display_phone_number")
        elif account_did is not None:
            did = address_of(account_did, "account DID")
        else:
            raise PartRejected("no metadata.display_phone_number and no account DID known")
        return ChannelAccount(
            Channel.CHATTIGO,
            did,
            phone_number_id if isinstance(phone_number_id, str) else None,
            display if isinstance(display, str) else None,
        )

    return resolve


def parse_chattigo_webhook(
    payload: bytes | Json,
    *,
    account_did: str | None = None,
    received_at: datetime | None = None,
) -> ParseResult:
    """Parse one Chattigo delivery in either format.

    ``account_did`` is the DID registered for the URL token the delivery came on;
    ``received_at`` stamps legacy messages, which carry no timestamp (default: now).
    """
    doc = load_json(payload, Channel.CHATTIGO)
    if isinstance(doc, UnrecognizedPart):
        return ParseResult(unrecognized=(doc,))
    if doc.get("object") == WHATSAPP_OBJECT:
        return parse_whatsapp_document(
            doc,
            channel=Channel.CHATTIGO,
            account=chattigo_account(account_did),
            field_optional=True,
        )
    if "msisdn" in doc and "did" in doc:
        try:
            message = _legacy_message(doc, payload, received_at or datetime.now(UTC))
        except PartRejected as exc:
            did = doc.get("did")
            part = UnrecognizedPart(
                Channel.CHATTIGO,
                f"legacy message: {exc}",
                raw_bytes(payload),
                str(did)
                if isinstance(did, str | int) and not isinstance(did, bool)
                else account_did,
            )
            return ParseResult(unrecognized=(part,))
        return ParseResult(items=(message,))
    reason = "neither a Meta-format nor a legacy ISV payload"
    return ParseResult(
        unrecognized=(UnrecognizedPart(Channel.CHATTIGO, reason, raw_bytes(payload), account_did),)
    )


def _media_kind(mime_type: str | None) -> str:
    major = (mime_type or "").split("/", 1)[0].lower()
    return {"image": "image", "video": "video", "audio": "audio"}.get(major, "document")


def _legacy_body(doc: Json) -> dict[str, Any]:
    kind = doc.get("type")
    content = doc.get("content")
    if kind == "text" and not doc.get("isAttachment"):
        return {"type": "text", "body": content}
    if (isinstance(kind, str) and kind in _MEDIA_TYPES) or doc.get("isAttachment"):
        attachment = as_object(doc.get("attachment"), "attachment")
        mime_type = attachment.get("mimeType")
        if mime_type is not None and not isinstance(mime_type, str):
            raise PartRejected("attachment.mimeType is not a string")
        media: dict[str, Any] = {"url": attachment.get("mediaUrl")}
        if mime_type is not None:
            media["mime_type"] = mime_type
        if content:
            media["caption"] = content
        body: dict[str, Any] = {"type": _media_kind(mime_type), "media": media}
        if body["type"] == "document" and attachment.get("fileName") is not None:
            body["filename"] = attachment["fileName"]
        return body
    raise PartRejected(f"unknown legacy message type {kind!r}")


def _legacy_message(doc: Json, payload: bytes | Json, received_at: datetime) -> ParsedMessage:
    channel = doc.get("channel")
    if channel is not None and str(channel).upper() != "WHATSAPP":
        raise PartRejected(f"channel {channel!r} is not WHATSAPP")
    name = doc.get("name")
    try:
        contact = InboundContact(
            address=address_of(doc.get("msisdn"), "msisdn"),
            profile_name=name if isinstance(name, str) and name else None,
        )
        message = _MESSAGE.validate_python(_legacy_body(doc))
    except ValidationError as exc:
        raise PartRejected(describe(exc)) from exc
    did = address_of(doc.get("did"), "did")
    return ParsedMessage(
        channel=Channel.CHATTIGO,
        channel_account_id=did,
        provider_message_id=required_text(doc, "id", "legacy message"),
        contact=contact,
        sent_at=received_at,
        message=message,
        part=raw_bytes(payload),
        display_phone_number=did,
    )
