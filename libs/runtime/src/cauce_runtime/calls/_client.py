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

Requests go out through aiohttp (``httpx_aiohttp.AiohttpTransport``) under the httpx
API: httpcore's pool checks every pooled connection with a ``poll`` system call each
time a request joins or leaves it, which made connection bookkeeping the notifier's
largest cost at a few hundred sends a second. Code and tests keep speaking httpx
(``transport=`` still replaces what is underneath).

Callers rely on one distinction between transport errors (read by
:func:`cauce_runtime.transport_failure`): ``ConnectError`` and ``ConnectTimeout`` mean
the request never left; any other error leaves its outcome unknown.
``httpx_aiohttp`` maps every aiohttp connection error to ``ConnectTimeout``, a server
that hung up after reading the request included; :class:`AiohttpTransport` keeps those
two names for failures aiohttp raised while connecting, and turns the rest into
``RemoteProtocolError`` (the server closed the connection) or ``ReadError``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import httpx
import httpx_aiohttp
from opentelemetry.trace import SpanKind, Status, StatusCode

from cauce_runtime.telemetry import metrics
from cauce_runtime.telemetry._tracing import get_tracer, inject_headers, record_exception

_DEFAULT_PORTS = {"http": 80, "https": 443}
REDACTED = "REDACTED"


def safe_url(url: httpx.URL) -> str:
    """``url`` for a span: no user info, no fragment, every query value redacted."""
    if not (url.userinfo or url.query or url.fragment):
        return str(url)  # most calls: nothing to take out, nothing to parse again
    query = "&".join(
        f"{key}={REDACTED}" for key in dict.fromkeys(k for k, _ in url.params.multi_items())
    )
    bare = url.copy_with(username=None, password=None, query=None, fragment=None)
    return f"{bare}?{query}" if query else str(bare)


def _sent_or_not(error: httpx.TransportError, request: httpx.Request) -> httpx.TransportError:
    """The httpx error that says what aiohttp's failure (``error.__cause__``) means:
    "never sent" only for a failure while connecting."""
    cause = error.__cause__
    if not isinstance(cause, aiohttp.ClientError):
        return error
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        not_sent: type[httpx.TransportError] = httpx.ConnectTimeout
    elif isinstance(cause, aiohttp.ClientConnectorError):
        not_sent = httpx.ConnectError  # refused, DNS, TLS handshake: not a timeout
    elif isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        if isinstance(cause, aiohttp.ServerDisconnectedError):
            return httpx.RemoteProtocolError(str(error), request=request)
        return httpx.ReadError(str(error), request=request)
    else:
        return error
    return error if type(error) is not_sent else not_sent(str(error), request=request)


class _SentOrNotStream(httpx.AsyncByteStream):
    """A response body whose read errors are never "not sent" (the request was)."""

    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self.inner = inner
        self.request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.inner:
                yield chunk
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise httpx.ReadError(str(error), request=self.request) from error

    async def aclose(self) -> None:
        await self.inner.aclose()


class AiohttpTransport(httpx_aiohttp.AiohttpTransport):
    """``httpx_aiohttp``'s transport with "never sent" errors only where they are true."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx.TransportError as error:
            precise = _sent_or_not(error, request)
            if precise is error:
                raise
            raise precise from error
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _SentOrNotStream(response.stream, request)
        return response


class TracingTransport(httpx.AsyncBaseTransport):
    """Wraps a transport (by default aiohttp's, see above) with one CLIENT span per request."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or AiohttpTransport()
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


class TracedHttpClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` whose requests are traced (:class:`TracingTransport`;
    ``transport=`` is what it wraps). Made by :func:`traced_http_client`."""

    def __init__(self, *, transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any):
        self._tracing = TracingTransport(transport)
        super().__init__(transport=self._tracing, **kwargs)

    async def post_json_directly(
        self, url: str, payload: Any, headers: Mapping[str, str]
    ) -> httpx.Response:
        """:func:`post_json` through this client's transport (see there)."""
        merged = self.headers.copy()
        merged.update(headers)
        request = httpx.Request(
            "POST",
            url,
            json=payload,
            headers=merged,
            extensions={"timeout": self.timeout.as_dict()},
        )
        response = await self._tracing.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response


def traced_http_client(**kwargs: Any) -> TracedHttpClient:
    """An ``httpx.AsyncClient`` whose requests are traced (``transport=`` wraps too)."""
    return TracedHttpClient(**kwargs)


async def post_json(
    client: httpx.AsyncClient, url: str, payload: Any, *, headers: Mapping[str, str]
) -> httpx.Response:
    """POST ``payload`` as JSON to the absolute ``url`` and read the whole answer: what a
    provider's send does on every message.

    Through a :func:`traced_http_client`, the request goes straight to the client's
    (traced) transport with its default headers and timeout: a send wants none of what
    ``client.post`` adds around the transport (base URL, auth flows, cookies, redirects,
    event hooks), and those layers cost more CPU than building the request and reading
    its answer. Any other client (a test's plain one): ``client.post``. Errors are the
    transport's either way (:func:`~cauce_runtime.transport_failure` reads them).
    """
    if isinstance(client, TracedHttpClient):
        return await client.post_json_directly(url, payload, headers)
    return await client.post(url, json=payload, headers=headers)
