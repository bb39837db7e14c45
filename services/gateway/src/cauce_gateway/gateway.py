"""What every webhook route needs, wired once at start (the gateway's bootstrap object)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from cauce_contracts.subjects import Channel
from cauce_gateway.accounts import AccountDirectory
from cauce_gateway.delivery import Delivery, correlation_id
from cauce_gateway.parsing import ParseResult, Publication, build_inbound_events
from cauce_gateway.publishing import publish_all
from cauce_gateway.request_body import read_body
from cauce_gateway.settings import GatewaySettings
from cauce_runtime import Bus, wired


@dataclass
class Gateway:
    settings: GatewaySettings
    bus: Bus
    accounts: AccountDirectory
    # Secrets as the HMACs take them, encoded once at start rather than per webhook.
    contact_key_secret: bytes = field(init=False, repr=False)
    meta_app_secrets: tuple[bytes, ...] = field(init=False, repr=False)
    ycloud_webhook_secrets: tuple[bytes, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        settings = self.settings
        self.contact_key_secret = settings.contact_key_secret.get_secret_value().encode()
        self.meta_app_secrets = tuple(
            s.get_secret_value().encode() for s in settings.meta_app_secrets
        )
        self.ycloud_webhook_secrets = tuple(
            s.get_secret_value().encode() for s in settings.ycloud_webhook_secrets
        )

    @classmethod
    def build(cls, settings: GatewaySettings, bus: Bus) -> Gateway:
        return cls(settings=settings, bus=bus, accounts=AccountDirectory.from_settings(settings))

    async def read_body(self, request: Request) -> bytes:
        return await read_body(request.receive, request.headers, self.settings.max_body_bytes)

    async def delivery(self, request: Request) -> Delivery:
        """A FastAPI request as the handlers take it (the lane builds its own)."""
        return Delivery(
            await self.read_body(request),
            request.headers,
            request.query_params,
            request.path_params,
        )

    def events_from(
        self, result: ParseResult, headers: Mapping[str, str], *, tenant: str | None = None
    ) -> list[Publication]:
        """Inbound events for a parsed delivery; ``tenant`` pins the tenant (Chattigo's
        URL token already says whose account it is)."""

        def tenant_for(channel: Channel, account_id: str) -> str | None:
            return tenant if tenant is not None else self.accounts.tenant_for(channel, account_id)

        def pinned(channel: Channel, business_account_id: str) -> str | None:
            return tenant

        return build_inbound_events(
            result.all_items(),
            tenant_for=self.accounts.tenant_for if tenant is None else tenant_for,
            contact_key_secret=self.contact_key_secret,
            correlation_id=correlation_id(headers),
            received_at=datetime.now(UTC),
            business_tenant_for=self.accounts.business_tenant_for if tenant is None else pinned,
        )

    async def publish(self, publications: list[Publication]) -> int:
        await publish_all(self.bus, publications)
        return len(publications)


#: What a webhook route takes to reach the gateway wired at start. Async, like every
#: dependency here: FastAPI runs a plain ``def`` dependency in a thread pool, a costly hop
#: on every webhook.
GatewayDep = Annotated[Gateway, Depends(wired(Gateway))]
