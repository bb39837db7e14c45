"""The sandbox's FastAPI app: one server for every faked provider."""

from __future__ import annotations

from fastapi import FastAPI

from cauce_devstack.sandbox import (
    chattigo,
    faults,
    gateway_client,
    meta,
    odoo,
    outbox,
    sci,
    ycloud,
)
from cauce_devstack.sandbox.refusals import RefusalRecorder
from cauce_devstack.sandbox.settings import SandboxSettings

SANDBOX_TAG = {
    "name": "sandbox",
    "description": "Controls and views of the sandbox itself, which no real provider has: "
    "the outbox of every request the fakes received, fault injection, the customer "
    "simulator, and per-provider helpers under ``/sandbox/...``. Never rate limited.",
}


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    """A fresh sandbox (empty outbox, no faults) configured by ``settings``."""
    app = FastAPI(
        title="cauce provider sandbox",
        description="Fakes of external providers (WhatsApp Graph API, Chattigo, YCloud, "
        "SCI TOTAL, Odoo) for local runs and tests. Dev only: every default credential "
        "here is public.",
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        version="0.1.0",
        openapi_tags=[
            meta.OPENAPI_TAG,
            chattigo.OPENAPI_TAG,
            ycloud.OPENAPI_TAG,
            sci.OPENAPI_TAG,
            odoo.OPENAPI_TAG,
            SANDBOX_TAG,
        ],
    )
    app.state.settings = settings or SandboxSettings()
    app.state.outbox = outbox.Outbox()
    app.state.faults = faults.FaultBook()
    gateway = gateway_client.install(app)
    meta.install(app)
    chattigo.install(app)
    ycloud.install(app)
    sci.install(app)
    odoo.install(app)
    app.include_router(outbox.router)
    app.add_middleware(RefusalRecorder)
    app.include_router(faults.router)
    # Closed last, once the status callbacks' own hook (meta) cancelled them: one
    # posting in between would otherwise open a new client that nobody closes.
    app.router.on_shutdown.append(gateway.aclose)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    return app
