"""The 24-hour customer-service window of the Graph fake: Meta lets free-form messages
through only within 24 h of the customer's last message, so the fake remembers when each
customer last wrote to each business number.

It also keeps Meta's free entry points: a customer who writes from a click-to-WhatsApp
ad or a Page's call to action (a message with a ``referral``) and gets an answer within
24 h opens, with that answer, 72 h in which every message to them is free.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter
from pydantic import BaseModel, Field

from cauce_devstack.sandbox.bootstrap import SandboxDep


def wa_id_of(phone: str) -> str:
    """The digits of a phone number as written by a client (``+57 300`` -> ``57300``)."""
    return "".join(c for c in phone if c.isdigit())


ENTRY_POINT_REPLY = timedelta(hours=24)
"""How long after a message from an entry point the business's answer opens one."""
FREE_ENTRY_POINT = timedelta(hours=72)
"""How long a free entry point stays open from that answer."""


class ServiceWindows:
    """Last inbound time per (business number, customer), and free entry points."""

    def __init__(self, hours: float = 24.0) -> None:
        self.length = timedelta(hours=hours)
        self._last_inbound: dict[tuple[str, str], datetime] = {}
        self._entry_points: dict[tuple[str, str], datetime] = {}
        self._free_entry_points: dict[tuple[str, str], datetime] = {}

    def record(
        self,
        phone_number_id: str,
        wa_id: str,
        at: datetime | None = None,
        *,
        entry_point: bool = False,
    ) -> None:
        """The customer wrote (``entry_point``: from an ad or a Page's call to action)."""
        key = (phone_number_id, wa_id_of(wa_id))
        self._last_inbound[key] = at or datetime.now(UTC)
        if entry_point:
            self._entry_points[key] = self._last_inbound[key]

    def close(self, phone_number_id: str, wa_id: str) -> bool:
        key = (phone_number_id, wa_id_of(wa_id))
        self._entry_points.pop(key, None)
        self._free_entry_points.pop(key, None)
        return self._last_inbound.pop(key, None) is not None

    def free_entry_point(
        self, phone_number_id: str, wa_id: str, now: datetime | None = None
    ) -> bool:
        """Whether a message the business sends now is free as a free entry point: one
        is open, or this message answers an entry point within 24 h and opens one."""
        key = (phone_number_id, wa_id_of(wa_id))
        now = now or datetime.now(UTC)
        opened = self._free_entry_points.get(key)
        if opened is not None and now - opened < FREE_ENTRY_POINT:
            return True
        came = self._entry_points.get(key)
        if came is not None and now - came < ENTRY_POINT_REPLY:
            self._free_entry_points[key] = now
            del self._entry_points[key]
            return True
        return False

    def last_inbound(self, phone_number_id: str, wa_id: str) -> datetime | None:
        return self._last_inbound.get((phone_number_id, wa_id_of(wa_id)))

    def is_open(self, phone_number_id: str, wa_id: str, now: datetime | None = None) -> bool:
        last = self.last_inbound(phone_number_id, wa_id)
        return last is not None and (now or datetime.now(UTC)) - last < self.length

    def entries(self) -> list[tuple[str, str, datetime]]:
        return [(pnid, wa_id, at) for (pnid, wa_id), at in self._last_inbound.items()]

    def clear(self) -> int:
        count = len(self._last_inbound)
        self._last_inbound.clear()
        self._entry_points.clear()
        self._free_entry_points.clear()
        return count


class WindowUpdate(BaseModel):
    """Open (optionally back-dated) or close one customer's window."""

    wa_id: str = Field(pattern=r"^\+?[0-9 ()\-]{5,30}$")
    phone_number_id: str | None = None
    """Defaults to the sandbox's default business number."""
    open: bool = True
    last_inbound_at: datetime | None = None
    """When ``open``: the customer's last message time (default now; 25 h ago = expired)."""


class WindowState(BaseModel):
    phone_number_id: str
    wa_id: str
    last_inbound_at: datetime | None
    open: bool


router = APIRouter(prefix="/sandbox/window", tags=["sandbox"])


@router.post("", response_model=WindowState)
async def set_window(update: WindowUpdate, sandbox: SandboxDep) -> WindowState:
    """Open (optionally back-dated) or close one customer's window; the customer
    simulator opens it on every inbound message by itself."""
    windows = sandbox.service_windows
    pnid = update.phone_number_id or sandbox.settings.default_phone_number_id
    if update.open:
        at = update.last_inbound_at
        windows.record(pnid, update.wa_id, at.astimezone(UTC) if at is not None else None)
    else:
        windows.close(pnid, update.wa_id)
    return WindowState(
        phone_number_id=pnid,
        wa_id=wa_id_of(update.wa_id),
        last_inbound_at=windows.last_inbound(pnid, update.wa_id),
        open=windows.is_open(pnid, update.wa_id),
    )


@router.get("", response_model=list[WindowState])
async def list_windows(sandbox: SandboxDep) -> list[WindowState]:
    """When each customer last wrote to each business number, and whether the window
    is still open."""
    windows = sandbox.service_windows
    return [
        WindowState(
            phone_number_id=pnid,
            wa_id=wa_id,
            last_inbound_at=at,
            open=windows.is_open(pnid, wa_id),
        )
        for pnid, wa_id, at in windows.entries()
    ]


@router.delete("")
async def clear_windows(sandbox: SandboxDep) -> dict[str, int]:
    return {"deleted": sandbox.service_windows.clear()}
