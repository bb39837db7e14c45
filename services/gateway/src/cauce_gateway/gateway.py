"""What every webhook route needs, wired once at start (the gateway's bootstrap object)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from opentelemetry import trace

from cauce_contracts.subjects import Channel
from cauce_gateway.accounts import AccountDirectory
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

    @classmethod
    def build(cls, settings: GatewaySettings, bus: Bus) -> Gateway:
        return cls(settings=settings, bus=bus, accounts=AccountDirectory.from_settings(settings))

    @property
    def contact_key_secret(self) -> bytes:
        return self.settings.contact_key_secret.get_secret_value().encode()

    async def read_body(self, request: Request) -> bytes:
        return await read_body(request, self.settings.max_body_bytes)

    def events_from(
        self, result: ParseResult, request: Request, *, tenant: str | None = None
    ) -> list[Publication]:
        """Inbound events for a parsed delivery; ``tenant`` pins the tenant (Chattigo's
        URL token already says whose account it is)."""

        def tenant_for(channel: Channel, account_id: str) -> str | None:
            return tenant if tenant is not None else self.accounts.tenant_for(channel, account_id)

        def pinned(channel: Channel, business_account_id: str) -> str | None:
            return tenant

        return build_inbound_events(
            result.all_items(),
            tenant_for=tenant_for,
            contact_key_secret=self.contact_key_secret,
            correlation_id=correlation_id(request),
            received_at=datetime.now(UTC),
            business_tenant_for=self.accounts.business_tenant_for if tenant is None else pinned,
        )

    async def publish(self, publications: list[Publication]) -> int:
        await publish_all(self.bus, publications)
        return len(publications)


def correlation_id(request: Request) -> str:
    """The caller's ``X-Request-Id`` when given, else the trace id of this request, so an
    SRE can go from any event straight to its trace."""
    given = request.headers.get("x-request-id")
    if given and len(given) <= 128:
        return given
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        return format(span_context.trace_id, "032x")
    return uuid.uuid4().hex


#: What a webhook route takes to reach the gateway wired at start. Async, like every
#: dependency here: FastAPI runs a plain ``def`` dependency in a thread pool, a costly hop
#: on every webhook.
GatewayDep = Annotated[Gateway, Depends(wired(Gateway))]
