"""Chattigo deliveries (Meta format or its legacy ISV format).

Chattigo signs nothing, so each account registers a URL carrying an unguessable token;
the token, compared in constant time, is the authentication and names the tenant.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from cauce_gateway.authenticity import NotAuthentic
from cauce_gateway.delivery import Delivery
from cauce_gateway.gateway import Gateway, GatewayDep
from cauce_gateway.parsing import parse_chattigo_webhook
from cauce_gateway.webhooks.responses import Answer, accepted

router = APIRouter(tags=["chattigo"])


@router.post(
    "/webhooks/chattigo/{account_token}",
    summary="Messages and statuses forwarded by Chattigo (per-account URL token)",
    responses={401: {"description": "unknown URL token; nothing published"}},
)
async def receive_chattigo(
    request: Request,
    gateway: GatewayDep,
    account_token: Annotated[str, Path(max_length=256)],
) -> Response:
    delivery = await gateway.delivery(request)
    return (await accept_chattigo(gateway, delivery, account_token)).response()


async def accept_chattigo(gateway: Gateway, delivery: Delivery, account_token: str) -> Answer:
    account = gateway.accounts.chattigo_account(account_token)
    if account is None:
        raise NotAuthentic("unknown Chattigo webhook token")
    result = parse_chattigo_webhook(delivery.body, account_did=account.account_id)
    publications = gateway.events_from(result, delivery.headers, tenant=account.tenant_id)
    return accepted(await gateway.publish(publications))


async def accept_chattigo_at_token_path(gateway: Gateway, delivery: Delivery) -> Answer:
    """The lane's entry: the token is the last segment of the path."""
    return await accept_chattigo(gateway, delivery, delivery.path_params["account_token"])
