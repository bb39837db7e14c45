"""Every request the sandbox's fake providers received: ``GET/DELETE /sandbox/outbox``.

Tests and ``make demo`` read it to see exactly what a service sent, in order. Accepted
requests are recorded by each fake; refused ones (any 4xx/5xx answer of a provider
path, a missing token included) by :class:`RefusalRecorder`, with the status and the
error the fake answered. ``GET /sandbox/outbox`` lists accepted requests;
``?include_refused=true`` lists refused ones too. It lives in memory: restarting the
sandbox empties it.
"""

from __future__ import annotations

import asyncio
import bisect
import builtins
import contextlib
import itertools
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class OutboxEntry(BaseModel):
    """One accepted provider request."""

    seq: int
    provider: Literal["graph", "chattigo", "ycloud", "sci", "odoo"] = "graph"
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
#: long full collections, or the requests queued meanwhile arrive bunched and the
#: throughput window it measures overflows (the notifier's 500/s bench saw 130429s from
#: the fake's own 90 ms collections).
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
    include_refused: bool = False,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    wait_s: Annotated[float, Query(ge=0, le=60)] = 0,
) -> list[OutboxEntry]:
    """Accepted requests (and refused ones with ``include_refused``), newest last; ``to``
    matches on digits (``+57 300`` = ``57300``). ``after_seq`` leaves out entries up to
    that ``seq``; ``wait_s`` waits that long for a match when there is none yet."""
    return await get_outbox(request).wait(
        wait_s,
        phone_number_id=phone_number_id,
        to=to,
        provider=provider,
        include_refused=include_refused,
        after_seq=after_seq,
    )


@router.delete("")
async def clear_outbox(request: Request) -> dict[str, int]:
    return {"deleted": get_outbox(request).clear()}


#: Path prefixes of the fake providers, and the provider each belongs to. The Odoo fake
#: (``/odoo/``) records its own refusals: its payloads must lose passwords first, and its
#: JSON-RPC errors are HTTP 200 envelopes this middleware would not see as refusals.
PROVIDER_PREFIXES = {"/graph/": "graph", "/chattigo/": "chattigo", "/ycloud/": "ycloud"}


class RefusalRecorder:
    """ASGI middleware recording every request a fake provider refused (status >= 400)
    in the outbox, whatever refused it: a missing token, a validation rule, a fault."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        provider = _provider_of(scope)
        if provider is None:
            await self.app(scope, receive, send)
            return
        # Read the whole request first (a fake may refuse before reading it), then
        # hand the app the same bytes.
        request_body = bytearray()
        more = True
        while more:
            message = await receive()
            request_body.extend(message.get("body", b""))
            more = message["type"] == "http.request" and message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(request_body), "more_body": False}

        response: dict[str, Any] = {"status": 200, "body": bytearray()}

        async def tee_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
            elif message["type"] == "http.response.body":
                response["body"].extend(message.get("body", b""))
            await send(message)

        await self.app(scope, replay, tee_send)
        if response["status"] >= 400:
            outbox: Outbox = scope["app"].state.outbox
            outbox.record(**_refusal(provider, scope["path"], request_body, response))


def _provider_of(scope: Scope) -> str | None:
    if scope["type"] != "http":
        return None
    path: str = scope.get("path", "")
    return next(
        (name for prefix, name in PROVIDER_PREFIXES.items() if path.startswith(prefix)), None
    )


def _json_or_text(raw: bytes | bytearray) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")


def _refusal(
    provider: str, path: str, body: bytes | bytearray, response: dict[str, Any]
) -> dict[str, Any]:
    payload = _json_or_text(body)
    fields = payload if isinstance(payload, dict) else {}
    segments = path.strip("/").split("/")
    account = segments[2] if provider == "graph" and len(segments) > 2 else ""
    to = fields.get("to") or fields.get("msisdn")
    return {
        "provider": provider,
        "kind": "refused",
        "phone_number_id": account or str(fields.get("did") or fields.get("from") or ""),
        "to": str(to) if to is not None else None,
        "type": str(fields.get("type") or "unknown"),
        "message_id": "",
        "payload": payload if isinstance(payload, dict) else {"raw": payload},
        "status": response["status"],
        "error": _json_or_text(response["body"]),
    }
