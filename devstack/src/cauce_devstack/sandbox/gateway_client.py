"""The sandbox's one HTTP client toward the gateway, for every webhook it posts as a
provider (Meta messages and statuses, SCI payment callbacks).

One client means one connection pool and one TLS context for the sandbox's life:
creating an ``httpx.AsyncClient`` per webhook built a fresh SSL context each time, and
that alone was 40 % of the sandbox's CPU under the conversation benchmark. Its
transport is the runtime's aiohttp one, for the reason the services use it (httpcore's
pool polls every connection on each request; the sandbox posts several status webhooks
per message). It is created on first use (inside the server's event loop) and closed
on shutdown, after the fakes that post through it stopped.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request

from cauce_runtime import AiohttpTransport


class GatewayClient:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.timeout_s, transport=AiohttpTransport())
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


def install(app: FastAPI) -> GatewayClient:
    """Give ``app`` its gateway client (``app.state.gateway_client``); the caller adds
    its ``aclose`` to the shutdown hooks after those of everything that uses it."""
    client = GatewayClient(app.state.settings.gateway_timeout_s)
    app.state.gateway_client = client
    return client


def gateway_http(request: Request) -> httpx.AsyncClient:
    client: GatewayClient = request.app.state.gateway_client
    return client.http
