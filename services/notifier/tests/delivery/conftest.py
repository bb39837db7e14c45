"""A real notifier (uvicorn, this loop) on real NATS and PostgreSQL, sending to the
provider sandbox over HTTP; helpers to publish requests and read what came of them."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from cauce_contracts.envelope import Event
from cauce_contracts.inbound import InboundContact, InboundMessageReceived, TextMessage
from cauce_contracts.outbound import OutboundContent, OutboundMessageRequested
from cauce_contracts.registry import subject_of
from cauce_contracts.streams import NOTIFIER_WINDOWS
from cauce_contracts.subjects import Channel, contact_key
from cauce_devstack.minted_tokens import TokenMinter
from cauce_devstack.sandbox.app import create_app as create_sandbox
from cauce_devstack.sandbox.settings import SandboxSettings
from cauce_devstack.servers import NatsServer, free_port
from cauce_devstack.testing import eventually, service_test_values, serving, stored_events
from cauce_gateway.app import create_app as create_gateway
from cauce_gateway.settings import ChannelAccount, GatewaySettings
from cauce_notifier.app import create_app as create_notifier
from cauce_notifier.settings import DeclaredAccount, NotifierSettings
from cauce_runtime import Bus, ServiceSettings

TENANT = "acme"
PHONE_NUMBER_ID = "100000000000042"
GRAPH_TOKEN = "graph-token-for-delivery-tests"
#: Signs the tests' access tokens; every test notifier pins its public key.
MINTER = TokenMinter()
#: An operator of the test tenant with every permission (long-lived: the suite is long).
ADMIN_TOKEN = MINTER.token(TENANT, ttl_s=24 * 3600)
CUSTOMER = "573001234567"
CONTACT_SECRET = b"contact-key-secret-for-tests"
KEY = contact_key(CUSTOMER, CONTACT_SECRET)
#: Signs the Graph fake's status webhooks to the tests' gateway.
APP_SECRET = "app-secret-for-status-tests"


def sandbox_settings(**overrides: Any) -> SandboxSettings:
    values: dict[str, Any] = {
        "port": free_port(),
        "graph_tokens": {PHONE_NUMBER_ID: SecretStr(GRAPH_TOKEN)},
        "service_window_enforced": False,  # the notifier's own window check is under test
        "status_callbacks_enabled": False,
        "graph_rate_limit_per_second": 1000,
    }
    values.update(overrides)
    return SandboxSettings(**values)


def graph_account(
    *,
    rate_per_second: float = 80,
    token: str = GRAPH_TOKEN,
    business_account_id: str | None = None,
) -> DeclaredAccount:
    """The tests' WhatsApp Cloud API account (``PHONE_NUMBER_ID``), declared at start."""
    return DeclaredAccount(
        tenant_id=TENANT,
        channel="whatsapp",  # type: ignore[arg-type]
        account_id=PHONE_NUMBER_ID,
        rate_per_second=rate_per_second,
        business_account_id=business_account_id,
        credentials={"access_token": SecretStr(token)},
    )


def notifier_settings(
    nats_url: str, database_url: str, sandbox_url: str, tmp_path: Path, **overrides: Any
) -> NotifierSettings:
    values: dict[str, Any] = {
        **service_test_values(nats_url, tmp_path),
        "port": free_port(),
        "postgres_url": database_url,
        "identity_public_keys": MINTER.jwks,
        "contact_key_secret": CONTACT_SECRET.decode(),
        "graph_base_url": f"{sandbox_url}/graph",
        "chattigo_base_url": f"{sandbox_url}/chattigo",
        "ycloud_base_url": f"{sandbox_url}/ycloud",
        "accounts": [graph_account()],
        "credentials_retry_s": 0.5,
        "provider_timeout_s": 3.0,
        "media_allow_private_hosts": True,  # the sandbox is on 127.0.0.1
    }
    values.update(overrides)
    return NotifierSettings(**values)


