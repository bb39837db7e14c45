"""HTTP server spans and a latency histogram, as a small pure-ASGI middleware.

Spans and metric labels use the route template (``/webhooks/chattigo/{account_token}``),
never the raw path, so tokens in URLs do not leak into traces or label values.
Probe and metrics endpoints are measured but not traced.

Server span attributes follow the HTTP conventions (``http.request.method``,
``http.route``, ``http.response.status_code``, ``url.scheme``, ``server.address``,
``client.address``, ``error.type``); ``url.path`` and ``url.query`` are left out on
purpose: the route template says which endpoint ran without the token in the URL.
"""

from __future__ import annotations

import time
from typing import Any

from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cauce_runtime.telemetry import metrics
from cauce_runtime.telemetry._tracing import extract_context, get_tracer, record_exception

UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def _server_attributes(scope: Scope, method: str, headers: dict[str, str]) -> dict[str, Any]:
    """HTTP server attributes known before routing: never the path or the query (they
    can hold tokens: Chattigo's URL token, Meta's ``hub.verify_token``)."""
    attributes: dict[str, Any] = {
        "http.request.method": method,
        "url.scheme": scope.get("scheme", "http"),
        "network.protocol.version": scope.get("http_version", "1.1"),
    }
    server = scope.get("server")
    if server and len(server) >= 2 and server[1] is not None:
        attributes["server.address"] = str(server[0])
        attributes["server.port"] = int(server[1])
    client = scope.get("client")
    if client:
        attributes["client.address"] = str(client[0])
    agent = headers.get("user-agent")
    if agent:
        attributes["user_agent.original"] = agent[:256]
    return attributes


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    return str(getattr(route, "path_format", None) or getattr(route, "path", None) or "unmatched")


class HttpTelemetryMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.tracer = get_tracer()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        started = time.perf_counter()
        if scope["path"] in UNTRACED_PATHS:
            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                self._observe(method, scope, status["code"], started)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        attributes = _server_attributes(scope, method, headers)
        with self.tracer.start_as_current_span(
            f"{method}",
            context=extract_context(headers),
            kind=SpanKind.SERVER,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                await self.app(scope, receive, send_wrapper)
            except Exception as exc:
                record_exception(span, exc)
                span.set_attribute("error.type", type(exc).__name__)
                raise
            finally:
                route = _route_template(scope)
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status["code"])
                if status["code"] >= 500:
                    span.set_attribute("error.type", str(status["code"]))
                    span.set_status(Status(StatusCode.ERROR))
                self._observe(method, scope, status["code"], started)

    @staticmethod
    def _observe(method: str, scope: Scope, status: int, started: float) -> None:
        metrics.HTTP_REQUEST_SECONDS.record(
            time.perf_counter() - started,
            {
                "http.request.method": method,
                "http.route": _route_template(scope),
                "http.response.status_code": status,
            },
        )
