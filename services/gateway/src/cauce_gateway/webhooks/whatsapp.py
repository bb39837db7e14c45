"""Meta WhatsApp Cloud API webhooks: the verification handshake and signed deliveries."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response

from cauce_contracts.subjects import Channel
from cauce_gateway.authenticity import verify_meta_signature
from cauce_gateway.delivery import Delivery
from cauce_gateway.gateway import Gateway, GatewayDep
from cauce_gateway.parsing import parse_meta_webhook
from cauce_gateway.webhooks.responses import Answer, accepted
from cauce_runtime import problem_response

router = APIRouter(tags=["whatsapp"])


@router.get(
    "/webhooks/whatsapp",
    summary="Meta's webhook verification handshake",
    response_class=PlainTextResponse,
    responses={403: {"description": "wrong mode or verify token"}},
)
async def verify_subscription(
    gateway: GatewayDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    verify_token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=256)] = None,
) -> Response:
    expected = gateway.settings.meta_verify_token.get_secret_value().encode()
    offered = (verify_token or "").encode()
    if mode == "subscribe" and challenge is not None and hmac.compare_digest(expected, offered):
        return PlainTextResponse(challenge)
    return problem_response(403, "Verification failed", "hub.mode or hub.verify_token is wrong")


@router.post(
    "/webhooks/whatsapp",
    summary="Messages, statuses and business-account changes from the WhatsApp Cloud API "
    "(X-Hub-Signature-256)",
    responses={
        401: {"description": "missing or wrong signature; nothing published"},
        413: {"description": "body over the size limit"},
        503: {"description": "the bus could not make the events durable; retry"},
    },
)
async def receive_whatsapp(request: Request, gateway: GatewayDep) -> Response:
    return (await accept_whatsapp(gateway, await gateway.delivery(request))).response()


async def accept_whatsapp(gateway: Gateway, delivery: Delivery) -> Answer:
    """Where a WhatsApp webhook is verified, parsed and made durable (the lane and the
    route above both run this)."""
    signature = delivery.headers.get("x-hub-signature-256")
    verify_meta_signature(delivery.body, signature, gateway.meta_app_secrets)
    result = parse_meta_webhook(delivery.body, channel=Channel.WHATSAPP)
    return accepted(await gateway.publish(gateway.events_from(result, delivery.headers)))
