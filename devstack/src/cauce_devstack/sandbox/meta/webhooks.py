"""Builders for WhatsApp Cloud API webhooks, exactly as Meta posts them. Importable on
purpose: tests elsewhere build their fixtures with these functions, and the sandbox's
customer simulator and status callbacks post them.

Typical use::

    msg = inbound_message("573001234567", text("hola"))
    value = messages_value(PNID, "15550000001", [contact("573001234567", "Ana")], [msg])
    payload = webhook([value], waba_id="200000000000001")
    body = encode(payload)
    headers = {"X-Hub-Signature-256": sign(body, app_secret)}

The signature covers the exact bytes sent: whoever checks it must do so on the raw
body, before any parsing or re-serialising.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cauce_contracts.inbound import MESSAGE_TYPES

JSON = dict[str, Any]

#: Meta's inbound message types: exactly the ones the inbound contract types.
INBOUND_MESSAGE_TYPES = MESSAGE_TYPES
STATUSES = ("sent", "delivered", "read", "failed")
SIGNATURE_HEADER = "X-Hub-Signature-256"


def new_message_id() -> str:
    """A fresh id shaped like Meta's ``wamid.`` ids."""
    return "wamid." + base64.b64encode(secrets.token_bytes(30)).decode()


def _media_id() -> str:
    return str(10**15 + secrets.randbelow(9 * 10**15))


def _sha256() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _now() -> str:
    return str(int(time.time()))


def _drop_none(obj: Mapping[str, Any]) -> JSON:
    return {key: value for key, value in obj.items() if value is not None}


# --- message contents: {"type": ..., <type>: {...}} -----------------------------------


def text(body: str) -> JSON:
    return {"type": "text", "text": {"body": body}}


def image(
    caption: str | None = None, *, media_id: str | None = None, mime_type: str = "image/jpeg"
) -> JSON:
    obj = {
        "caption": caption,
        "mime_type": mime_type,
        "sha256": _sha256(),
        "id": media_id or _media_id(),
    }
    return {"type": "image", "image": _drop_none(obj)}


def audio(*, voice: bool = True, media_id: str | None = None, mime_type: str | None = None) -> JSON:
    """A voice note (``voice: true``, ogg/opus) or an audio file."""
    mime = mime_type or ("audio/ogg; codecs=opus" if voice else "audio/mpeg")
    obj = {"mime_type": mime, "sha256": _sha256(), "id": media_id or _media_id(), "voice": voice}
    return {"type": "audio", "audio": obj}


def video(
    caption: str | None = None, *, media_id: str | None = None, mime_type: str = "video/mp4"
) -> JSON:
    obj = {
        "caption": caption,
        "mime_type": mime_type,
        "sha256": _sha256(),
        "id": media_id or _media_id(),
    }
    return {"type": "video", "video": _drop_none(obj)}


def document(
    filename: str = "document.pdf",
    caption: str | None = None,
    *,
    media_id: str | None = None,
    mime_type: str = "application/pdf",
) -> JSON:
    obj = {
        "caption": caption,
        "filename": filename,
        "mime_type": mime_type,
        "sha256": _sha256(),
        "id": media_id or _media_id(),
    }
    return {"type": "document", "document": _drop_none(obj)}


def sticker(*, animated: bool = False, media_id: str | None = None) -> JSON:
    obj = {
        "mime_type": "image/webp",
        "sha256": _sha256(),
        "id": media_id or _media_id(),
        "animated": animated,
    }
    return {"type": "sticker", "sticker": obj}


def location(
    latitude: float,
    longitude: float,
    name: str | None = None,
    address: str | None = None,
    url: str | None = None,
) -> JSON:
    obj = {
        "latitude": latitude,
        "longitude": longitude,
        "name": name,
        "address": address,
        "url": url,
    }
    return {"type": "location", "location": _drop_none(obj)}


