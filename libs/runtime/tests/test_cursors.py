"""Keyset cursors: round trips, and refusals of anything this API did not issue."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest

from cauce_runtime import InvalidCursor, decode_cursor, encode_cursor

AT = datetime(2026, 12, 6, 10, 30, tzinfo=UTC)


def test_a_cursor_round_trips_its_key() -> None:
    item = uuid.uuid4()
    cursor = encode_cursor("messages", AT, item)
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor  # URL-safe
    assert decode_cursor("messages", cursor, datetime, uuid.UUID) == (AT, item)
    assert decode_cursor("leads", encode_cursor("leads", "acme", "mc-7"), str, str) == (
        "acme",
        "mc-7",
    )
    assert decode_cursor("n", encode_cursor("n", 42), int) == (42,)


def _raw(parts: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        _raw({"a": 1}),  # not a list
        encode_cursor("conversations", AT, "c1"),  # another list's cursor
        encode_cursor("messages", AT),  # too short
        _raw(["messages", "2026-12-06T10:30:00", "m1"]),  # a time without its offset
        _raw(["messages", "yesterday", "m1"]),
        _raw(["messages", AT.isoformat(), 7]),  # wrong type at a place
        _raw(["messages", AT.isoformat(), True]),
    ],
)
def test_anything_else_is_an_invalid_cursor(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor("messages", cursor, datetime, str)


def test_a_bool_is_not_an_int_and_a_garbled_uuid_is_refused() -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor("n", _raw(["n", True]), int)
    with pytest.raises(InvalidCursor):
        decode_cursor("u", _raw(["u", "not-a-uuid"]), uuid.UUID)
    with pytest.raises(InvalidCursor):
        decode_cursor("u", _raw(["u", 12]), uuid.UUID)
