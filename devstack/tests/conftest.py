"""Fixtures of the sandbox tests: a stand-in gateway that takes Meta's webhooks."""

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from cauce_devstack.servers.ports import free_port

GATEWAY_SECRET = "stand-in-gateway-secret"


@dataclass
class MetaGateway:
    """What a stand-in gateway received: every signed payload, in order."""

    url: str
    secret: str = GATEWAY_SECRET
    """The app secret the sandbox must sign with (``CAUCE_SANDBOX_APP_SECRET``)."""
    payloads: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    def changes(self, field_name: str | None = None) -> list[dict[str, Any]]:
        """Every ``changes[]`` item received (of one ``field``), with its entry's id and
        time added as ``_entry_id`` / ``_entry_time``."""
        found = []
        for payload in self.payloads:
            for entry in payload["entry"]:
                for change in entry["changes"]:
                    if field_name is None or change["field"] == field_name:
                        found.append(
                            {**change, "_entry_id": entry["id"], "_entry_time": entry.get("time")}
                        )
        return found

    def statuses(self) -> list[dict[str, Any]]:
        return [
            status
            for change in self.changes("messages")
            for status in change["value"].get("statuses", [])
        ]

    async def wait_until(
        self, done: Callable[["MetaGateway"], bool], timeout: float = 10.0
    ) -> None:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: done(self)), timeout)


@pytest.fixture
async def meta_gateway() -> AsyncIterator[MetaGateway]:
    """A gateway over real HTTP that checks ``X-Hub-Signature-256`` (secret
    :data:`GATEWAY_SECRET`) on the raw bytes and keeps every payload it accepts."""
    port = free_port()
    gateway = MetaGateway(url=f"http://127.0.0.1:{port}")
    app = FastAPI()

    @app.post("/webhooks/whatsapp")
    async def webhook(request: Request) -> JSONResponse:
        raw = await request.body()
        expected = "sha256=" + hmac.new(GATEWAY_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("x-hub-signature-256", ""), expected):
            gateway.bad_signatures += 1
            return JSONResponse({"detail": "bad signature"}, status_code=401)
        async with gateway.arrived:
            gateway.payloads.append(json.loads(raw))
            gateway.arrived.notify_all()
        return JSONResponse({"status": "accepted"})

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield gateway
    finally:
        server.should_exit = True
        await task
