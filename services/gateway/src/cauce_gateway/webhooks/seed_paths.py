"""The webhook URLs of the systems cauce replaces, as aliases of cauce's own routes, so a
team moving over changes no setting at Meta, Chattigo, YCloud or ManyChat. Each alias
is the same handler as cauce's path (same verification, same events, same answers);
the OpenAPI document lists them under the ``seed aliases`` tag, each naming its route.

- vehicle-debt bot: ``GET/POST /api/webhookMeta/webhookMessage`` -> ``/webhooks/whatsapp``
- bulk campaigns: ``GET/POST /api/v1/webhooks/whatsapp`` -> ``/webhooks/whatsapp``
- Chattigo integration: ``POST /api/v1/webhook?token=`` -> ``/webhooks/chattigo/{token}``
  (Chattigo signs nothing: without the account's token in the query, no event)
- multi-company inbox: ``POST /api/webhooks/ycloud`` -> ``/webhooks/ycloud``
- ManyChat sync: ``POST /api/v1/manychat/webhook/contact`` and
  ``/api/v1/manychat/webhook/campaign-assignment`` -> ``/webhooks/manychat/...``
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from cauce_gateway.gateway import GatewayDep
from cauce_gateway.webhooks import chattigo, manychat, whatsapp, ycloud

TAG = "seed aliases"
router = APIRouter(tags=[TAG])


def _alias(path: str, endpoint: Callable[..., Any], method: str, of: str, seed: str) -> None:
    router.add_api_route(
        path,
        endpoint,
        methods=[method],
        summary=f"Alias of {method} {of} ({seed})",
        description=f"The {seed}'s URL: the same handler as `{method} {of}`.",
        name=f"{endpoint.__name__}_at_{path.strip('/').replace('/', '_')}",
    )


#: The seed systems' WhatsApp webhook URLs (also served by the webhook lane).
WHATSAPP_ALIASES = {
    "/api/webhookMeta/webhookMessage": "vehicle-debt bot",
    "/api/v1/webhooks/whatsapp": "bulk campaigns system",
}
YCLOUD_ALIAS = "/api/webhooks/ycloud"

for _path, _seed in WHATSAPP_ALIASES.items():
    _alias(_path, whatsapp.verify_subscription, "GET", "/webhooks/whatsapp", _seed)
    _alias(_path, whatsapp.receive_whatsapp, "POST", "/webhooks/whatsapp", _seed)
_alias(YCLOUD_ALIAS, ycloud.receive_ycloud, "POST", "/webhooks/ycloud", "inbox system")
_alias(
    "/api/v1/manychat/webhook/contact",
    manychat.receive_contact,
    "POST",
    "/webhooks/manychat/contact",
    "ManyChat sync",
)
_alias(
    "/api/v1/manychat/webhook/campaign-assignment",
    manychat.receive_campaign_assignment,
    "POST",
    "/webhooks/manychat/campaign-assignment",
    "ManyChat sync",
)


@router.post(
    "/api/v1/webhook",
    summary="Alias of POST /webhooks/chattigo/{account_token} (the Chattigo integration)",
    description="The Chattigo integration's URL, the account's token in the query: the "
    "same handler as `POST /webhooks/chattigo/{account_token}`; no token, no event (401).",
    responses={401: {"description": "missing or unknown token; nothing published"}},
)
async def receive_chattigo_at_seed_path(
    request: Request,
    gateway: GatewayDep,
    token: Annotated[str, Query(max_length=256)] = "",
) -> Response:
    return await chattigo.receive_chattigo(request, gateway, token)
