"""Phone numbers as an inbox may show them: enough to recognise, not to dial.

Agents need to tell two customers apart, not to copy their numbers out of the tool
(replies go through the platform, which knows the address).
"""

from __future__ import annotations

import re
from typing import Any

_NON_DIGITS = re.compile(r"\D")
#: Colombian mobile numbers: country code 57 and ten digits (``3XX XXX XXXX``).
_COLOMBIAN = re.compile(r"^57\d{10}$")
#: Payload keys whose string values are phone addresses (contracts and provider JSON).
PHONE_KEYS = frozenset(
    {"address", "contact_address", "recipient", "phone", "sender", "wa_id", "from", "to"}
)


def mask_phone(address: str) -> str:
    """``573001234567`` -> ``+57 *** *** 4567``: only the last four digits stay.

    Colombian numbers keep their country code (every customer has it, it tells nothing);
    other numbers show only their last four digits.
    """
    digits = _NON_DIGITS.sub("", address)
    if _COLOMBIAN.match(digits):
        return f"+57 *** *** {digits[-4:]}"
    if len(digits) <= 4:
        return "***"
    return f"*** {digits[-4:]}"


def redact_phones(value: Any) -> Any:
    """A copy of a JSON ``value`` with phone-valued fields masked, at any depth."""
    if isinstance(value, dict):
        return {
            key: mask_phone(item)
            if key in PHONE_KEYS and isinstance(item, str)
            else redact_phones(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_phones(item) for item in value]
    return value


#: Runs of 7 or more digits (spaces, dots and dashes allowed between): phone-like;
#: not an amount (``$1.250.000``) nor the middle of a longer number.
_PHONE_IN_TEXT = re.compile(r"(?<![$\d.,])\+?\d(?:[\s.-]?\d){6,}")


def mask_phones_in_text(text: str) -> str:
    """Free text with every phone-like run of digits masked (what leaves the service
    for a model never carries a customer's number in clear)."""
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)


#: A link: what a model needs is that there was one, and to where; its path and query
#: (payment tokens, signed media links) stay here.
_LINK = re.compile(r"\bhttps?://([^/\s?#]+)[^\s]*", re.IGNORECASE)
#: A long run of letters and digits mixing both: an access token, an API key, a
#: reference a customer pasted. Words and plates are shorter or lack digits.
_TOKEN = re.compile(r"\b(?=[A-Za-z0-9_\-]*\d)(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{24,}\b")


def mask_secrets_in_text(text: str) -> str:
    """Free text as a model may read it: phone numbers masked, links cut to their host
    and token-like strings replaced (``[token]``)."""
    text = _LINK.sub(lambda m: f"https://{m.group(1)}/…", text)
    text = _TOKEN.sub("[token]", text)
    return mask_phones_in_text(text)
