"""The whole loop: the notifier sends, the Graph fake posts signed status webhooks to
the real gateway, the gateway publishes them, and the notifier moves the message along
its timeline (sent -> delivered -> read), publishing each change."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from cauce_contracts.outbound import OutboundStatusChanged, TextContent
from cauce_devstack.servers import NatsServer, free_port
from cauce_devstack.testing import serving
from cauce_gateway.app import create_app as create_gateway
from cauce_gateway.settings import ChannelAccount, GatewaySettings

from .conftest import CONTACT_SECRET, PHONE_NUMBER_ID, TENANT, running_stack, sandbox_settings

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
