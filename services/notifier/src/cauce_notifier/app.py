"""The notifier's bootstrap: one place that wires settings, PostgreSQL, the provider
clients, the consumers and the HTTP APIs (built in :class:`~cauce_notifier.bootstrap.Notifier`)."""

from __future__ import annotations

from fastapi import FastAPI

from cauce_notifier.accounts_model import SENDING_CHANNELS
from cauce_notifier.api import (
    admin_channels,
    campaign_events,
    campaigns,
    messages,
    short_links,
    templates,
)
from cauce_notifier.bootstrap import Notifier
from cauce_notifier.consumers import register_consumers
from cauce_notifier.metrics import preset_sends_in_doubt
from cauce_notifier.settings import NotifierSettings
from cauce_runtime import create_service_app, postgres
from cauce_runtime.identity import TokenVerifier
from cauce_runtime.telemetry.metrics import preset_provider_counters

DESCRIPTION = (
    "Outbound delivery through WhatsApp Cloud API, Chattigo and YCloud: one provider "
    "call per message, per-account rate limits shared by every replica, a status "
    "timeline per message, and channel credentials encrypted at rest."
)


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or NotifierSettings()
    notifier = Notifier.build(settings)
    register_consumers(
        notifier.bus,
        deliverer=notifier.deliverer,
        statuses=notifier.statuses,
        windows=notifier.windows,
        campaigns=notifier.campaigns,
        media=notifier.media,
        delivery_batch_size=settings.delivery_batch_size,
        campaign_batch_size=settings.campaign_delivery_batch_size,
        ack_wait_s=settings.delivery_claim_s,
        lanes=settings.send_lanes,
    )
    app = create_service_app(
        settings,
        bus=notifier.bus,
        wiring=notifier,
        verifier=TokenVerifier.for_service(settings),
        readiness={"postgres": postgres.reachable(notifier.pool)},
        routers=(
            admin_channels.router,
            messages.router,
            campaigns.router,
            templates.router,
            campaign_events.router,
            short_links.router,
        ),
        on_prepare=[notifier.open],
        on_startup=[notifier.channel_routes.start, notifier.campaigns.start],
        on_shutdown=[notifier.campaigns.stop, notifier.channel_routes.stop],
        on_closed=[notifier.close],
        title="cauce notifier",
        description=DESCRIPTION,
    )
    # Alerts watch these with increase(): a series must exist before its first event.
    # After create_service_app: instruments record nothing before it installs the
    # meter provider (python -m installs it earlier; a test building the app may not).
    preset_provider_counters(*(channel.value for channel in SENDING_CHANNELS))
    preset_sends_in_doubt(*(channel.value for channel in SENDING_CHANNELS))
    return app
