"""The peer: the WhatsApp receiver a team would write by hand instead of adopting cauce.

A minimal FastAPI app that checks ``X-Hub-Signature-256``, parses the JSON and publishes
each message and status to JetStream with a ``Nats-Msg-Id``, awaiting its PubAck, then
answers 200. No typed events, no tenant lookup, no contact keys, no tracing, no
metrics: what cauce's gateway is compared against (issue 19), served by the runtime's
own uvicorn runner, so the web server and its settings are the same on both sides.

Run as ``python -m bench.peer_receiver`` with ``CAUCE_PORT``, ``CAUCE_NATS_URL`` and
``BENCH_PEER_APP_SECRET`` set; it publishes under ``bench.peer.>`` (stream
:data:`PEER_STREAM`, which the bench provisions before loading it).
"""

from __future__ import annotations

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

from cauce_contracts.streams import INBOUND
from cauce_runtime import ServiceSettings, serve

PEER_STREAM = replace(
    INBOUND, name="BENCH_PEER", subjects=("bench.peer.>",), description="bench peer"
)


def create_app(nats_url: str, app_secret: bytes) -> FastAPI:
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
        expected = "sha256=" + hmac.new(app_secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("x-hub-signature-256", "")):
            return Response(status_code=401)
        js = request.app.state.js
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
        return JSONResponse({"status": "accepted"})

    @app.get("/readyz")
    async def readyz() -> Response:
        return Response(status_code=200)

    return app


def main() -> None:
    app = create_app(os.environ["CAUCE_NATS_URL"], os.environ["BENCH_PEER_APP_SECRET"].encode())
    serve(app, ServiceSettings(service_name="bench-peer"))


if __name__ == "__main__":
    main()
