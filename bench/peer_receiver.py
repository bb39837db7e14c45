"""The peer: the WhatsApp receiver a team would write by hand instead of adopting cauce.

It checks ``X-Hub-Signature-256``, parses the JSON and publishes each message and status
to JetStream with a ``Nats-Msg-Id``, awaiting its PubAck, then answers 200. No typed
events, no tenant lookup, no contact keys, no tracing, no metrics. Two shapes of it:

- ``fastapi`` (the peer of issue 19): a minimal FastAPI app, what most would write;
- ``raw``: the same work as a bare ASGI callable, no framework at all. It is the floor
  of a Python receiver on this server and this NATS client: what uvicorn, asyncio and
  nats-py cost per webhook before any work is done on it.

Both are served by the runtime's own uvicorn runner, so the web server and its settings
are the gateway's. Run as ``python -m bench.peer_receiver`` with ``CAUCE_PORT``,
``CAUCE_NATS_URL``, ``BENCH_PEER_APP_SECRET`` and ``BENCH_PEER_SHAPE`` (``fastapi`` or
``raw``) set; it publishes under ``bench.peer.>`` (stream :data:`PEER_STREAM`, which the
bench provisions before loading it).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
from collections.abc import AsyncIterator
from dataclasses import replace

import nats
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from nats.js import JetStreamContext
from starlette.types import Receive, Scope, Send

from cauce_contracts.streams import INBOUND
from cauce_runtime import ServiceSettings, serve

PEER_STREAM = replace(
    INBOUND, name="BENCH_PEER", subjects=("bench.peer.>",), description="bench peer"
)
ACCEPTED = b'{"status":"accepted"}'


def is_signed(body: bytes, header: str | None, app_secret: bytes) -> bool:
    expected = "sha256=" + hmac.new(app_secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header or "")


async def publish_items(js: JetStreamContext, body: bytes) -> None:
    """Each message and status of the webhook, one PubAck at a time."""
    for entry in json.loads(body).get("entry", []):
        for change in entry.get("changes", []):
            value = change.get("value", {})
            number = value.get("metadata", {}).get("phone_number_id", "unknown")
            for item in [*value.get("messages", []), *value.get("statuses", [])]:
                await js.publish(
                    f"bench.peer.{number}",
                    json.dumps(item).encode(),
                    headers={"Nats-Msg-Id": item["id"]},
                )


def create_app(nats_url: str, app_secret: bytes) -> FastAPI:
    """The ``fastapi`` shape."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nc = await nats.connect(nats_url)
        app.state.js = nc.jetstream()
        yield
        await nc.drain()

    app = FastAPI(title="bench peer receiver", lifespan=lifespan)

    @app.post("/webhooks/whatsapp")
    async def receive(request: Request) -> Response:
        body = await request.body()
        if not is_signed(body, request.headers.get("x-hub-signature-256"), app_secret):
            return Response(status_code=401)
        await publish_items(request.app.state.js, body)
        return JSONResponse({"status": "accepted"})

    @app.get("/readyz")
    async def readyz() -> Response:
        return Response(status_code=200)

    return app


class RawReceiver:
    """The ``raw`` shape: the same work, straight on ASGI."""

    def __init__(self, nats_url: str, app_secret: bytes) -> None:
        self.nats_url = nats_url
        self.app_secret = app_secret
        self.js: JetStreamContext | None = None
        self._connecting = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no lifespan: NATS is connected on the first webhook
        if scope["method"] == "GET":
            await _answer(send, 200, b"")
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        header = dict(scope["headers"]).get(b"x-hub-signature-256", b"").decode()
        if not is_signed(body, header, self.app_secret):
            await _answer(send, 401, b"")
            return
        await publish_items(await self._jetstream(), body)
        await _answer(send, 200, ACCEPTED)

    async def _jetstream(self) -> JetStreamContext:
        if self.js is not None:
            return self.js
        async with self._connecting:
            if self.js is None:
                self.js = (await nats.connect(self.nats_url)).jetstream()
        return self.js


async def _answer(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    nats_url, secret = os.environ["CAUCE_NATS_URL"], os.environ["BENCH_PEER_APP_SECRET"].encode()
    shape = os.environ.get("BENCH_PEER_SHAPE", "fastapi")
    app = create_app(nats_url, secret) if shape == "fastapi" else RawReceiver(nats_url, secret)
    serve(app, ServiceSettings(service_name=f"bench-peer-{shape}"))


if __name__ == "__main__":
    main()
