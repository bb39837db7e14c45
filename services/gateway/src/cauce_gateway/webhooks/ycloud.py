"""YCloud webhooks, signed with ``YCloud-Signature`` (timestamped HMAC-SHA256)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from cauce_gateway.authenticity import verify_ycloud_signature
from cauce_gateway.gateway import GatewayDep
from cauce_gateway.parsing import parse_ycloud_webhook
from cauce_gateway.webhooks.responses import accepted

router = APIRouter(tags=["ycloud"])


@router.post(
    "/webhooks/ycloud",
    summary="Messages and statuses from YCloud (YCloud-Signature)",
    responses={401: {"description": "missing, wrong or stale signature; nothing published"}},
)
async def receive_ycloud(request: Request, gateway: GatewayDep) -> JSONResponse:
    body = await gateway.read_body(request)
    verify_ycloud_signature(
        body,
        request.headers.get("ycloud-signature"),
        [s.get_secret_value().encode() for s in gateway.settings.ycloud_webhook_secrets],
        tolerance_s=gateway.settings.ycloud_signature_tolerance_s,
    )
    result = parse_ycloud_webhook(body)
    return accepted(await gateway.publish(gateway.events_from(result, request)))
