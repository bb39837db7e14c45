"""Fake WhatsApp Cloud API: ``POST /graph/{version}/{phone_number_id}/messages``.

Order of checks, as Meta does it: base latency and armed faults, then the bearer
token (401, code 190), then whether the token may act for this phone_number_id (400,
code 100, subcode 33), then the payload (400, code 100 or 131009), then the template
(132001 unknown, 132000 parameter count), then the 24 h customer-service window for
non-template messages (131047), then the number's throughput (429, code 130429 with
``Retry-After``). Accepted requests are recorded in the outbox, answered with Meta's
success shape, and followed by status webhooks to the gateway.

:func:`install` mounts the router and this fake's state on an app.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import random
import secrets
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from cauce_devstack.sandbox import service_window, throughput
from cauce_devstack.sandbox.faults import Fault, get_faults
from cauce_devstack.sandbox.graph_errors import (
    GraphError,
    expired_token,
    invalid_parameter,
    invalid_token,
    missing_token,
    outside_service_window,
    rate_limited,
    server_error,
    unknown_object,
)
from cauce_devstack.sandbox.graph_schema import OutboundMessage, parse_request
from cauce_devstack.sandbox.graph_templates import check_template
from cauce_devstack.sandbox.outbox import get_outbox
from cauce_devstack.sandbox.service_window import ServiceWindows, get_windows
from cauce_devstack.sandbox.settings import SandboxSettings
from cauce_devstack.sandbox.status_callbacks import AcceptedMessage, StatusCallbacks
from cauce_devstack.sandbox.throughput import ThroughputLimiter, get_limiter, retry_after_header

router = APIRouter(prefix="/graph", tags=["whatsapp-graph"])


def new_wamid() -> str:
    """A message id shaped like Meta's (``wamid.`` + base64)."""
    return "wamid." + base64.b64encode(secrets.token_bytes(30)).decode()


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _authorise(settings: SandboxSettings, token: str | None, phone_number_id: str) -> None:
    if token is None:
        raise missing_token()
    known = {pid: secret.get_secret_value() for pid, secret in settings.graph_tokens.items()}
    if not any(hmac.compare_digest(token, value) for value in known.values()):
        raise invalid_token()
    expected = known.get(phone_number_id)
    if expected is None or not hmac.compare_digest(token, expected):
        raise unknown_object(phone_number_id)


async def _apply_fault(fault: Fault, settings: SandboxSettings) -> None:
    """Sleep for latency faults; raise the error a failing fault stands for."""
    if fault.kind == "latency":
        await asyncio.sleep(fault.latency_ms / 1000)
    elif fault.kind == "429":
        raise rate_limited(fault.retry_after)
    elif fault.kind == "5xx":
        raise server_error(fault.status)
    elif fault.kind == "token_expired":
        raise expired_token()
    elif fault.kind == "drop":
        await asyncio.sleep(settings.drop_hold_s)
        raise GraphError(504, 2, "dropped")


async def _read_json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise invalid_parameter("The request body is not valid JSON.") from None


def install(app: FastAPI) -> None:
    """Mount the fake Graph API and its state (throughput, windows, status callbacks).

    Reads ``app.state.settings``; cancels pending status callbacks on app shutdown.
    """
    settings: SandboxSettings = app.state.settings
    app.state.graph_throughput = ThroughputLimiter(
        settings.graph_rate_limit_per_second,
        settings.graph_rate_limits,
        enforced=settings.graph_rate_limit_enforced,
    )
    app.state.service_windows = ServiceWindows(settings.service_window_hours)
    callbacks = StatusCallbacks(settings, app.state.gateway_client)
    app.state.status_callbacks = callbacks
    app.router.on_shutdown.append(callbacks.aclose)
    app.include_router(router)
    app.include_router(throughput.router)
    app.include_router(service_window.router)


async def _base_latency(settings: SandboxSettings) -> None:
    delay_ms = settings.graph_latency_ms
    if settings.graph_latency_jitter_ms > 0:
        delay_ms += random.uniform(0, settings.graph_latency_jitter_ms)  # noqa: S311 - not crypto
    if delay_ms > 0:
        await asyncio.sleep(delay_ms / 1000)


def _check_rules(
    settings: SandboxSettings,
    phone_number_id: str,
    message: OutboundMessage,
    windows: ServiceWindows,
    limiter: ThroughputLimiter,
) -> str:
    """Meta's sending rules for an accepted payload; the pricing category, or raise."""
    category = "service"
    if message.template is not None:
        if settings.graph_template_check:
            template = message.template
            known = check_template(
                settings.graph_templates,
                template.name,
                template.language.code,
                template.components,
            )
            category = known.category
        else:
            category = "utility"
    elif settings.service_window_enforced and not windows.is_open(phone_number_id, message.wa_id):
        raise outside_service_window()
    wait_s = limiter.admit(phone_number_id)
    if wait_s is not None:
        raise rate_limited(retry_after_header(wait_s))
    return category


@router.get("/{version}/{phone_number_id}")
async def phone_number(version: str, phone_number_id: str, request: Request) -> Response:
    """The business phone number node, as Meta answers it to a token allowed to read it
    (what a credentials check asks for)."""
    settings: SandboxSettings = request.app.state.settings
    try:
        _authorise(settings, _bearer(request), phone_number_id)
    except GraphError as error:
        return error.response()
    display = (
        settings.default_display_phone_number
        if phone_number_id == settings.default_phone_number_id
        else phone_number_id
    )
    return JSONResponse(
        {
            "id": phone_number_id,
            "display_phone_number": display,
            "verified_name": "cauce sandbox",
            "quality_rating": "GREEN",
        }
    )


@router.post("/{version}/{phone_number_id}/messages")
async def send_message(version: str, phone_number_id: str, request: Request) -> Response:
    settings: SandboxSettings = request.app.state.settings
    try:
        await _base_latency(settings)
        fault = get_faults(request).take("graph", phone_number_id)
        if fault is not None:
            await _apply_fault(fault, settings)
        _authorise(settings, _bearer(request), phone_number_id)
        body = await _read_json(request)
        parsed = parse_request(body)
        category = (
            _check_rules(
                settings, phone_number_id, parsed, get_windows(request), get_limiter(request)
            )
            if isinstance(parsed, OutboundMessage)
            else None
        )
    except GraphError as error:
        if error.status == 504:
            return Response(status_code=504)
        return error.response()

    outbox = get_outbox(request)
    payload: dict[str, Any] = body  # recorded exactly as the client sent it
    if not isinstance(parsed, OutboundMessage):
        outbox.record(
            kind="read",
            api_version=version,
            phone_number_id=phone_number_id,
            type="read",
            message_id=parsed.message_id,
            payload=payload,
        )
        return JSONResponse({"success": True})

    wamid = new_wamid()
    outbox.record(
        kind="message",
        api_version=version,
        phone_number_id=phone_number_id,
        to=parsed.to,
        type=parsed.type,
        message_id=wamid,
        payload=payload,
    )
    callbacks: StatusCallbacks = request.app.state.status_callbacks
    callbacks.schedule(
        AcceptedMessage(
            phone_number_id=phone_number_id,
            wamid=wamid,
            recipient=parsed.wa_id,
            category=category or "service",
            biz_opaque_callback_data=parsed.biz_opaque_callback_data,
        )
    )
    message: dict[str, str] = {"id": wamid}
    if parsed.type == "template":
        message["message_status"] = "accepted"
    return JSONResponse(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": parsed.to, "wa_id": parsed.wa_id}],
            "messages": [message],
        }
    )
