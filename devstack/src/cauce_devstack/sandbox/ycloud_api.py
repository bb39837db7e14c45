"""Fake YCloud WhatsApp API (``/ycloud``).

- ``POST /ycloud/v2/whatsapp/messages`` with ``X-API-Key``: ``{from, to, type,
  <type>: {...}, [context], [externalId]}``, the content objects being Meta's (checked
  with the Graph fake's schema). Answers YCloud's message object with ``id``, ``wamid``
  and ``status: "accepted"``.
- ``POST /ycloud/v2/whatsapp/inboundMessages/{id}/markAsRead`` and ``.../typing``:
  200 with no body.

Errors are YCloud's: ``{"error": {"status", "code", "message", ["target"],
"requestId"}}`` with a ``YCloud-Request-ID`` header; a missing or unknown key is 401
``UNAUTHORIZED``, a bad body 400 ``PARAM_INVALID``. Accepted requests go to the outbox
with ``provider="ycloud"``.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from cauce_devstack.sandbox.meta.message_schema import parse_request
from cauce_devstack.sandbox.outbox import get_outbox
from cauce_devstack.sandbox.settings import SandboxSettings

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
MESSAGE_TYPES = frozenset(
    {
        "text",
        "image",
        "video",
        "audio",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "template",
        "reaction",
    }
)
TOP_LEVEL = frozenset({"from", "to", "type", "context", "externalId"})


class YCloudError(Exception):
    def __init__(self, status: int, code: str, message: str, target: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target

    def response(self) -> JSONResponse:
        request_id = "req_" + secrets.token_urlsafe(15)
        error: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        error["requestId"] = request_id
        return JSONResponse(
            {"error": error}, status_code=self.status, headers={"YCloud-Request-ID": request_id}
        )


def _invalid(message: str, target: str | None = None) -> YCloudError:
    return YCloudError(400, "PARAM_INVALID", message, target)


def _authorise(request: Request) -> None:
    settings: SandboxSettings = request.app.state.settings
    key = request.headers.get("x-api-key", "")
    if not key or not any(
        hmac.compare_digest(key.encode(), known.get_secret_value().encode())
        for known in settings.ycloud_api_keys
    ):
        raise YCloudError(401, "UNAUTHORIZED", "Invalid or missing API key.")


def _validate(body: Any, settings: SandboxSettings) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _invalid("The request body must be a JSON object.")
    for field in ("from", "to"):
        value = body.get(field)
        if not isinstance(value, str) or not E164.match(value):
            raise _invalid(f"'{field}' must be a phone number in E.164 format.", field)
    if settings.ycloud_sender_numbers and body["from"] not in settings.ycloud_sender_numbers:
        raise _invalid("'from' is not a WhatsApp phone number of this account.", "from")
    kind = body.get("type")
    if kind not in MESSAGE_TYPES:
        raise _invalid(f"'type' must be one of {sorted(MESSAGE_TYPES)}.", "type")
    unknown = set(body) - TOP_LEVEL - {kind}
    if unknown:
        raise _invalid(f"Unknown field(s): {sorted(unknown)}.", sorted(unknown)[0])
    external_id = body.get("externalId")
    if external_id is not None and (not isinstance(external_id, str) or len(external_id) > 256):
        raise _invalid("'externalId' must be a string of at most 256 characters.", "externalId")
    meta = {
        "messaging_product": "whatsapp",
        "to": body["to"],
        "type": kind,
        kind: body.get(kind),
    }
    if "context" in body:
        meta["context"] = body["context"]
    try:
        parse_request(meta)
    except Exception as error:
        details = getattr(error, "details", None) or str(error)
        raise _invalid(str(details), str(kind)) from None
    return body


def new_wamid() -> str:
    return "wamid." + base64.b64encode(secrets.token_bytes(30)).decode()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise _invalid("The request body is not valid JSON.") from None


router = APIRouter(prefix="/ycloud/v2/whatsapp", tags=["ycloud"])


@router.post("/messages")
async def send_message(request: Request) -> Response:
    settings: SandboxSettings = request.app.state.settings
    try:
        _authorise(request)
        body = _validate(await _json(request), settings)
    except YCloudError as error:
        return error.response()
    message_id = secrets.token_hex(12)
    wamid = new_wamid()
    kind = body["type"]
    get_outbox(request).record(
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


async def _mark(request: Request, inbound_id: str, action: str) -> Response:
    try:
        _authorise(request)
    except YCloudError as error:
        return error.response()
    get_outbox(request).record(
        provider="ycloud",
        kind="read",
        phone_number_id="",
        type=action,
        message_id=inbound_id,
        payload={},
    )
    return Response(status_code=200)


@router.post("/inboundMessages/{inbound_id:path}/markAsRead")
async def mark_as_read(inbound_id: str, request: Request) -> Response:
    return await _mark(request, inbound_id, "read")


@router.post("/inboundMessages/{inbound_id:path}/typing")
async def typing(inbound_id: str, request: Request) -> Response:
    return await _mark(request, inbound_id, "typing")


def install(app: FastAPI) -> None:
    app.include_router(router)


__all__ = ["YCloudError", "install", "router"]
