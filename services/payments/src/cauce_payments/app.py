"""payments bootstrap: connects to the bus and serves the probes; its capability arrives
with its issue."""

from __future__ import annotations

from fastapi import FastAPI

from cauce_payments.settings import PaymentsSettings
from cauce_runtime.app import create_service_app
from cauce_runtime.bus import Bus


def create_app(settings: PaymentsSettings | None = None) -> FastAPI:
    settings = settings or PaymentsSettings()
    return create_service_app(
        settings,
        bus=Bus(settings),
        title="cauce payments",
        description="Debt lookups and payment links through SCI TOTAL.",
    )
