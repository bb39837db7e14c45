"""The webhook lane: the busiest webhook routes served as plain ASGI, ahead of FastAPI.

Signed deliveries from the WhatsApp Cloud API, YCloud and Chattigo arrive by the
thousand (a campaign's statuses). For them, FastAPI's per-request machinery (its
middleware, matching the path against every route, solving dependencies, building a
Request and a Response) cost more than the gateway's own work of verifying, parsing and
publishing (README's performance section has the profile). The lane is an ASGI
middleware in front of FastAPI: a ``POST`` to one of its paths goes straight to the
handler FastAPI's route runs (``accept_whatsapp`` and the others), with the same body
limit, the same answers and refusals, a SERVER span named by the route template and the
same latency histogram; every other request goes on to FastAPI untouched.

The FastAPI routes stay: they are the OpenAPI contract of these paths, and they serve
what the lane passes on (a Chattigo token too long to be one, so FastAPI answers its
422 as before).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import parse_qsl

from opentelemetry import trace
from starlette.types import ASGIApp, Receive, Scope, Send

from cauce_gateway.delivery import Delivery
from cauce_gateway.gateway import Gateway
from cauce_gateway.request_body import read_body
from cauce_gateway.webhooks import chattigo, seed_paths, whatsapp, ycloud
from cauce_gateway.webhooks.responses import REFUSALS, Answer, refusal_answer
from cauce_runtime.telemetry import end_server_span, get_tracer, observe_request, start_server_span

Handler = Callable[[Gateway, Delivery], Awaitable[Answer]]

#: The longest path parameter the lane takes (FastAPI's routes declare the same bound).
MAX_PATH_PARAM = 256


@dataclass(frozen=True, slots=True)
class LaneRoute:
    #: The route template: the span's name and the metric's label (never the raw path).
    template: str
    handler: Handler


@dataclass(frozen=True, slots=True)
class TokenRoute:
    """A route whose last path segment is a parameter: ``{prefix}{param}``."""

    prefix: str
    param: str
    route: LaneRoute


#: Exact paths: cauce's own and the seed systems' aliases (the same handlers).
EXACT_ROUTES: Mapping[str, LaneRoute] = MappingProxyType(
    {
        "/webhooks/whatsapp": LaneRoute("/webhooks/whatsapp", whatsapp.accept_whatsapp),
        **{
            alias: LaneRoute(alias, whatsapp.accept_whatsapp)
            for alias in seed_paths.WHATSAPP_ALIASES
        },
        "/webhooks/ycloud": LaneRoute("/webhooks/ycloud", ycloud.accept_ycloud),
        seed_paths.YCLOUD_ALIAS: LaneRoute(seed_paths.YCLOUD_ALIAS, ycloud.accept_ycloud),
    }
)
TOKEN_ROUTES: tuple[TokenRoute, ...] = (
    TokenRoute(
        "/webhooks/chattigo/",
        "account_token",
        LaneRoute("/webhooks/chattigo/{account_token}", chattigo.accept_chattigo_at_token_path),
    ),
)


def _match(path: str) -> tuple[LaneRoute, Mapping[str, str]] | None:
    route = EXACT_ROUTES.get(path)
    if route is not None:
        return route, MappingProxyType({})
    for token_route in TOKEN_ROUTES:
        if path.startswith(token_route.prefix):
            value = path[len(token_route.prefix) :]
            if value and "/" not in value and len(value) <= MAX_PATH_PARAM:
                return token_route.route, MappingProxyType({token_route.param: value})
    return None


class WebhookLane:
    """ASGI middleware: webhook POSTs on the lane's paths, everything else to ``app``."""

    def __init__(self, app: ASGIApp, gateway: Gateway) -> None:
        self.app = app
        self.gateway = gateway
        self.tracer = get_tracer()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = None
        if scope["type"] == "http" and scope["method"] == "POST":
            matched = _match(scope["path"])
        if matched is None:
            await self.app(scope, receive, send)
            return
        route, path_params = matched
        started = time.perf_counter()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        span = start_server_span(self.tracer, scope, headers, route.template)
        status, error = 500, None
        try:
            with trace.use_span(
                span, end_on_exit=False, record_exception=False, set_status_on_exception=False
            ):
                answer = await self._respond(route, scope, receive, headers, path_params)
            status = answer.status
            await _send(send, answer)
        except Exception as exc:
            error = exc
            raise
        finally:
            end_server_span(span, status, error)
            observe_request("POST", route.template, status, started)

    async def _respond(
        self,
        route: LaneRoute,
        scope: Scope,
        receive: Receive,
        headers: Mapping[str, str],
        path_params: Mapping[str, str],
    ) -> Answer:
        settings = self.gateway.settings
        try:
            body = await read_body(receive, headers, settings.max_body_bytes)
            query_string: bytes = scope.get("query_string", b"")
            query = dict(parse_qsl(query_string.decode("latin-1"))) if query_string else {}
            return await route.handler(self.gateway, Delivery(body, headers, query, path_params))
        except REFUSALS as exc:
            return refusal_answer(exc, settings.retry_after_s)


async def _send(send: Send, answer: Answer) -> None:
    headers = [
        (b"content-type", answer.media_type.encode("latin-1")),
        (b"content-length", str(len(answer.body)).encode("latin-1")),
        *(
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in answer.headers
        ),
    ]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
