"""The HTTP client services use to call providers: every call is a CLIENT span that
carries the trace on to the provider (``traceparent``), so one trace runs from the
webhook to the provider call.

Span attributes name the method, host and status, never the query string or the body
(which hold phone numbers and tokens); the path is kept because provider paths hold
business ids only (a Meta ``phone_number_id``), not customers' numbers.
"""

from __future__ import annotations

from typing import Any

import httpx
from opentelemetry.trace import SpanKind, Status, StatusCode

from cauce_runtime.telemetry import get_tracer, inject_headers


class TracingTransport(httpx.AsyncBaseTransport):
    """Wraps a transport with one CLIENT span per request."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.tracer = get_tracer()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        attributes: dict[str, Any] = {
            "http.request.method": request.method,
            "server.address": request.url.host,
            "url.path": request.url.path,
        }
        if request.url.port is not None:
            attributes["server.port"] = request.url.port
        with self.tracer.start_as_current_span(
            request.method, kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            carrier: dict[str, str] = {}
            inject_headers(carrier)
            request.headers.update(carrier)
            try:
                response = await self.inner.handle_async_request(request)
            except httpx.TransportError as exc:
                span.set_attribute("error.type", type(exc).__name__)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 400:
                span.set_attribute("error.type", str(response.status_code))
                span.set_status(Status(StatusCode.ERROR))
            return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def traced_http_client(**kwargs: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose requests are traced (``transport=`` wraps too)."""
    inner = kwargs.pop("transport", None)
    return httpx.AsyncClient(transport=TracingTransport(inner), **kwargs)