@dataclass
class Stack:
    nats: NatsServer
    sandbox_url: str
    notifier_url: str
    bus: Bus
    http: httpx.AsyncClient
    database_url: str = ""
    published: list[uuid.UUID] = field(default_factory=list)

    @contextlib.asynccontextmanager
    async def db(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection to the notifier's database, to check what it recorded."""
        connection = await asyncpg.connect(self.database_url)
        try:
            yield connection
        finally:
            await connection.close()

    async def request(
        self,
        content: OutboundContent,
        *,
        recipient: str = CUSTOMER,
        event_id: uuid.UUID | None = None,
        msg_id: str | None = None,
        channel: Channel = Channel.WHATSAPP,
        account_id: str = PHONE_NUMBER_ID,
    ) -> OutboundMessageRequested:
        event = OutboundMessageRequested(
            event_id=event_id or uuid.uuid4(),
            tenant_id=TENANT,
            correlation_id="corr-delivery",
            channel=channel,
            contact_key=contact_key(recipient, CONTACT_SECRET),
            channel_account_id=account_id,
            recipient=recipient,
            content=content,
        )
        await self.bus.publish(event, subject_of(event), msg_id=msg_id)
        return event

    async def customer_wrote(
        self,
        recipient: str = CUSTOMER,
        channel: Channel = Channel.WHATSAPP,
        account_id: str = PHONE_NUMBER_ID,
    ) -> None:
        """An inbound message from the customer: opens the 24-hour window, and returns
        once the notifier has recorded it (a request published before that would find
        the window closed)."""
        event = InboundMessageReceived(
            tenant_id=TENANT,
            correlation_id="corr-inbound",
            channel=channel,
            channel_account_id=account_id,
            provider_message_id=f"wamid.IN{uuid.uuid4().hex[:10]}",
            contact=InboundContact(address=recipient, profile_name="Ana"),
            contact_key=contact_key(recipient, CONTACT_SECRET),
            sent_at=datetime.now(UTC),
            message=TextMessage(body="Hola"),
        )
        published = await self.bus.publish(event, subject_of(event))
        js = self.bus.connection.jetstream()

        async def recorded() -> bool:
            info = await js.consumer_info(NOTIFIER_WINDOWS.stream, NOTIFIER_WINDOWS.durable_name)
            return (info.ack_floor.stream_seq or 0) >= published.seq

        await self.wait_for(recorded, what="the notifier to record the inbound message")

    async def outcomes(self, stream: str = "OUTBOUND", prefix: str = "") -> list[Event]:
        return await stored_events(self.nats.url, stream, prefix)

    async def wait_for(
        self, check: Callable[[], Awaitable[bool]], timeout: float = 20.0, what: str = "it"
    ) -> None:
        await eventually(check, timeout, what, poll_s=0.1)

    async def outbox(self, provider: str = "graph") -> list[dict[str, Any]]:
        response = await self.http.get(
            f"{self.sandbox_url}/sandbox/outbox", params={"provider": provider}
        )
        entries: list[dict[str, Any]] = response.json()
        return [e for e in entries if e.get("kind", "message") == "message"]

    async def graph_metrics(self) -> dict[str, Any]:
        metrics: dict[str, Any] = (
            await self.http.get(f"{self.sandbox_url}/sandbox/metrics")
        ).json()
        return metrics["graph"].get(PHONE_NUMBER_ID, {})

    async def message(self, request_id: uuid.UUID) -> dict[str, Any]:
        response = await self.http.get(
            f"{self.notifier_url}/messages/{request_id}",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        body: dict[str, Any] = response.json()
        return body

    async def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(
            method,
            f"{self.notifier_url}{path}",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            **kwargs,
        )


@contextlib.asynccontextmanager
async def status_webhooks(
    nats_server: NatsServer, tmp_path: Path, **sandbox_overrides: Any
) -> AsyncIterator[SandboxSettings]:
    """A real gateway (this loop) taking the tests' WhatsApp number's webhooks, and the
    settings of a sandbox whose Graph fake posts each accepted send's statuses to it
    (``sent`` after 50 ms, then ``delivered`` and ``read``)."""
    gateway_settings = GatewaySettings(
        environment="test",
        port=free_port(),
        nats_url=nats_server.url,
        span_file=tmp_path / "gateway-spans.jsonl",
        contact_key_secret=SecretStr(CONTACT_SECRET.decode()),
        meta_app_secrets=[SecretStr(APP_SECRET)],
        whatsapp_accounts=[ChannelAccount(account_id=PHONE_NUMBER_ID, tenant_id=TENANT)],
    )
    async with serving(create_gateway(gateway_settings), gateway_settings.port) as gateway_url:
        yield sandbox_settings(
            **{
                "status_callbacks_enabled": True,
                "gateway_url": gateway_url,
                "app_secret": SecretStr(APP_SECRET),
                "status_sent_delay_s": 0.05,
                "status_delivered_delay_s": 0.1,
                "status_read_delay_s": 0.1,
                **sandbox_overrides,
            }
        )


@contextlib.asynccontextmanager
async def running_stack(
    nats_server: NatsServer,
    database_url: str,
    tmp_path: Path,
    sandbox: SandboxSettings | None = None,
    **notifier_overrides: Any,
) -> AsyncIterator[Stack]:
    sandbox = sandbox or sandbox_settings()
    async with serving(create_sandbox(sandbox), sandbox.port) as sandbox_url:
        settings = notifier_settings(
            nats_server.url, database_url, sandbox_url, tmp_path, **notifier_overrides
        )
        async with serving(create_notifier(settings), settings.port) as notifier_url:
            publisher = Bus(
                ServiceSettings(environment="test", nats_url=nats_server.url, _env_file=None)  # type: ignore[call-arg]
            )
            await publisher.start()
            try:
                async with httpx.AsyncClient(timeout=10) as http:
                    yield Stack(
                        nats_server, sandbox_url, notifier_url, publisher, http, database_url
                    )
            finally:
                await publisher.stop()


@pytest.fixture
async def stack(nats_server: NatsServer, database_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(nats_server, database_url, tmp_path) as running:
        yield running


def sent_ids(events: list[Event]) -> list[str]:
    return [json.loads(e.model_dump_json())["provider_message_id"] for e in events]
