"""The gateway's bootstrap: settings, bus, accounts and routes wired in one place."""

from __future__ import annotations

from fastapi import FastAPI

from cauce_contracts.channel_routes import CHANNEL_ROUTES_BUCKET
from cauce_gateway.gateway import Gateway
from cauce_gateway.settings import GatewaySettings
from cauce_gateway.webhooks import chattigo, manychat, odoo, sci, seed_paths, whatsapp, ycloud
from cauce_gateway.webhooks.lane import WebhookLane
from cauce_gateway.webhooks.responses import install_webhook_error_handlers
from cauce_runtime import Bus, create_service_app
from cauce_runtime.bus import BucketFollower

DESCRIPTION = """\
Turns channel webhooks (WhatsApp Cloud API, Chattigo, YCloud, ManyChat, SCI TOTAL) into
durable JetStream events. A webhook is answered 200 (202 for ManyChat) only after
JetStream acknowledged every event it carried; 503 with Retry-After when the bus cannot;
401 for a missing or wrong signature or key; 413 over the size limit. Errors are
RFC 9457 problem+json.
"""


def create_app(
    settings: GatewaySettings | None = None, bus: Bus | None = None, *, webhook_lane: bool = True
) -> FastAPI:
    """The gateway's app. ``webhook_lane=False`` serves every webhook through FastAPI's
    routes only (what the tests compare the lane with)."""
    settings = settings or GatewaySettings()
    bus = bus or Bus(settings)
    gateway = Gateway.build(settings, bus)
    # accounts added through the notifier's API reach the gateway live, no restart
    routes = BucketFollower(bus, CHANNEL_ROUTES_BUCKET, gateway.accounts.live.apply)
    app = create_service_app(
        settings,
        bus=bus,
        wiring=gateway,
        routers=(
            whatsapp.router,
            chattigo.router,
            ycloud.router,
            manychat.router,
            sci.router,
            odoo.router,
            seed_paths.router,
        ),
        on_startup=[routes.start],
        on_shutdown=[routes.stop],
        title="cauce gateway",
        description=DESCRIPTION,
    )
    install_webhook_error_handlers(app)
    if webhook_lane:
        app.add_middleware(WebhookLane, gateway=gateway)  # outermost of ours: see its module
    return app
