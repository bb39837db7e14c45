"""notifier bootstrap: connects to the bus and serves the probes; its capability arrives
with its issue."""

from __future__ import annotations

from fastapi import FastAPI

from cauce_notifier.settings import NotifierSettings
from cauce_runtime.app import create_service_app
from cauce_runtime.bus import Bus


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or NotifierSettings()
    return create_service_app(
        settings,
        bus=Bus(settings),
        title="cauce notifier",
        description="Outbound delivery through WhatsApp Cloud API, Chattigo and YCloud.",
    )
