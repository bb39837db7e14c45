"""Opaque keyset cursors: where the previous page of a list ended.

A cursor is URL-safe base64 (unpadded) of a small JSON array ``[list, *key]``: the name
of the list it belongs to (so a cursor of one list is refused by another) and the sort
key of the last item returned (a timestamp and an id, say). Keyset paging, unlike
offsets, never shows an item twice or skips one when items are added between pages.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any

#: What a key may hold: text, whole numbers, aware timestamps, UUIDs.
KeyPart = str | int | datetime | uuid.UUID


class InvalidCursor(ValueError):
    """A cursor this API did not issue for this list (garbled, or another list's)."""


def encode_cursor(list_name: str, *key: KeyPart) -> str:
    """The cursor after the item whose sort key is ``key``."""
    parts: list[Any] = [list_name, *(_plain(part) for part in key)]
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(list_name: str, cursor: str, *shape: type[KeyPart]) -> tuple[Any, ...]:
    """The key a cursor of ``list_name`` holds, each part read as the type at its place
    in ``shape`` (``datetime`` must be timezone-aware); :class:`InvalidCursor` else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidCursor("not a cursor issued by this API") from exc
    if not isinstance(found, list) or len(found) != len(shape) + 1 or found[0] != list_name:
        raise InvalidCursor(f"not a cursor of the {list_name} list")
    try:
        return tuple(_read(kind, part) for kind, part in zip(shape, found[1:], strict=True))
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidCursor(f"not a cursor of the {list_name} list") from exc


def _plain(part: KeyPart) -> str | int:
    if isinstance(part, datetime):
        return part.isoformat()
    if isinstance(part, uuid.UUID):
        return str(part)
    return part


def _read(kind: type[KeyPart], part: Any) -> KeyPart:
    if kind is datetime:
        at = datetime.fromisoformat(part)
        if at.tzinfo is None:
            raise ValueError("a cursor's time must carry its offset")
        return at
    if kind is uuid.UUID:
        return uuid.UUID(part)
    if kind is int and isinstance(part, int) and not isinstance(part, bool):
        return part
    if kind is str and isinstance(part, str):
        return part
    raise TypeError(f"expected {kind.__name__}")


__all__ = ["InvalidCursor", "KeyPart", "decode_cursor", "encode_cursor"]
