"""Chattigo's API as the notifier calls it: login, outbound send, webhook registration;
plus sandbox-only controls to expire tokens and read registrations."""

from __future__ import annotations

import hmac
import json
import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from cauce_devstack.sandbox.bootstrap import SandboxDep
from cauce_devstack.sandbox.chattigo.errors import (
    bad_request,
    error,
    fault_answers,
    unauthorized,
)
from cauce_devstack.sandbox.chattigo.models import Login, OutboundMessage, WebhookRegistration
from cauce_devstack.sandbox.faults import fault_answer

_BEARER = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)

router = APIRouter(prefix="/chattigo", tags=["chattigo"])
sandbox_router = APIRouter(prefix="/sandbox/chattigo", tags=["sandbox"])


def _bearer(request: Request) -> str | None:
    match = _BEARER.match(request.headers.get("authorization", ""))
    return match.group(1) if match else None


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


@router.post("/login")
async def login(request: Request, sandbox: SandboxDep) -> Response:
    """``{username, password}`` -> ``{access_token, user, access}``. The token is a JWT
    (``sub``, ``iat``, ``exp``, ``jti``) living ``CAUCE_SANDBOX_CHATTIGO_TOKEN_TTL_S``
    (default 8 h, as the real one)."""
    path = "/login"
    try:
        body = Login.model_validate(await _json(request))
    except ValidationError as invalid:
        return bad_request(invalid, path)
    state = sandbox.chattigo
    expected = state.settings.chattigo_users.get(body.username)
    if expected is None or not hmac.compare_digest(
        body.password.encode(), expected.get_secret_value().encode()
    ):
        return error(401, "Unauthorized", "Bad credentials", path)
    token, jti = state.issue(body.username)
    sandbox.outbox.record(
        provider="chattigo",
        kind="login",
        phone_number_id="",
        type="login",
        message_id=jti,
        payload={"username": body.username},
    )
    return JSONResponse({"access_token": token, "user": body.username, "access": True})


@router.post("/webhooks/inbound")
async def send_message(request: Request, sandbox: SandboxDep) -> Response:
    """Bearer; a message in Chattigo's own format: ``id, did, msisdn, type, channel,
    content, name, isAttachment``, and ``attachment{mediaUrl, mimeType}`` when
    ``isAttachment``. 401 on a missing, unknown, tampered or expired token; 400 on a
    missing or unknown field; 200 with an EMPTY body when accepted, as Chattigo answers.
    """
    path = "/webhooks/inbound"
    fault = sandbox.faults.take("chattigo")  # an armed fault (/sandbox/faults) first
    if fault is not None:
        refusal = await fault_answer(fault, fault_answers(path), sandbox.settings.drop_hold_s)
        if refusal is not None:
            return refusal
    if sandbox.chattigo.check(_bearer(request)) is None:
        return unauthorized(path)
    raw = await _json(request)
    try:
        message = OutboundMessage.model_validate(raw)
    except ValidationError as invalid:
        return bad_request(invalid, path)
    sandbox.outbox.record(
        provider="chattigo",
        kind="message",
        phone_number_id=message.did,
        to=message.msisdn,
        type=message.type,
        message_id=str(message.id),
        payload=raw,
    )
    return Response(status_code=200)


@router.patch("/webhooks/inbound")
async def register_webhook(request: Request, sandbox: SandboxDep) -> Response:
    """Bearer; ``{waId, externalWebhook}``: where inbound messages for a number go."""
    path = "/webhooks/inbound"
    state = sandbox.chattigo
    if state.check(_bearer(request)) is None:
        return unauthorized(path)
    raw = await _json(request)
    try:
        registration = WebhookRegistration.model_validate(raw)
    except ValidationError as invalid:
        return bad_request(invalid, path)
    state.webhooks[registration.waId] = registration.externalWebhook
    sandbox.outbox.record(
        provider="chattigo",
        kind="webhook_registration",
        phone_number_id=registration.waId,
        type="webhook_registration",
        message_id=registration.waId,
        payload=raw,
    )
    return JSONResponse(
        {"waId": registration.waId, "externalWebhook": registration.externalWebhook}
    )


@sandbox_router.post("/tokens/expire")
async def expire_tokens(sandbox: SandboxDep) -> dict[str, int]:
    """Expire every Chattigo token issued so far: the next send answers 401."""
    return {"expired": sandbox.chattigo.expire_all()}


@sandbox_router.get("/webhooks")
async def list_webhooks(sandbox: SandboxDep) -> dict[str, str]:
    """The registrations: number -> where its inbound messages go."""
    return dict(sandbox.chattigo.webhooks)
