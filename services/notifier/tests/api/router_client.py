"""One router of a notifier, served in-process to an httpx client, for the API tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import APIRouter

from cauce_notifier.bootstrap import Notifier
from cauce_notifier.settings import NotifierSettings
from cauce_runtime import create_service_app
from cauce_runtime.identity import TokenVerifier


@contextlib.asynccontextmanager
async def router_client(
    notifier: Notifier, settings: NotifierSettings, router: APIRouter
) -> AsyncIterator[httpx.AsyncClient]:
    """``router`` wired to ``notifier`` (opened and closed with the app, no bus; access
    tokens verified with the keys pinned in ``settings``)."""
    app = create_service_app(
        settings,
        bus=None,
        wiring=notifier,
        verifier=TokenVerifier.for_service(settings),
        routers=[router],
        on_prepare=[notifier.open],
        on_closed=[notifier.close],
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as http:
            yield http