def contact_card(
    formatted_name: str, phone: str | None = None, wa_id: str | None = None, **extra: Any
) -> JSON:
    """One shared contact card (``extra``: addresses, emails, org, urls, birthday...)."""
    first, _, last = formatted_name.partition(" ")
    card: JSON = {
        "name": _drop_none(
            {"formatted_name": formatted_name, "first_name": first, "last_name": last or None}
        )
    }
    if phone is not None:
        card["phones"] = [_drop_none({"phone": phone, "wa_id": wa_id, "type": "CELL"})]
    card.update(extra)
    return card


def contacts(*cards: JSON) -> JSON:
    return {"type": "contacts", "contacts": list(cards)}


def reaction(message_id: str, emoji: str | None) -> JSON:
    """A reaction to ``message_id``; ``emoji=None`` is a removal (Meta omits the field)."""
    return {"type": "reaction", "reaction": _drop_none({"message_id": message_id, "emoji": emoji})}


def button_reply(reply_id: str, title: str) -> JSON:
    """The customer tapped a reply button of an interactive message."""
    return {
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}},
    }


def list_reply(reply_id: str, title: str, description: str | None = None) -> JSON:
    """The customer picked a row of a list message."""
    row = _drop_none({"id": reply_id, "title": title, "description": description})
    return {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": row}}


def flow_reply(response: Mapping[str, Any], *, name: str = "flow", body: str = "Sent") -> JSON:
    """A WhatsApp Flow completion (``nfm_reply``)."""
    reply = {"name": name, "body": body, "response_json": json.dumps(dict(response))}
    return {"type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": reply}}


def quick_reply_button(payload: str, button_text: str) -> JSON:
    """The customer tapped a template's quick-reply button (type ``button``)."""
    return {"type": "button", "button": {"payload": payload, "text": button_text}}


def order(
    catalog_id: str, product_items: Sequence[Mapping[str, Any]], note: str | None = None
) -> JSON:
    """A cart from a catalog; items: product_retailer_id, quantity, item_price, currency."""
    obj = {
        "catalog_id": catalog_id,
        "text": note,
        "product_items": [dict(i) for i in product_items],
    }
    return {"type": "order", "order": _drop_none(obj)}


def system_changed_number(new_wa_id: str, body: str | None = None) -> JSON:
    """The customer changed their number (the message's ``from`` is the old one)."""
    obj = {
        "body": body or f"User changed from their old number to {new_wa_id}",
        "new_wa_id": new_wa_id,
        "type": "user_changed_number",
    }
    return {"type": "system", "system": obj}


def unsupported(
    code: int = 131051,
    title: str = "Message type unknown",
    details: str = "Message type is currently not supported.",
) -> JSON:
    """A message Cloud API cannot represent (polls, view-once...), with its errors."""
    error = {"code": code, "title": title, "message": title, "error_data": {"details": details}}
    return {"type": "unsupported", "errors": [error]}


# --- message envelope ------------------------------------------------------------------


def context(
    message_id: str | None = None,
    *,
    business_number: str | None = None,
    forwarded: bool = False,
    frequently_forwarded: bool = False,
    referred_product: Mapping[str, str] | None = None,
) -> JSON:
    """``context``: a reply to ``message_id`` (sent by ``business_number``) or a forward."""
    obj: JSON = _drop_none({"from": business_number, "id": message_id})
    if forwarded:
        obj["forwarded"] = True
    if frequently_forwarded:
        obj["frequently_forwarded"] = True
    if referred_product is not None:
        obj["referred_product"] = dict(referred_product)
    return obj


def referral(
    source_url: str = "https://fb.me/sandbox-ad",
    source_id: str = "120000000000001",
    source_type: str = "ad",
    headline: str = "Paga tu impuesto vehicular",
    body: str = "Escríbenos por WhatsApp",
    media_type: str = "image",
    ctwa_clid: str | None = None,
) -> JSON:
    """``referral``: the customer came from a click-to-WhatsApp ad or post."""
    obj: JSON = {
        "source_url": source_url,
        "source_id": source_id,
        "source_type": source_type,
        "headline": headline,
        "body": body,
        "media_type": media_type,
        f"{media_type}_url": "https://scontent.example/ad-media",
        "ctwa_clid": ctwa_clid or secrets.token_urlsafe(24),
    }
    return obj


