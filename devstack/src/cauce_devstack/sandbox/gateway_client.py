"""The sandbox's one HTTP client toward the gateway, for every webhook it posts as a
provider (Meta messages and statuses, SCI payment callbacks).

One client keeps one connection pool and one TLS context for the sandbox's life (a
client per webhook built a fresh SSL context each time, a large share of the sandbox's
CPU), on the runtime's aiohttp transport as in the services. Created on first use, in
the server's event loop; closed on shutdown, after the fakes that post through it.
The sandbox's bootstrap object (:class:`~cauce_devstack.sandbox.bootstrap.Sandbox`) holds
the one instance.
"""

from __future__ import annotations

import httpx

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
