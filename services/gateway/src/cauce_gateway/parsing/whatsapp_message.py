"""One WhatsApp message object (Meta's Cloud API shape, which YCloud mirrors) to our
typed :data:`~cauce_contracts.inbound.InboundMessage` body.

Only the fields the contract knows are copied, so a field Meta adds tomorrow is
ignored rather than rejected; a *type* we do not know is rejected (the caller keeps
the part as unrecognized).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from cauce_contracts.inbound import InboundMessage, ReportedError
from cauce_gateway.parsing.items import PartRejected, as_object

_MESSAGE = TypeAdapter[InboundMessage](InboundMessage)
_ERRORS = TypeAdapter(tuple[ReportedError, ...])
_NON_DIGITS = re.compile(r"\D")

Json = Mapping[str, Any]


def address_of(value: Any, what: str) -> str:
    """The digits of a phone number / wa_id (``+57 300-123`` -> ``57300123``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise PartRejected(f"{what} is missing or not a string")
    digits = _NON_DIGITS.sub("", value)
    if not digits:
        raise PartRejected(f"{what} has no digits")
    return digits


def unix_time(value: Any, what: str) -> datetime:
    """Meta's timestamps: unix seconds, as a string or a number."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise PartRejected(f"{what} is missing or not unix seconds")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise PartRejected(f"{what} is out of range") from exc


def describe(error: ValidationError) -> str:
    """A short, PII-free summary of a validation error (locations and messages only)."""
    parts = [
        f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in error.errors()
    ]
    return "; ".join(parts[:5]) + (f" (+{len(parts) - 5} more)" if len(parts) > 5 else "")


def _pick(obj: Any, *keys: str) -> dict[str, Any]:
    """The given keys of ``obj`` that are present and not null."""
    if not isinstance(obj, Mapping):
        return {}
    return {k: obj[k] for k in keys if obj.get(k) is not None}


def _picks(items: Any, *keys: str) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        return []
    return [_pick(item, *keys) for item in items]


def provider_errors(raw: Any) -> tuple[ReportedError, ...]:
    """Meta's ``errors`` array (``error_data.details`` flattened)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PartRejected("errors is not an array")
    flat = [
        {
            **_pick(err, "code", "title", "message"),
            **_pick(err.get("error_data") if isinstance(err, Mapping) else None, "details"),
        }
        for err in raw
    ]
    try:
        return _ERRORS.validate_python(flat)
    except ValidationError as exc:
        raise PartRejected(f"errors: {describe(exc)}") from exc


def _media(kind: str, *extra: str) -> Callable[[Json], dict[str, Any]]:
    def build(msg: Json) -> dict[str, Any]:
        obj = as_object(msg.get(kind), kind)
        media = _pick(obj, "id", "mime_type", "sha256", "caption")
        url = obj.get("url") or obj.get("link")
        if url is not None:
            media["url"] = url
        return {"media": media, **_pick(obj, *extra)}

    return build


def _text(msg: Json) -> dict[str, Any]:
    return _pick(as_object(msg.get("text"), "text"), "body")


def _location(msg: Json) -> dict[str, Any]:
    return _pick(
        as_object(msg.get("location"), "location"),
        "latitude",
        "longitude",
        "name",
        "address",
        "url",
    )


def _contact_card(card: Any) -> dict[str, Any]:
    return {
        "name": _pick(
            card.get("name") if isinstance(card, Mapping) else None,
            "formatted_name",
            "first_name",
            "last_name",
            "middle_name",
            "suffix",
            "prefix",
        ),
        "phones": _picks(card.get("phones"), "phone", "wa_id", "type"),
        "emails": _picks(card.get("emails"), "email", "type"),
        "urls": _picks(card.get("urls"), "url", "type"),
        "addresses": _picks(
            card.get("addresses"),
            "street",
            "city",
            "state",
            "zip",
            "country",
            "country_code",
            "type",
        ),
        **(
            {"org": _pick(card["org"], "company", "department", "title")} if card.get("org") else {}
        ),
        **_pick(card, "birthday"),
    }


def _contacts(msg: Json) -> dict[str, Any]:
    cards = msg.get("contacts")
    if not isinstance(cards, list) or not all(isinstance(c, Mapping) for c in cards):
        raise PartRejected("contacts is missing or not an array of objects")
    return {"contacts": [_contact_card(card) for card in cards]}


def _reaction(msg: Json) -> dict[str, Any]:
    obj = as_object(msg.get("reaction"), "reaction")
    fields = _pick(obj, "message_id")
    # Meta signals a removed reaction with an empty (or absent) emoji.
    if obj.get("emoji"):
        fields["emoji"] = obj["emoji"]
    return fields


#: Interactive reply kinds and the fields each carries.
_INTERACTIVE_REPLIES: dict[str, tuple[str, ...]] = {
    "button_reply": ("id", "title"),
    "list_reply": ("id", "title", "description"),
    "nfm_reply": ("name", "body", "response_json"),
}


def _interactive(msg: Json) -> dict[str, Any]:
    obj = as_object(msg.get("interactive"), "interactive")
    kind = obj.get("type")
    keys = _INTERACTIVE_REPLIES.get(kind) if isinstance(kind, str) else None
    if not isinstance(kind, str) or keys is None:
        raise PartRejected(f"unknown interactive type {kind!r}")
    reply = _pick(as_object(obj.get(kind), f"interactive.{kind}"), *keys)
    return {"reply": {"type": kind, **reply}}


def _button(msg: Json) -> dict[str, Any]:
    return _pick(as_object(msg.get("button"), "button"), "payload", "text")


def _order(msg: Json) -> dict[str, Any]:
    obj = as_object(msg.get("order"), "order")
    return {
        **_pick(obj, "catalog_id", "text"),
        "product_items": _picks(
            obj.get("product_items"), "product_retailer_id", "quantity", "item_price", "currency"
        ),
    }


def _system(msg: Json) -> dict[str, Any]:
    obj = as_object(msg.get("system"), "system")
    fields = _pick(obj, "body", "identity", "customer")
    if obj.get("type") is not None:
        fields["system_type"] = obj["type"]
    # ``new_wa_id`` since Graph v12; ``wa_id`` before.
    new_wa_id = obj.get("new_wa_id", obj.get("wa_id"))
    if new_wa_id is not None:
        fields["new_wa_id"] = address_of(new_wa_id, "system.new_wa_id")
    return fields


def _unsupported(msg: Json) -> dict[str, Any]:
    return {"type": "unsupported", "errors": provider_errors(msg.get("errors"))}


_BODIES: dict[str, Callable[[Json], dict[str, Any]]] = {
    "text": _text,
    "image": _media("image"),
    "audio": _media("audio", "voice"),
    "video": _media("video"),
    "document": _media("document", "filename"),
    "sticker": _media("sticker", "animated"),
    "location": _location,
    "contacts": _contacts,
    "reaction": _reaction,
    "interactive": _interactive,
    "button": _button,
    "order": _order,
    "system": _system,
    "unsupported": _unsupported,
    # Graph API versions before v16 called unsupported messages "unknown".
    "unknown": _unsupported,
}

#: Message ``type`` values this module understands.
KNOWN_TYPES: frozenset[str] = frozenset(_BODIES)


def _context(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    obj = as_object(raw, "context")
    context: dict[str, Any] = _pick(obj, "forwarded", "frequently_forwarded")
    if obj.get("id") is not None:
        context["message_id"] = obj["id"]
    if obj.get("from") is not None:
        context["sender"] = address_of(obj["from"], "context.from")
    if obj.get("referred_product") is not None:
        context["referred_product"] = _pick(
            obj["referred_product"], "catalog_id", "product_retailer_id"
        )
    return context


_REFERRAL_KEYS = (
    "source_url",
    "source_type",
    "source_id",
    "headline",
    "body",
    "media_type",
    "image_url",
    "video_url",
    "thumbnail_url",
    "ctwa_clid",
)


def message_body(msg: Json) -> InboundMessage:
    """The typed body of one WhatsApp message object; :class:`PartRejected` when its
    type is unknown or a required field is missing or invalid."""
    kind = msg.get("type")
    build = _BODIES.get(kind) if isinstance(kind, str) else None
    if build is None:
        raise PartRejected(f"unknown message type {kind!r}")
    fields: dict[str, Any] = {"type": kind, **build(msg)}
    context = _context(msg.get("context"))
    if context is not None:
        fields["context"] = context
    if msg.get("referral") is not None:
        fields["referral"] = _pick(as_object(msg["referral"], "referral"), *_REFERRAL_KEYS)
    try:
        return _MESSAGE.validate_python(fields)
    except ValidationError as exc:
        raise PartRejected(f"{kind} message: {describe(exc)}") from exc