def inbound_message(
    wa_id: str,
    content: Mapping[str, Any],
    *,
    message_id: str | None = None,
    timestamp: int | str | None = None,
    context: Mapping[str, Any] | None = None,
    referral: Mapping[str, Any] | None = None,
) -> JSON:
    """The ``messages[]`` item: ``from``, ``id``, ``timestamp``, then the typed content."""
    message: JSON = {
        "from": wa_id,
        "id": message_id or new_message_id(),
        "timestamp": str(timestamp) if timestamp is not None else _now(),
    }
    if context is not None:
        message["context"] = dict(context)
    if referral is not None:
        message["referral"] = dict(referral)
    message.update(content)
    return message


def contact(wa_id: str, name: str) -> JSON:
    """The ``contacts[]`` item naming who sent the messages."""
    return {"profile": {"name": name}, "wa_id": wa_id}


# --- statuses ----------------------------------------------------------------------------


def pricing(
    category: str = "service",
    *,
    billable: bool = False,
    pricing_model: str = "PMP",
    pricing_type: str | None = None,
) -> JSON:
    """A status's ``pricing``; ``pricing_type`` is its ``type`` (per-message pricing,
    since 2025-07-01): ``regular``, ``free_customer_service`` or ``free_entry_point``."""
    obj: JSON = {"billable": billable, "pricing_model": pricing_model, "category": category}
    if pricing_type is not None:
        obj["type"] = pricing_type
    return obj


def conversation(
    origin: str = "service", *, conversation_id: str | None = None, expires_at: int | None = None
) -> JSON:
    obj: JSON = {"id": conversation_id or secrets.token_hex(16), "origin": {"type": origin}}
    if expires_at is not None:
        obj["expiration_timestamp"] = str(expires_at)
    return obj


def status_error(
    code: int = 131047,
    title: str = "Re-engagement message",
    details: str = (
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number."
    ),
) -> JSON:
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }


def status(
    message_id: str,
    status: str,
    recipient_id: str,
    *,
    timestamp: int | str | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    pricing: Mapping[str, Any] | None = None,
    conversation: Mapping[str, Any] | None = None,
    biz_opaque_callback_data: str | None = None,
) -> JSON:
    """One ``statuses[]`` item for a message the business sent."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
    item: JSON = {
        "id": message_id,
        "status": status,
        "timestamp": str(timestamp) if timestamp is not None else _now(),
        "recipient_id": recipient_id,
    }
    if conversation is not None:
        item["conversation"] = dict(conversation)
    if pricing is not None:
        item["pricing"] = dict(pricing)
    if biz_opaque_callback_data is not None:
        item["biz_opaque_callback_data"] = biz_opaque_callback_data
    if errors is not None:
        item["errors"] = [dict(e) for e in errors]
    return item


# --- payload -------------------------------------------------------------------------------


def metadata(phone_number_id: str, display_phone_number: str) -> JSON:
    return {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id}


def messages_value(
    phone_number_id: str,
    display_phone_number: str,
    contacts: Iterable[Mapping[str, Any]],
    messages: Iterable[Mapping[str, Any]],
) -> JSON:
    """A change value carrying inbound messages."""
    return {
        "messaging_product": "whatsapp",
        "metadata": metadata(phone_number_id, display_phone_number),
        "contacts": [dict(c) for c in contacts],
        "messages": [dict(m) for m in messages],
    }


def statuses_value(
    phone_number_id: str, display_phone_number: str, statuses: Iterable[Mapping[str, Any]]
) -> JSON:
    """A change value carrying status updates (no contacts, no messages)."""
    return {
        "messaging_product": "whatsapp",
        "metadata": metadata(phone_number_id, display_phone_number),
        "statuses": [dict(s) for s in statuses],
    }


def webhook(values: Iterable[Mapping[str, Any]], waba_id: str) -> JSON:
    """One entry (one WABA) with a ``messages`` change per value."""
    changes = [{"value": dict(value), "field": "messages"} for value in values]
    return {"object": "whatsapp_business_account", "entry": [{"id": waba_id, "changes": changes}]}


def account_webhook(
    field: str, value: Mapping[str, Any], waba_id: str, *, time: int | None = None
) -> JSON:
    """One entry (one WABA, with the ``time`` Meta stamps on account-level changes) with
    one change of ``field`` (``message_template_status_update``, ``user_preferences``...)."""
    entry: JSON = {"id": waba_id}
    if field != "user_preferences":  # Meta's user_preferences entries carry no time
        entry["time"] = int(time if time is not None else _now())
    entry["changes"] = [{"value": dict(value), "field": field}]
    return {"object": "whatsapp_business_account", "entry": [entry]}


def merge_webhooks(*payloads: Mapping[str, Any]) -> JSON:
    """One POST carrying the entries of several payloads (Meta batches this way)."""
    entries = [entry for payload in payloads for entry in payload["entry"]]
    return {"object": "whatsapp_business_account", "entry": entries}


def encode(payload: Mapping[str, Any]) -> bytes:
    """The bytes to post (compact JSON, non-ASCII escaped as Meta does)."""
    return json.dumps(payload, separators=(",", ":")).encode()


def sign(body: bytes, app_secret: str) -> str:
    """``X-Hub-Signature-256`` header value: ``sha256=`` + HMAC-SHA256(app secret, body)."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


