"""The whole loop: the notifier sends, the Graph fake posts signed status webhooks to
the real gateway, the gateway publishes them, and the notifier moves the message along
its timeline (sent -> delivered -> read), publishing each change; a send whose answer
was lost is recorded from the status webhook naming its request, not sent again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from cauce_contracts.inbound import InboundStatusUpdated, MessageStatus
from cauce_contracts.outbound import (
    OutboundMessageRequested,
    OutboundMessageSent,
    OutboundStatusChanged,
    TextContent,
)
from cauce_contracts.registry import subject_of
from cauce_contracts.streams import NOTIFIER_REQUESTS
from cauce_contracts.subjects import Channel, contact_key
from cauce_devstack.servers import NatsServer
from cauce_notifier.store.messages import MessageStore

from .conftest import (
    CONTACT_SECRET,
    CUSTOMER,
    PHONE_NUMBER_ID,
    TENANT,
    running_stack,
    status_webhooks,
)


async def test_statuses_from_the_provider_move_the_message_to_read(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    async with (
        status_webhooks(nats_server, tmp_path) as sandbox,
        running_stack(nats_server, database_url, tmp_path, sandbox=sandbox) as stack,
    ):
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


@pytest.mark.parametrize(
    "sent_after_s",
    [
        0.05,  # the status comes before any retry would
        4.0,  # later than a retry's backoff (2 s): only the wait for it prevents a resend
    ],
)
async def test_a_send_whose_answer_was_lost_is_recorded_from_its_status_not_sent_twice(
    nats_server: NatsServer, database_url: str, tmp_path: Path, sent_after_s: float
) -> None:
    # Meta takes the send, but its answer never comes: the notifier's read times out
    async with (
        status_webhooks(
            nats_server, tmp_path, drop_hold_s=1.5, status_sent_delay_s=sent_after_s
        ) as sandbox,
        running_stack(
            nats_server, database_url, tmp_path, sandbox=sandbox, provider_timeout_s=0.5
        ) as stack,
    ):
        await stack.customer_wrote()
        armed = await stack.http.post(
            f"{stack.sandbox_url}/sandbox/faults", json={"kind": "answer_lost"}
        )
        assert armed.status_code == 201
        request = await stack.request(TextContent(body="¿Llegó?"))

        async def delivered() -> bool:
            return (await stack.message(request.event_id)).get("status") in (
                "delivered",
                "read",
            )

        await stack.wait_for(delivered, what="the lost send's statuses to be applied")
        js = stack.bus.connection.jetstream()

        async def settled() -> bool:
            info = await js.consumer_info(NOTIFIER_REQUESTS.stream, NOTIFIER_REQUESTS.durable_name)
            return info.num_ack_pending == 0 and info.num_pending == 0

        # the request's redelivery (after its wait) finds it sent, and is acked
        await stack.wait_for(settled, what="the request to be acked")

        [call] = await stack.outbox()
        assert call["payload"]["biz_opaque_callback_data"] == str(request.event_id)
        message = await stack.message(request.event_id)
        assert message["provider_message_id"] == call["message_id"]
        sent = [
            e
            for e in await stack.outcomes()
            if isinstance(e, OutboundMessageSent) and e.request_id == request.event_id
        ]
        assert [e.provider_message_id for e in sent] == [call["message_id"]]
