"""Records in the outbox every request the Graph, Chattigo and YCloud fakes refused,
whatever refused it (a missing token, a validation rule, a fault), so a test sees what a
service got wrong without each route recording its own refusals.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cauce_devstack.sandbox.bootstrap import Sandbox
from cauce_runtime import wiring_of

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
        request_body = await read_body(receive)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": request_body, "more_body": False}

        response: dict[str, Any] = {"status": 200, "body": bytearray()}

        async def tee_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
            elif message["type"] == "http.response.body":
                response["body"].extend(message.get("body", b""))
            await send(message)

        await self.app(scope, replay, tee_send)
        if response["status"] >= 400:
            outbox = wiring_of(scope["app"], Sandbox).outbox
            outbox.record(
                **refusal_entry(
                    provider, scope["path"], request_body, response["status"], response["body"]
                )
            )


async def read_body(receive: Receive) -> bytes:
    """The whole body of the request ``receive`` delivers."""
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message["type"] == "http.request" and message.get("more_body", False)
    return b"".join(chunks)


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


def refusal_entry(
    provider: str, path: str, body: bytes | bytearray, status: int, answer: bytes | bytearray
) -> dict[str, Any]:
    """The outbox entry of a request ``provider``'s fake refused with ``status``."""
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
        "status": status,
        "error": _json_or_text(answer),
    }
