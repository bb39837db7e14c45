"""Every request the sandbox's fakes received, in order, so tests and ``make demo`` see
exactly what a service sent. It lives in memory: restarting the sandbox empties it.
"""

from __future__ import annotations

import asyncio
import bisect
import builtins
import contextlib
import itertools
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from cauce_devstack.sandbox.bootstrap import SandboxDep


class OutboxEntry(BaseModel):
    """One accepted provider request."""

    seq: int
    provider: Literal["graph", "chattigo", "ycloud", "sci", "odoo", "gemini", "openai"] = "graph"
    kind: Literal[
        "message",
        "read",
        "login",
        "webhook_registration",
        "refused",
        "debt_lookup",
        "transaction",
        "payment",
        "rpc",
        "completion",
    ]
    api_version: str = ""
    """Graph API version in the path; empty for providers without one."""
    phone_number_id: str
    """The business number: Meta phone_number_id, Chattigo DID, YCloud sender digits;
    the database name for Odoo."""
    to: str | None = None
    """As the client wrote it (``None`` for mark-as-read)."""
    type: str
    message_id: str
    """The wamid we answered with, or the one marked as read."""
    payload: dict[str, Any]
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    status: int = 200
    """The HTTP status the fake answered."""
    error: Any = None
    """For a refused request: the error body the fake answered with."""


#: An entry as the outbox keeps it: ``(seq, provider, kind, phone_number_id, digits of
#: to, the entry as JSON)``. A plain tuple of strings, numbers and bytes, which the garbage
#: collector stops tracking after its first pass (it untracks exact tuples only, not named
#: ones): a fake holding tens of thousands of requests must not pause its event loop for
#: long full collections, or the requests queued meanwhile arrive bunched and overflow
#: the throughput window it measures.
_Stored = tuple[int, str, str, str, str, bytes]


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


class Outbox:
    """Append-only record of accepted requests, oldest first."""

    def __init__(self) -> None:
        self._stored: list[_Stored] = []
        self._seq = itertools.count(1)
        self._arrived = asyncio.Event()

    def record(self, **fields: Any) -> OutboxEntry:
        entry = OutboxEntry(seq=next(self._seq), **fields)
        self._stored.append(
            (
                entry.seq,
                entry.provider,
                entry.kind,
                entry.phone_number_id,
                _digits(entry.to or ""),
                entry.__pydantic_serializer__.to_json(entry),
            )
        )
        # Wake everyone waiting for a new entry; later waiters get a fresh event.
        self._arrived.set()
        self._arrived = asyncio.Event()
        return entry

    def list(
        self,
        phone_number_id: str | None = None,
        to: str | None = None,
        provider: str | None = None,
        include_refused: bool = False,
        after_seq: int = 0,
    ) -> list[OutboxEntry]:
        digits = _digits(to) if to else None
        # Entries are in seq order: skip the ones at or before ``after_seq`` at once.
        start = bisect.bisect_right(self._stored, after_seq, key=lambda stored: stored[0])
        return [
            OutboxEntry.model_validate_json(entry_json)
            for _, entry_provider, kind, number, to_digits, entry_json in self._stored[start:]
            if (include_refused or kind != "refused")
            and (phone_number_id is None or number == phone_number_id)
            and (provider is None or entry_provider == provider)
            and (digits is None or to_digits == digits)
        ]

    async def wait(self, wait_s: float, **filters: Any) -> builtins.list[OutboxEntry]:
        """:meth:`list` with ``filters``; when nothing matches, wait up to ``wait_s`` for
        a matching entry to arrive (a long poll instead of a client polling in a loop)."""
        deadline = asyncio.get_running_loop().time() + wait_s
        while True:
            arrived = self._arrived
            found = self.list(**filters)
            remaining = deadline - asyncio.get_running_loop().time()
            if found or remaining <= 0:
                return found
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), remaining)

    def clear(self) -> int:
        count = len(self._stored)
        self._stored.clear()
        return count


router = APIRouter(prefix="/sandbox/outbox", tags=["sandbox"])


@router.get("", response_model=list[OutboxEntry])
async def read_outbox(
    sandbox: SandboxDep,
    phone_number_id: str | None = None,
    to: str | None = None,
    provider: str | None = None,
    include_refused: bool = False,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    wait_s: Annotated[float, Query(ge=0, le=60)] = 0,
) -> list[OutboxEntry]:
    """Accepted requests (and refused ones with ``include_refused``: any 4xx/5xx answer
    of a provider path, a missing token included, with the status and the error the fake
    answered), newest last; ``to`` matches on digits (``+57 300`` = ``57300``).
    ``after_seq`` leaves out entries up to that ``seq``; ``wait_s`` waits that long for a
    match when there is none yet."""
    return await sandbox.outbox.wait(
        wait_s,
        phone_number_id=phone_number_id,
        to=to,
        provider=provider,
        include_refused=include_refused,
        after_seq=after_seq,
    )


@router.delete("")
async def clear_outbox(sandbox: SandboxDep) -> dict[str, int]:
    return {"deleted": sandbox.outbox.clear()}
