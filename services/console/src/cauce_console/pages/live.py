"""Live pages: a service's Server-Sent Events relayed to the browser (``EventSource``
cannot send the user's token; the console adds it), each event re-sent under one name
the page listens for. Upstream ids pass through, so a reconnect resumes with
``Last-Event-ID``.

- ``GET /inbox/stream``: the conversation's chat changes, as ``chat`` (the list
  refreshes, and so does the open chat when the event names it: ``console.js``).
- ``GET /campaigns/{id}/stream``: the notifier's events of one campaign, as
  ``campaign`` (its figures refresh and the chart gets a point).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from cauce_console.backend import Service, Visit
from cauce_console.bootstrap import VisitDep

router = APIRouter(include_in_schema=False)


async def relay(
    visit: Visit, service: Service, path: str, name: str, last_event_id: str | None
) -> AsyncIterator[bytes]:
    headers = visit.authorization()
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    url = visit.backends.url(service, path)
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
                    yield _event(name, event_id, data)
                    event_id, data = None, None
    except httpx.TransportError:
        yield b"event: offline\ndata: {}\n\n"


def _event(name: str, event_id: str | None, data: str) -> bytes:
    try:
        json.loads(data)  # only well-formed events reach the page
    except ValueError:
        return b""
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {name}\ndata: {data}\n\n".encode()


def _streaming(events: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/inbox/stream")
async def chats(
    visit: VisitDep, last_event_id: Annotated[str | None, Header()] = None
) -> StreamingResponse:
    return _streaming(relay(visit, "conversation", "/api/chats/stream", "chat", last_event_id))


@router.get("/campaigns/{campaign_id}/stream")
async def campaign(
    visit: VisitDep, campaign_id: uuid.UUID, last_event_id: Annotated[str | None, Header()] = None
) -> StreamingResponse:
    path = f"/api/v1/events/campaigns/{campaign_id}/stream"
    return _streaming(relay(visit, "notifier", path, "campaign", last_event_id))
