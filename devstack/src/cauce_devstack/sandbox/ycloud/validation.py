"""What the YCloud fake accepts as a message: YCloud's envelope around Meta's content
objects, the latter checked with the Graph fake's schema since YCloud passes them on."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from cauce_devstack.sandbox.meta.message_schema import parse_request
from cauce_devstack.sandbox.ycloud.errors import param_invalid

if TYPE_CHECKING:
    from cauce_devstack.sandbox.settings import SandboxSettings

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
MESSAGE_TYPES = frozenset(
    {
        "text",
        "image",
        "video",
        "audio",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "template",
        "reaction",
    }
)
TOP_LEVEL = frozenset({"from", "to", "type", "context", "externalId"})


def validate_message(body: Any, settings: SandboxSettings) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise param_invalid("The request body must be a JSON object.")
    for field in ("from", "to"):
        value = body.get(field)
        if not isinstance(value, str) or not E164.match(value):
            raise param_invalid(f"'{field}' must be a phone number in E.164 format.", field)
    if settings.ycloud_sender_numbers and body["from"] not in settings.ycloud_sender_numbers:
        raise param_invalid("'from' is not a WhatsApp phone number of this account.", "from")
    kind = body.get("type")
    if kind not in MESSAGE_TYPES:
        raise param_invalid(f"'type' must be one of {sorted(MESSAGE_TYPES)}.", "type")
    unknown = set(body) - TOP_LEVEL - {kind}
    if unknown:
        raise param_invalid(f"Unknown field(s): {sorted(unknown)}.", sorted(unknown)[0])
    external_id = body.get("externalId")
    if external_id is not None and (not isinstance(external_id, str) or len(external_id) > 256):
        raise param_invalid(
            "'externalId' must be a string of at most 256 characters.", "externalId"
        )
    meta = {
        "messaging_product": "whatsapp",
        "to": body["to"],
        "type": kind,
        kind: body.get(kind),
    }
    if "context" in body:
        meta["context"] = body["context"]
    try:
        parse_request(meta)
    except Exception as error:
        details = getattr(error, "details", None) or str(error)
        raise param_invalid(str(details), str(kind)) from None
    return body
