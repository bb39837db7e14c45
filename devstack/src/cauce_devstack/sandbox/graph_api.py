"""Fake WhatsApp Cloud API: ``POST /graph/{version}/{phone_number_id}/messages``.

Order of checks, as Meta does it: armed faults, then the bearer token (401, code 190),
then whether the token may act for this phone_number_id (400, code 100, subcode 33),
then the payload (400, code 100). Accepted requests are recorded in the outbox and
answered with Meta's success shape.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import secrets
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from cauce_devstack.sandbox.faults import Fault, get_faults
from cauce_devstack.sandbox.graph_errors import (
    GraphError,
    expired_token,
    invalid_parameter,
    invalid_token,
    missing_token,
    rate_limited,
    server_error,
    unknown_object,
)
from cauce_devstack.sandbox.graph_schema import OutboundMessage, parse_request
from cauce_devstack.sandbox.outbox import get_outbox
from cauce_devstack.sandbox.settings import SandboxSettings

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


@router.post("/{version}/{phone_number_id}/messages")
async def send_message(version: str, phone_number_id: str, request: Request) -> Response:
    settings: SandboxSettings = request.app.state.settings
    try:
        fault = get_faults(request).take("graph", phone_number_id)
        if fault is not None:
            await _apply_fault(fault, settings)
        _authorise(settings, _bearer(request), phone_number_id)
        body = await _read_json(request)
        parsed = parse_request(body)
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
