"""The channel accounts' routes, published for the gateway: every account the notifier
holds (made through the admin API or declared in ``CAUCE_ACCOUNTS``) as an entry of the
JetStream KV bucket ``channel-routes`` (:mod:`cauce_contracts.channel_routes`), so the
gateway routes its webhooks to its company without a restart.

The bucket mirrors the store (:class:`~cauce_runtime.bus.BucketMirror`): an API write
publishes the difference at once, and every ``reconcile_s`` everything is written again.
"""

from __future__ import annotations

import logging

from cauce_contracts.channel_routes import CHANNEL_ROUTES_BUCKET, ChannelRoute
from cauce_notifier.store.accounts import AccountInfo, AccountStore
from cauce_runtime import Bus
from cauce_runtime.bus import BucketMirror

logger = logging.getLogger(__name__)


def route_of(info: AccountInfo) -> ChannelRoute:
    return ChannelRoute(
        channel=info.channel,
        account_id=info.account_id,
        tenant_id=info.tenant_id,
        business_account_id=info.business_account_id,
        url_token_sha256=info.webhook_token_sha256,
    )


class ChannelRoutes(BucketMirror):
    def __init__(self, accounts: AccountStore, bus: Bus, *, reconcile_s: float = 300.0) -> None:
        super().__init__(bus, CHANNEL_ROUTES_BUCKET, self._routes, reconcile_s=reconcile_s)
        self.accounts = accounts

    async def _routes(self) -> dict[str, bytes]:
        routes: dict[str, bytes] = {}
        for info in await self.accounts.list_info():
            try:
                route = route_of(info)
                routes[route.key] = route.model_dump_json().encode()
            except ValueError:
                logger.error("account %s has no routable id; not published", info.id)
        return routes
