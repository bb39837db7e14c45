"""YCloud webhooks, signed with ``YCloud-Signature`` (timestamped HMAC-SHA256)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cauce_gateway.authenticity import verify_ycloud_signature
from cauce_gateway.delivery import Delivery
from cauce_gateway.gateway import Gateway, GatewayDep
from cauce_gateway.parsing import parse_ycloud_webhook
from cauce_gateway.webhooks.responses import Answer, accepted

router = APIRouter(tags=["ycloud"])


@router.post(
    "/webhooks/ycloud",
    summary="Messages and statuses from YCloud (YCloud-Signature)",
    responses={401: {"description": "missing, wrong or stale signature; nothing published"}},
)
async def receive_ycloud(request: Request, gateway: GatewayDep) -> Response:
    return (await accept_ycloud(gateway, await gateway.delivery(request))).response()


async def accept_ycloud(gateway: Gateway, delivery: Delivery) -> Answer:
    verify_ycloud_signature(
        delivery.body,
        delivery.headers.get("ycloud-signature"),
        gateway.ycloud_webhook_secrets,
        tolerance_s=gateway.settings.ycloud_signature_tolerance_s,
    )
    result = parse_ycloud_webhook(delivery.body)
    return accepted(await gateway.publish(gateway.events_from(result, delivery.headers)))
