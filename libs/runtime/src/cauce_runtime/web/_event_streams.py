"""How an endpoint that answers Server-Sent Events says so in its OpenAPI document."""

from __future__ import annotations

from typing import Any

#: ``responses={200: EVENT_STREAM}`` on an SSE route: FastAPI would otherwise document
#: ``application/json``, and clients (and schemathesis) would read a stream as a body.
EVENT_STREAM: dict[str, Any] = {
    "description": "Server-Sent Events (text/event-stream), open until the client leaves",
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}
