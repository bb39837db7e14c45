"""``GET /inbox/stream``: the conversation service's live chat changes, relayed to the
browser (``EventSource`` cannot send the user's token; the console adds it). Each
change is re-sent as a ``chat`` event: the list refreshes, and so does the open chat
when the event names it (``console.js``); the upstream's ids pass through, so a
reconnect resumes with ``Last-Event-ID``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from cauce_console.backend import Visit
from cauce_console.bootstrap import VisitDep

router = APIRouter(include_in_schema=False)


async def relay(visit: Visit, last_event_id: str | None) -> AsyncIterator[bytes]:
    headers = visit.authorization()
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    url = visit.backends.url("conversation", "/api/chats/stream")
    try:
        async with visit.backends.http.stream(
            "GET", url, headers=headers, timeout=httpx.Timeout(10, read=None)
        ) as upstream:
            if upstream.status_code != 200:
                yield b"event: signed-out\ndata: {}\n\n"
                return
            event_id, data = None, None
            async for line in upstream.aiter_lines():
                if line.startswith("id:"):
                    event_id = line[3:].strip()
                elif line.startswith("data:"):
                    data = line[5:].strip()
                elif line.startswith(":"):
                    yield b": ping\n\n"
                elif line == "" and data is not None:
                    yield _events(event_id, data)
                    event_id, data = None, None
    except httpx.TransportError:
        yield b"event: offline\ndata: {}\n\n"


def _events(event_id: str | None, data: str) -> bytes:
    try:
        json.loads(data)  # only well-formed changes reach the page
    except ValueError:
        return b""
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: chat\ndata: {data}\n\n".encode()


@router.get("/inbox/stream")
async def stream(
    visit: VisitDep, last_event_id: Annotated[str | None, Header()] = None
) -> StreamingResponse:
    return StreamingResponse(
        relay(visit, last_event_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
