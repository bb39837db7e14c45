"""Phone numbers as people type them into spreadsheets, to E.164.

``+57 300 123 4567``, ``573001234567``, ``(300) 123-4567`` with a default region of
CO, and ``0057...`` all become ``+573001234567``. Validity is libphonenumber's (Google's
metadata: lengths and ranges per country), not a regular expression.
"""

from __future__ import annotations

import phonenumbers

#: Characters people put in numbers that mean nothing.
_NOISE = str.maketrans("", "", " -.()/\u00a0\t")


class InvalidPhone(ValueError):
    """Not a valid phone number, with the reason in words."""


def to_e164(raw: str, default_region: str) -> str:
    """``raw`` as ``+<country><number>``; :class:`InvalidPhone` when it is not a valid
    number. Digits without ``+`` are read in ``default_region`` first and, when that is
    not a valid number there, as an international number missing its ``+``."""
    return normalized(raw, default_region)[0]


def normalized(raw: str, default_region: str) -> tuple[str, str | None]:
    """``(e164, region)``: :func:`to_e164` and the number's region (``CO``), in one parse."""
    text = raw.strip().translate(_NOISE)
    if not text:
        raise InvalidPhone("empty phone number")
    if text.startswith("00"):
        text = "+" + text[2:]
    candidates = [text] if text.startswith("+") else [text, "+" + text]
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, None if candidate[0] == "+" else default_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            return e164, phonenumbers.region_code_for_number(number)
    raise InvalidPhone("not a valid phone number")


def is_region(code: str) -> bool:
    """Whether ``code`` is a region libphonenumber knows (``CO``, ``MX``...)."""
    return code.upper() in phonenumbers.SUPPORTED_REGIONS
