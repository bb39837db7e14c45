"""HTTP server spans and a latency histogram, as a small pure-ASGI middleware.

Spans and metric labels use the route template (``/webhooks/chattigo/{account_token}``),
never the raw path, so tokens in URLs do not leak into traces or label values.
Probe and metrics endpoints are measured but not traced.

ASGI header names are lower case, so the caller's ``traceparent`` is read with the
propagator's plain getter. Code that routes requests itself (the gateway's webhook lane)
uses :func:`start_server_span`, :func:`end_server_span` and :func:`observe_request`, the
same pieces the middleware is made of.

Server span attributes follow the HTTP conventions (``http.request.method``,
``http.route``, ``http.response.status_code``, ``url.scheme``, ``server.address``,
``client.address``, ``error.type``); ``url.path`` and ``url.query`` are left out on
purpose: the route template says which endpoint ran without the token in the URL.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.propagate import extract
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cauce_runtime.telemetry import metrics
from cauce_runtime.telemetry._tracing import get_tracer, record_exception

UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def _server_attributes(scope: Scope, method: str, headers: Mapping[str, str]) -> dict[str, Any]:
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


def start_server_span(
    tracer: Tracer, scope: Scope, headers: Mapping[str, str], route: str | None = None
) -> Span:
    """A SERVER span for the request in ``scope``, child of the caller's ``traceparent``
    (``headers``: lower-case names); ``route`` names it when the route is known already."""
    method = scope["method"]
    attributes = _server_attributes(scope, method, headers)
    if route is not None:
        attributes["http.route"] = route
    return tracer.start_span(
        f"{method} {route}" if route is not None else method,
        context=extract(headers),
        kind=SpanKind.SERVER,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    )


def end_server_span(span: Span, status: int, error: BaseException | None = None) -> None:
    """Record the answer (and a failure) on a span from :func:`start_server_span`, end it."""
    if error is not None:
        record_exception(span, error)
        span.set_attribute("error.type", type(error).__name__)
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_attribute("error.type", str(status))
        span.set_status(Status(StatusCode.ERROR))
    span.end()


def observe_request(method: str, route: str, status: int, started: float) -> None:
    """The request's latency in ``http.server.request.duration`` (route template, never
    the raw path)."""
    metrics.HTTP_REQUEST_SECONDS.record(
        time.perf_counter() - started,
        {"http.request.method": method, "http.route": route, "http.response.status_code": status},
    )


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
                observe_request(method, _route_template(scope), status["code"], started)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        span = start_server_span(self.tracer, scope, headers)
        error: BaseException | None = None
        try:
            with trace.use_span(
                span, end_on_exit=False, record_exception=False, set_status_on_exception=False
            ):
                await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            error = exc
            raise
        finally:
            route = _route_template(scope)
            span.update_name(f"{method} {route}")
            span.set_attribute("http.route", route)
            end_server_span(span, status["code"], error)
            observe_request(method, route, status["code"], started)
