"""YCloud's WhatsApp API as the notifier calls it: send a message, mark an inbound one as
read or show typing, all behind an ``X-API-Key``."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from cauce_devstack.sandbox.bootstrap import Sandbox, SandboxDep
from cauce_devstack.sandbox.faults import fault_answer
from cauce_devstack.sandbox.ycloud.errors import FAULT_ANSWERS, YCloudError, param_invalid
from cauce_devstack.sandbox.ycloud.validation import validate_message

if TYPE_CHECKING:
    from cauce_devstack.sandbox.settings import SandboxSettings

router = APIRouter(prefix="/ycloud/v2/whatsapp", tags=["ycloud"])


def _authorise(request: Request, settings: SandboxSettings) -> None:
    key = request.headers.get("x-api-key", "")
    if not key or not any(
        hmac.compare_digest(key.encode(), known.get_secret_value().encode())
        for known in settings.ycloud_api_keys
    ):
        raise YCloudError(401, "UNAUTHORIZED", "Invalid or missing API key.")


def new_wamid() -> str:
    return "wamid." + base64.b64encode(secrets.token_bytes(30)).decode()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise param_invalid("The request body is not valid JSON.") from None


@router.post("/messages")
async def send_message(request: Request, sandbox: SandboxDep) -> Response:
    """``X-API-Key``; ``{from, to, type, <type>: {...}, [context], [externalId]}``, the
    content objects being Meta's. Answers YCloud's message object with ``id``,
    ``wamid`` and ``status: "accepted"``; a missing or unknown key is 401
    ``UNAUTHORIZED``, a bad body 400 ``PARAM_INVALID``; an armed ``ycloud`` fault
    (``/sandbox/faults``) answers first."""
    fault = sandbox.faults.take("ycloud")
    if fault is not None:
        refusal = await fault_answer(fault, FAULT_ANSWERS, sandbox.settings.drop_hold_s)
        if refusal is not None:
            return refusal
    try:
        _authorise(request, sandbox.settings)
        body = validate_message(await _json(request), sandbox.settings)
    except YCloudError as error:
        return error.response()
    message_id = secrets.token_hex(12)
    wamid = new_wamid()
    kind = body["type"]
    sandbox.outbox.record(
        provider="ycloud",
        kind="message",
        phone_number_id="".join(c for c in body["from"] if c.isdigit()),
        to=body["to"],
        type=kind,
        message_id=wamid,
        payload=body,
    )
    answer: dict[str, Any] = {
        "id": message_id,
        "wamid": wamid,
        "status": "accepted",
        "from": body["from"],
        "to": body["to"],
        "type": kind,
        kind: body[kind],
        "createTime": _now(),
    }
    if "externalId" in body:
        answer["externalId"] = body["externalId"]
    return JSONResponse(answer)


async def _mark(request: Request, sandbox: Sandbox, inbound_id: str, action: str) -> Response:
    try:
        _authorise(request, sandbox.settings)
    except YCloudError as error:
        return error.response()
    sandbox.outbox.record(
        provider="ycloud",
        kind="read",
        phone_number_id="",
        type=action,
        message_id=inbound_id,
        payload={},
    )
    return Response(status_code=200)


@router.post("/inboundMessages/{inbound_id:path}/markAsRead")
async def mark_as_read(inbound_id: str, request: Request, sandbox: SandboxDep) -> Response:
    """``X-API-Key``; 200 with no body."""
    return await _mark(request, sandbox, inbound_id, "read")


@router.post("/inboundMessages/{inbound_id:path}/typing")
async def typing(inbound_id: str, request: Request, sandbox: SandboxDep) -> Response:
    """``X-API-Key``; 200 with no body."""
    return await _mark(request, sandbox, inbound_id, "typing")