# --- business account changes (templates, limits, preferences) ---------------------------

TEMPLATE_CHANGE_FIELDS = (
    "message_template_status_update",
    "message_template_quality_update",
    "template_category_update",
    "message_template_components_update",
)


def _template_ref(template_id: int | str, name: str, language: str) -> JSON:
    return {
        "message_template_id": int(template_id),
        "message_template_name": name,
        "message_template_language": language,
    }


def template_status_value(
    event: str,
    template_id: int | str,
    name: str,
    language: str,
    *,
    category: str,
    reason: str | None = "NONE",
    disable_date: int | None = None,
    other_info: tuple[str, str] | None = None,
    rejection_info: tuple[str, str] | None = None,
) -> JSON:
    """``message_template_status_update``: ``event`` (APPROVED, REJECTED, PAUSED,
    DISABLED...), ``reason`` (``NONE`` unless rejected; ``None`` when scheduled for
    deletion), ``disable_info`` when disabled, ``other_info`` (title, description) when
    paused, locked or unlocked, ``rejection_info`` (reason, recommendation) when rejected
    for ``INVALID_FORMAT``."""
    value: JSON = {"event": event, **_template_ref(template_id, name, language)}
    value["reason"] = reason
    value["message_template_category"] = category
    if disable_date is not None:
        value["disable_info"] = {"disable_date": disable_date}
    if other_info is not None:
        value["other_info"] = {"title": other_info[0], "description": other_info[1]}
    if rejection_info is not None:
        value["rejection_info"] = {
            "reason": rejection_info[0],
            "recommendation": rejection_info[1],
        }
    return value


def template_quality_value(
    template_id: int | str, name: str, language: str, *, new: str, previous: str
) -> JSON:
    """``message_template_quality_update``: GREEN, YELLOW, RED or UNKNOWN."""
    return {
        "previous_quality_score": previous,
        "new_quality_score": new,
        **_template_ref(template_id, name, language),
    }


def template_category_value(
    template_id: int | str, name: str, language: str, *, new: str, previous: str
) -> JSON:
    """``template_category_update`` for a completed change (Meta's other variant, an
    impending change, carries ``correct_category`` and ``category_update_timestamp``)."""
    return {
        **_template_ref(template_id, name, language),
        "previous_category": previous,
        "new_category": new,
    }


