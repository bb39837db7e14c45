"""The sandbox's FastAPI app: one server for every faked provider."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp

from cauce_devstack.sandbox import chattigo, faults, meta, models, odoo, outbox, sci, ycloud
from cauce_devstack.sandbox.bootstrap import Sandbox
from cauce_devstack.sandbox.chattigo.state import ChattigoState
from cauce_devstack.sandbox.gateway_client import GatewayClient
from cauce_devstack.sandbox.meta.accounts import template_store
from cauce_devstack.sandbox.meta.media import MediaLibrary
from cauce_devstack.sandbox.meta.messaging_limits import MessagingLimits
from cauce_devstack.sandbox.meta.preferences import MarketingPreferences
from cauce_devstack.sandbox.meta.send_fast_path import GraphSendFastPath
from cauce_devstack.sandbox.meta.service_window import ServiceWindows
from cauce_devstack.sandbox.meta.status_callbacks import StatusCallbacks
from cauce_devstack.sandbox.odoo.state import OdooState
from cauce_devstack.sandbox.refusals import RefusalRecorder
from cauce_devstack.sandbox.sci.state import SciState
from cauce_devstack.sandbox.settings import SandboxSettings
from cauce_devstack.sandbox.throughput import ThroughputLimiter
from cauce_runtime import wire, wiring_of

# ``wire`` is the runtime's own (``create_service_app`` calls it) but not exported from
# ``cauce_runtime.web``; the sandbox is no service app (no bus, probes, problem+json).

SANDBOX_TAG = {
    "name": "sandbox",
    "description": "Controls and views of the sandbox itself, which no real provider has: "
    "the outbox of every request the fakes received, fault injection, the customer "
    "simulator, and per-provider helpers under ``/sandbox/...``. Never rate limited.",
}

health_router = APIRouter(tags=["health"])


@health_router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@health_router.get("/readyz")
async def readyz() -> dict[str, str]:
    return {"status": "ready"}


def build_sandbox(settings: SandboxSettings) -> Sandbox:
    """Every fake's state, empty; the fakes post webhooks through one gateway client."""
    gateway = GatewayClient(settings.gateway_timeout_s)
    return Sandbox(
        settings=settings,
        outbox=outbox.Outbox(),
        faults=faults.FaultBook(),
        gateway_client=gateway,
        graph_templates=template_store(settings),
        graph_throughput=ThroughputLimiter(
            settings.graph_rate_limit_per_second,
            settings.graph_rate_limits,
            enforced=settings.graph_rate_limit_enforced,
        ),
        service_windows=ServiceWindows(settings.service_window_hours),
        messaging_limits=MessagingLimits(settings.messaging_limit),
        marketing_preferences=MarketingPreferences(),
        media=MediaLibrary(),
        status_callbacks=StatusCallbacks(settings, gateway),
        chattigo=ChattigoState(settings),
        sci=SciState(settings, gateway),
        odoo=OdooState(settings, gateway),
    )


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    """A fresh sandbox (empty outbox, no faults) configured by ``settings``."""
    sandbox = build_sandbox(settings or SandboxSettings())
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
            models.OPENAPI_TAG,
            SANDBOX_TAG,
        ],
    )
    wire(app, sandbox)
    meta.install(app)
    chattigo.install(app)
    ycloud.install(app)
    sci.install(app)
    odoo.install(app)
    models.install(app)
    app.include_router(outbox.router)
    app.add_middleware(RefusalRecorder)
    app.include_router(faults.router)
    app.include_router(health_router)
    # Pending status callbacks are cancelled first, then the client they post through is
    # closed: one posting in between would otherwise open a new client nobody closes.
    app.router.on_shutdown.append(sandbox.status_callbacks.aclose)
    if sandbox.odoo.automation is not None:
        app.router.on_shutdown.append(sandbox.odoo.automation.aclose)
    app.router.on_shutdown.append(sandbox.gateway_client.aclose)
    return app


def create_served_app(settings: SandboxSettings | None = None) -> ASGIApp:
    """The app ``python -m cauce_devstack.sandbox`` serves: :func:`create_app`'s, with the
    Graph fake's sends answered before the framework (:class:`GraphSendFastPath`)."""
    app = create_app(settings)
    return GraphSendFastPath(app, wiring_of(app, Sandbox))
