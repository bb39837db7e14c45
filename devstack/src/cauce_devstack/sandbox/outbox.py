"""What the sandbox's fake providers accepted: ``GET/DELETE /sandbox/outbox``.

Tests and ``make demo`` read it to see exactly what a service sent, in order.
It lives in memory: restarting the sandbox empties it.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field


class OutboxEntry(BaseModel):
    """One accepted provider request."""

    seq: int
    provider: Literal["graph", "chattigo", "ycloud"] = "graph"
    kind: Literal["message", "read", "login", "webhook_registration"]
    api_version: str = ""
    """Graph API version in the path; empty for providers without one."""
    phone_number_id: str
    """The business number: Meta phone_number_id, Chattigo DID, YCloud sender digits."""
    to: str | None = None
    """As the client wrote it (``None`` for mark-as-read)."""
    type: str
    message_id: str
    """The wamid we answered with, or the one marked as read."""
    payload: dict[str, Any]
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class Outbox:
    """Append-only record of accepted requests, oldest first."""

    def __init__(self) -> None:
        self._entries: list[OutboxEntry] = []
        self._seq = itertools.count(1)

    def record(self, **fields: Any) -> OutboxEntry:
        entry = OutboxEntry(seq=next(self._seq), **fields)
        self._entries.append(entry)
        return entry

    def list(
        self,
        phone_number_id: str | None = None,
        to: str | None = None,
        provider: str | None = None,
    ) -> list[OutboxEntry]:
        digits = "".join(c for c in to if c.isdigit()) if to else None
        return [
            entry
            for entry in self._entries
            if (phone_number_id is None or entry.phone_number_id == phone_number_id)
            and (provider is None or entry.provider == provider)
            and (digits is None or "".join(c for c in entry.to or "" if c.isdigit()) == digits)
        ]

    def clear(self) -> int:
        count = len(self._entries)
        self._entries.clear()
        return count


def get_outbox(request: Request) -> Outbox:
    outbox: Outbox = request.app.state.outbox
    return outbox


router = APIRouter(prefix="/sandbox/outbox", tags=["sandbox"])


@router.get("", response_model=list[OutboxEntry])
async def read_outbox(
    request: Request,
    phone_number_id: str | None = None,
    to: str | None = None,
    provider: str | None = None,
) -> list[OutboxEntry]:
    """Accepted requests, newest last; ``to`` matches on digits (``+57 300`` = ``57300``)."""
    return get_outbox(request).list(phone_number_id=phone_number_id, to=to, provider=provider)


@router.delete("")
async def clear_outbox(request: Request) -> dict[str, int]:
    return {"deleted": get_outbox(request).clear()}
