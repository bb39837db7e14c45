"""Channel accounts added through the API, live: the routes the notifier keeps in the
JetStream KV bucket ``channel-routes`` (see :mod:`cauce_contracts.channel_routes`),
followed by every gateway replica. Accounts in the environment
(``CAUCE_WHATSAPP_ACCOUNTS``...) still work and win over a route for the same account.
"""

from __future__ import annotations

import hashlib
import logging

from nats.js.kv import KV_DEL, KV_PURGE, KeyValue
from pydantic import SecretStr, ValidationError

from cauce_contracts.channel_routes import ChannelRoute, normalized_account_id
from cauce_contracts.subjects import Channel
from cauce_gateway.settings import ChattigoAccount

logger = logging.getLogger(__name__)


class LiveRoutes:
    """The routes as the bucket has them now (a KV watch calls :meth:`apply`)."""

    def __init__(self) -> None:
        self._routes: dict[str, ChannelRoute] = {}
        self._by_account: dict[tuple[Channel, str], str] = {}
        self._by_business_account: dict[tuple[Channel, str], str] = {}
        self._chattigo_by_token_hash: dict[str, ChannelRoute] = {}

    def apply(self, entry: KeyValue.Entry) -> None:
        """An entry of the bucket: a route added or changed, or removed."""
        if entry.operation in (KV_DEL, KV_PURGE) or not entry.value:
            self._routes.pop(entry.key, None)
        else:
            try:
                self._routes[entry.key] = ChannelRoute.model_validate_json(entry.value)
            except ValidationError:
                logger.error("channel route %s is malformed; ignored", entry.key)
                return
        self._index()

    def _index(self) -> None:
        routes = list(self._routes.values())
        self._by_account = {
            (r.channel, normalized_account_id(r.channel, r.account_id)): r.tenant_id for r in routes
        }
        self._by_business_account = {
            (r.channel, r.business_account_id): r.tenant_id
            for r in routes
            if r.business_account_id is not None
        }
        self._chattigo_by_token_hash = {
            r.url_token_sha256: r
            for r in routes
            if r.channel is Channel.CHATTIGO and r.url_token_sha256 is not None
        }

    def tenant_for(self, channel: Channel, account_id: str) -> str | None:
        return self._by_account.get((channel, normalized_account_id(channel, account_id)))

    def business_tenant_for(self, channel: Channel, business_account_id: str) -> str | None:
        return self._by_business_account.get((channel, business_account_id))

    def chattigo_account(self, url_token: str) -> ChattigoAccount | None:
        """The Chattigo account whose webhook URL carries ``url_token`` (matched by its
        SHA-256: the bucket never holds the token)."""
        route = self._chattigo_by_token_hash.get(hashlib.sha256(url_token.encode()).hexdigest())
        if route is None:
            return None
        return ChattigoAccount(
            account_id=route.account_id, tenant_id=route.tenant_id, url_token=SecretStr(url_token)
        )
