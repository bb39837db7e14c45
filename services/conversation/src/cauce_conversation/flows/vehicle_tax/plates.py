"""Colombian plates: find one in what the customer wrote and normalise it.

Cars are ``ABC123`` (three letters, three digits), motorcycles ``ABC12D`` (three
letters, two digits, a letter). Customers write them in every way: lower case, with
spaces, dashes or dots (``abc 123``, ``ABC-123``, ``abc.12.d``), inside a sentence
("mi placa es hho137"). We forgive all of that and return ``ABC123``.
"""

from __future__ import annotations

import re
import unicodedata

#: What may sit between the parts of a plate: spaces, dashes, dots, underscores.
_SEPARATORS = r"[\s.\-_]*"
_PLATE_IN_TEXT = re.compile(
    rf"(?<![A-Z0-9])([A-Z]{{3}}){_SEPARATORS}([0-9]{{2}}){_SEPARATORS}([0-9A-Z])(?![A-Z0-9])"
)
_PLATE = re.compile(r"^[A-Z]{3}[0-9]{2}[0-9A-Z]$")
_SEPARATOR_CHARS = re.compile(r"[\s.\-_]+")

#: Examples shown to the customer: a car and a motorcycle.
CAR_EXAMPLE = "ABC123"
MOTORCYCLE_EXAMPLE = "ABC12D"


def _fold(text: str) -> str:
    """Upper case without accents (``ñ`` -> ``N``), so ``hhó137`` still reads."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def is_plate(value: str) -> bool:
    """True when ``value`` already is a normalised car or motorcycle plate."""
    return _PLATE.fullmatch(value) is not None


def normalize_plate(text: str) -> str | None:
    """The plate ``text`` is (the whole of it, separators dropped), or ``None``."""
    candidate = _SEPARATOR_CHARS.sub("", _fold(text.strip()))
    return candidate if is_plate(candidate) else None


def find_plate(text: str) -> str | None:
    """The first plate written anywhere in ``text``, normalised, or ``None``."""
    whole = normalize_plate(text)
    if whole is not None:
        return whole
    match = _PLATE_IN_TEXT.search(_fold(text))
    if match is None:
        return None
    return "".join(match.groups())
