"""The whole loop: the notifier sends, the Graph fake posts signed status webhooks to
the real gateway, the gateway publishes them, and the notifier moves the message along
its timeline (sent -> delivered -> read), publishing each change."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from pydantic import SecretStr

from cauce_contracts.inbound import InboundStatusUpdated, MessageStatus
from cauce_contracts.outbound import OutboundMessageRequested, OutboundStatusChanged, TextContent
from cauce_contracts.registry import subject_of
from cauce_contracts.subjects import Channel, contact_key
from cauce_devstack.servers import NatsServer, free_port
from cauce_devstack.testing import serving
from cauce_gateway.app import create_app as create_gateway
from cauce_gateway.settings import ChannelAccount, GatewaySettings
from cauce_notifier.store.messages import MessageStore

from .conftest import (
    CONTACT_SECRET,
    CUSTOMER,
    PHONE_NUMBER_ID,
    TENANT,
    running_stack,
    sandbox_settings,
)

APP_SECRET = "app-secret-for-status-tests"


async def test_statuses_from_the_provider_move_the_message_to_read(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
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
        sandbox = sandbox_settings(
            status_callbacks_enabled=True,
            gateway_url=gateway_url,
            app_secret=SecretStr(APP_SECRET),
            status_sent_delay_s=0.05,
            status_delivered_delay_s=0.1,
            status_read_delay_s=0.1,
        )
        async with running_stack(nats_server, database_url, tmp_path, sandbox=sandbox) as stack:
            await stack.customer_wrote()
            request = await stack.request(TextContent(body="¿Llegó?"))

            async def read() -> bool:
                return (await stack.message(request.event_id)).get("status") == "read"

            await stack.wait_for(read, what="the message to be read")
            message = await stack.message(request.event_id)
            assert [h["status"] for h in message["history"]] == [
                "requested",
                "sent",
                "delivered",
                "read",
            ]
            assert message["delivered_at"] is not None and message["read_at"] is not None
            changes = [
                e
                for e in await stack.outcomes()
                if isinstance(e, OutboundStatusChanged) and e.request_id == request.event_id
            ]
            assert [c.status for c in changes] == ["sent", "delivered", "read"]


async def test_a_status_that_overtakes_the_send_record_is_applied_once_it_lands(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    async with running_stack(nats_server, database_url, tmp_path) as stack:
        key = contact_key(CUSTOMER, CONTACT_SECRET)
        status = InboundStatusUpdated(
            tenant_id=TENANT,
            correlation_id="corr-status",
            channel=Channel.WHATSAPP,
            channel_account_id=PHONE_NUMBER_ID,
            provider_message_id="wamid.EARLY",
            status=MessageStatus.DELIVERED,
            recipient=CUSTOMER,
            contact_key=key,
            timestamp=datetime.now(UTC),
        )
        await stack.bus.publish(status, subject_of(status))
        await asyncio.sleep(0.5)  # the status is now waiting for its message
        request = OutboundMessageRequested(
            tenant_id=TENANT,
            correlation_id="corr-status",
            channel=Channel.WHATSAPP,
            contact_key=key,
            channel_account_id=PHONE_NUMBER_ID,
            recipient=CUSTOMER,
            content=TextContent(body="sent elsewhere"),
        )
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        try:
            store = MessageStore(pool)
            await store.record_requested(request)
            await store.record_sent(request.event_id, "wamid.EARLY", datetime.now(UTC))
        finally:
            await pool.close()

        async def delivered() -> bool:
            return (await stack.message(request.event_id)).get("status") == "delivered"

        await stack.wait_for(delivered, what="the early status to be applied")
