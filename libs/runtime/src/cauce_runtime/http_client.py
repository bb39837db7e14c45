"""The HTTP client services use to call providers: every call is a CLIENT span that
carries the trace on to the provider (``traceparent``), so one trace runs from the
webhook to the provider call.

Span attributes follow the HTTP client conventions: ``http.request.method``,
``server.address``/``server.port``, ``url.full``, ``http.response.status_code``,
``error.type``. ``url.full`` is the URL without user info and with every query value
replaced by ``REDACTED`` (query strings carry tokens: ``access_token=...``); the path is
kept because provider paths hold business ids only (a Meta ``phone_number_id``, which
says which sending account was used), never a customer's number. Bodies and headers
are never recorded.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from opentelemetry.trace import SpanKind, Status, StatusCode

from cauce_runtime import metrics
from cauce_runtime.telemetry import get_tracer, inject_headers, record_exception

_DEFAULT_PORTS = {"http": 80, "https": 443}
REDACTED = "REDACTED"


def safe_url(url: httpx.URL) -> str:
    """``url`` for a span: no user info, no fragment, every query value redacted."""
    query = "&".join(
        f"{key}={REDACTED}" for key in dict.fromkeys(k for k, _ in url.params.multi_items())
    )
    bare = url.copy_with(username=None, password=None, query=None, fragment=None)
    return f"{bare}?{query}" if query else str(bare)


class TracingTransport(httpx.AsyncBaseTransport):
    """Wraps a transport with one CLIENT span per request."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.tracer = get_tracer()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        attributes: dict[str, Any] = {
            "http.request.method": request.method,
            "server.address": url.host,
            "server.port": url.port or _DEFAULT_PORTS.get(url.scheme, 0),
            "url.full": safe_url(url),
            "url.scheme": url.scheme,
        }
        with self.tracer.start_as_current_span(
            request.method,
            kind=SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            carrier: dict[str, str] = {}
            inject_headers(carrier)
            request.headers.update(carrier)
            labels: dict[str, Any] = {
                "http.request.method": request.method,
                "server.address": url.host,
            }
            started = time.perf_counter()
            try:
                response = await self.inner.handle_async_request(request)
            except Exception as exc:
                record_exception(span, exc)
                span.set_attribute("error.type", type(exc).__name__)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                labels["error.type"] = type(exc).__name__
                metrics.HTTP_CLIENT_SECONDS.record(time.perf_counter() - started, labels)
                raise
            labels["http.response.status_code"] = response.status_code
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 400:
                span.set_attribute("error.type", str(response.status_code))
                span.set_status(Status(StatusCode.ERROR))
            metrics.HTTP_CLIENT_SECONDS.record(time.perf_counter() - started, labels)
            return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def traced_http_client(**kwargs: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose requests are traced (``transport=`` wraps too)."""
    inner = kwargs.pop("transport", None)
    return httpx.AsyncClient(transport=TracingTransport(inner), **kwargs)
