"""Opaque keyset cursors: where the previous page ended, as ``(timestamp, id)``.

A cursor is URL-safe base64 of a small JSON array ``[kind, iso_timestamp, id]``. The
``kind`` keeps a message cursor from being taken for a conversation cursor. Keyset
(not offset) paging means inserts between two page fetches never shift an item into a
page twice or out of every page.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Literal

CursorKind = Literal["conversations", "messages"]


class InvalidCursor(ValueError):
    """A cursor that this store did not issue (garbled, or from another list)."""


def encode_cursor(kind: CursorKind, at: datetime, item_id: str) -> str:
    raw = json.dumps([kind, at.isoformat(), item_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: CursorKind, cursor: str) -> tuple[datetime, str]:
    """The ``(timestamp, id)`` a cursor of ``kind`` points after; :class:`InvalidCursor`
    for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found_kind, at, item_id = json.loads(raw)
        parsed = datetime.fromisoformat(at)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidCursor("not a cursor issued by this API") from exc
    if found_kind != kind or not isinstance(item_id, str) or parsed.tzinfo is None:
        raise InvalidCursor(f"not a cursor of the {kind} list")
    return parsed, item_id