def template_components_value(
    template_id: int | str,
    name: str,
    language: str,
    components: Sequence[Mapping[str, Any]],
) -> JSON:
    """``message_template_components_update`` from a template's components: body text,
    text header, footer, and the URL and phone-number buttons."""
    value: JSON = _template_ref(template_id, name, language)
    by_type = {str(c.get("type", "")).upper(): c for c in components}
    value["message_template_element"] = str(by_type.get("BODY", {}).get("text", ""))
    header = by_type.get("HEADER")
    if header is not None and str(header.get("format", "TEXT")).upper() == "TEXT":
        value["message_template_title"] = str(header.get("text", ""))
    footer = by_type.get("FOOTER")
    if footer is not None:
        value["message_template_footer"] = str(footer.get("text", ""))
    buttons: list[JSON] = []
    for button in by_type.get("BUTTONS", {}).get("buttons", []):
        kind = str(button.get("type", "")).upper()
        if kind == "URL":
            buttons.append(
                {
                    "message_template_button_type": "URL",
                    "message_template_button_text": button.get("text", ""),
                    "message_template_button_url": button.get("url", ""),
                }
            )
        elif kind == "PHONE_NUMBER":
            buttons.append(
                {
                    "message_template_button_type": "PHONE_NUMBER",
                    "message_template_button_text": button.get("text", ""),
                    "message_template_button_phone_number": button.get("phone_number", ""),
                }
            )
    if buttons:
        value["message_template_buttons"] = buttons
    return value


def business_capability_value(
    max_daily_conversations_per_business: int,
    *,
    max_phone_numbers_per_business: int = 20,
    max_phone_numbers_per_waba: int = 20,
) -> JSON:
    """``business_capability_update``: the portfolio's messaging limit (``-1``:
    unlimited) and how many numbers it may have (the defaults are sandbox values)."""
    return {
        "max_daily_conversations_per_business": max_daily_conversations_per_business,
        "max_phone_numbers_per_business": max_phone_numbers_per_business,
        "max_phone_numbers_per_waba": max_phone_numbers_per_waba,
    }


def phone_number_quality_value(
    display_phone_number: str,
    event: str,
    current_limit: str,
    *,
    old_limit: str | None = None,
    max_daily_conversations_per_business: str | None = None,
) -> JSON:
    """``phone_number_quality_update``: ``event`` (UPGRADE, DOWNGRADE, FLAGGED,
    UNFLAGGED, ONBOARDING...), ``old_limit`` only for messaging-limit changes, limits as
    Meta's tier names (``TIER_2K``, ``TIER_UNLIMITED``)."""
    value: JSON = {"display_phone_number": display_phone_number, "event": event}
    if old_limit is not None:
        value["old_limit"] = old_limit
    value["current_limit"] = current_limit
    if max_daily_conversations_per_business is not None:
        value["max_daily_conversations_per_business"] = max_daily_conversations_per_business
    return value


def user_preferences_value(
    phone_number_id: str,
    display_phone_number: str,
    wa_id: str,
    preference: str,
    *,
    name: str | None = None,
    detail: str | None = None,
    timestamp: int | None = None,
) -> JSON:
    """``user_preferences``: the customer stopped or resumed marketing messages."""
    if preference not in ("stop", "resume"):
        raise ValueError(f"preference must be 'stop' or 'resume', not {preference!r}")
    customer: JSON = {"wa_id": wa_id}
    if name is not None:
        customer = {"profile": {"name": name}, "wa_id": wa_id}
    return {
        "messaging_product": "whatsapp",
        "metadata": metadata(phone_number_id, display_phone_number),
        "contacts": [customer],
        "user_preferences": [
            {
                "wa_id": wa_id,
                "detail": detail or f"User requested to {preference} marketing messages",
                "category": "marketing_messages",
                "value": preference,
                "timestamp": int(timestamp if timestamp is not None else _now()),
            }
        ],
    }
