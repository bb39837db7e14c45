"""A model's answer made without a model: JSON of the asked-for shape, filled from the
transcript, so a client's request building and answer reading are tested for real."""

from __future__ import annotations

import re
from typing import Any

#: Text fields get a sentence naming what the fake saw (the last customer line).
_CUSTOMER_LINE = re.compile(r"\] Cliente: (.*)$", re.MULTILINE)


def tokens(text: str) -> int:
    """A stand-in for a tokenizer: words and punctuation runs."""
    return len(re.findall(r"\w+|[^\w\s]+", text))


def fill(schema: dict[str, Any], transcript: str, field: str = "") -> Any:
    """An instance of ``schema`` (JSON Schema, either case of ``type``)."""
    kind = str(schema.get("type", "string")).lower()
    if kind == "object":
        properties: dict[str, Any] = schema.get("properties", {})
        return {name: fill(sub, transcript, name) for name, sub in properties.items()}
    if kind == "array":
        return [fill(schema.get("items", {}), transcript, field)] if field == "plates" else []
    if "enum" in schema:
        return schema["enum"][len(transcript) % len(schema["enum"])]
    if kind in ("integer", "number"):
        return 0
    if kind == "boolean":
        return False
    if field == "plates":
        found = re.search(r"\b[A-Z]{3}\s?\d{2}[0-9A-Z]\b", transcript)
        return found.group(0) if found else "AAA000"
    said = _CUSTOMER_LINE.findall(transcript)
    last = said[-1][:80] if said else "sin mensajes"
    return f"[modelo de prueba] {field or 'texto'}: el cliente dijo \u00ab{last}\u00bb"
