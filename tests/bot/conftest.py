"""The vehicle-tax assistant end to end, in this process: the sandbox (Graph and SCI
fakes, the customer simulator), gateway, conversation (one or more replicas), payments
and notifier, each a real uvicorn server on real NATS, PostgreSQL and MongoDB (or the
SecantusDB stand-in). Customers write through the simulator and read the bot's answers
from the sandbox's outbox, exactly as a phone would see them."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from pydantic import SecretStr
from pymongo import AsyncMongoClient

from cauce_contracts import streams
from cauce_conversation.app import create_app as create_conversation
from cauce_conversation.settings import ConversationSettings
from cauce_crm_sync.app import create_app as create_crm_sync
from cauce_crm_sync.settings import CrmSyncSettings
from cauce_devstack.demo.customer import ScriptedCustomer
from cauce_devstack.minted_tokens import TokenMinter
from cauce_devstack.sandbox.app import create_app as create_sandbox
from cauce_devstack.sandbox.settings import (
    DEV_GRAPH_TOKEN,
    DEV_PHONE_NUMBER_ID,
    DEV_SCI_WEBHOOK_SECRET,
    SandboxSettings,
)
from cauce_devstack.servers import NatsServer, free_port
from cauce_devstack.servers.postgres import PostgresServer
from cauce_devstack.testing import fresh_database, service_test_values, serving
from cauce_gateway.app import create_app as create_gateway
from cauce_gateway.settings import ChannelAccount, GatewaySettings, SciTenant
from cauce_notifier.app import create_app as create_notifier
from cauce_notifier.settings import DeclaredAccount, NotifierSettings
from cauce_payments.app import create_app as create_payments
from cauce_payments.settings import PaymentsSettings

TENANT = "acme"
CONTACT_SECRET = "contact-key-secret-for-bot-tests"
MINTER = TokenMinter()


@dataclass
class BotStack:
    nats: NatsServer
    sandbox_url: str
    gateway_url: str
    conversation_urls: list[str]
    http: httpx.AsyncClient
    mongo_url: str
    mongo_database: str
    customers: list[ScriptedCustomer] = field(default_factory=list)

    def customer(self, phone: str | None = None) -> ScriptedCustomer:
        phone = phone or f"57300{uuid.uuid4().int % 10_000_000:07d}"
        customer = ScriptedCustomer(self.http, self.sandbox_url, phone)
        self.customers.append(customer)
        return customer

    async def sandbox(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, f"{self.sandbox_url}{path}", **kwargs)

    async def inbox(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(
            method,
            f"{self.conversation_urls[0]}{path}",
            headers=MINTER.headers(TENANT),
            **kwargs,
        )

    async def sci_transactions(self) -> list[dict[str, Any]]:
        response = await self.sandbox("GET", "/sci/transactions")
        response.raise_for_status()
        body = response.json()
        return list(body["transactions"] if isinstance(body, dict) else body)


def _common(nats_url: str, tmp_path: Path) -> dict[str, Any]:
    return {**service_test_values(nats_url, tmp_path), "contact_key_secret": CONTACT_SECRET}


@contextlib.asynccontextmanager
async def bot_stack(
    nats_server: NatsServer,
    postgres_server: PostgresServer,
    mongo_url: str,
    tmp_path: Path,
    *,
    conversation_replicas: int = 1,
    conversation: dict[str, Any] | None = None,
    sandbox: dict[str, Any] | None = None,
    crm_sync: bool = False,
) -> AsyncIterator[BotStack]:
    common = _common(nats_server.url, tmp_path)
    gateway_port = free_port()
    sandbox_settings = SandboxSettings(
        port=free_port(),
        gateway_url=f"http://127.0.0.1:{gateway_port}",
        access_log=False,
        status_callbacks_enabled=False,
        graph_rate_limit_per_second=1000,
        **(sandbox or {}),
    )
    mongo_database = f"bot_{uuid.uuid4().hex[:10]}"
    async with (
        fresh_database(postgres_server, "bot") as database_url,
        serving(create_sandbox(sandbox_settings), sandbox_settings.port) as sandbox_url,
        contextlib.AsyncExitStack() as services,
    ):
        gateway = GatewaySettings(
            **common,
            port=gateway_port,
            whatsapp_accounts=[ChannelAccount(account_id=DEV_PHONE_NUMBER_ID, tenant_id=TENANT)],
            sci_tenants=[SciTenant(tenant_id=TENANT, webhook_secret=DEV_SCI_WEBHOOK_SECRET)],
        )
        gateway_url = await services.enter_async_context(
            serving(create_gateway(gateway), gateway.port)
        )
        payments = PaymentsSettings(
            **common,
            port=free_port(),
            postgres_url=database_url,
            sci_base_url=f"{sandbox_url}/sci",
            sci_retry_delay_s=0.3,
        )
        await services.enter_async_context(serving(create_payments(payments), payments.port))
        notifier = NotifierSettings(
            **common,
            port=free_port(),
            postgres_url=database_url,
            graph_base_url=f"{sandbox_url}/graph",
            accounts=[
                DeclaredAccount(
                    tenant_id=TENANT,
                    channel="whatsapp",  # type: ignore[arg-type]
                    account_id=DEV_PHONE_NUMBER_ID,
                    credentials={"access_token": SecretStr(DEV_GRAPH_TOKEN)},
                )
            ],
        )
        await services.enter_async_context(serving(create_notifier(notifier), notifier.port))
        if crm_sync:  # the bot's lead states into PostgreSQL and the sandbox's Odoo
            crm = CrmSyncSettings(
                **common,
                port=free_port(),
                postgres_url=database_url,
                odoo_url=f"{sandbox_url}/odoo",
                sync_idle_poll_s=0.05,
                reconcile_interval_s=0,
            )
            await services.enter_async_context(serving(create_crm_sync(crm), crm.port))
        conversation_urls = []
        for _ in range(conversation_replicas):
            settings = ConversationSettings(
                **common,
                port=free_port(),
                mongodb_url=mongo_url,
                mongodb_database=mongo_database,
                identity_public_keys=MINTER.jwks,
                **(conversation or {}),
            )
            conversation_urls.append(
                await services.enter_async_context(
                    serving(create_conversation(settings), settings.port)
                )
            )
        async with httpx.AsyncClient(timeout=15) as http:
            yield BotStack(
                nats_server,
                sandbox_url,
                gateway_url,
                conversation_urls,
                http,
                mongo_url,
                mongo_database,
            )
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
        try:
            await client.drop_database(mongo_database)
        finally:
            await client.close()


@pytest.fixture
async def stack(
    nats_server: NatsServer, postgres_server: PostgresServer, mongo_url: str, tmp_path: Path
) -> AsyncIterator[BotStack]:
    async with bot_stack(nats_server, postgres_server, mongo_url, tmp_path) as running:
        yield running


async def settled(stack: BotStack, timeout: float = 30.0) -> None:
    """Wait until every message is handled: the conversation, payments and notifier
    consumers have nothing pending or unacknowledged (so "no reply" can be asserted
    without guessing a delay)."""
    specs = [
        *streams.CONVERSATION_INBOUND,
        streams.CONVERSATION_PAYMENTS,
        streams.PAYMENTS_REQUESTS,
        streams.NOTIFIER_REQUESTS,
    ]
    nc = await nats.connect(stack.nats.url)
    try:
        jsm = nc.jsm()
        async with asyncio.timeout(timeout):
            while True:
                busy = 0
                for spec in specs:
                    info = await jsm.consumer_info(spec.stream, spec.durable_name)
                    busy += (info.num_pending or 0) + (info.num_ack_pending or 0)
                if not busy:
                    return
                await asyncio.sleep(0.1)
    finally:
        await nc.close()
