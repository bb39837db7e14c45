"""Two conversation replicas, bursts from 50 contacts: every contact's messages are
handled once each, in the order they arrived, and every one is answered."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from cauce_contracts.envelope import stable_event_id
from cauce_contracts.subjects import Channel
from cauce_devstack.servers import NatsServer
from cauce_devstack.servers.postgres import PostgresServer
from cauce_gateway.parsing.events import message_msg_id

from .conftest import BotStack, bot_stack

CONTACTS = 50
MESSAGES_EACH = 4


def _event_id(wamid: str) -> str:
    return str(stable_event_id(message_msg_id(Channel.WHATSAPP, wamid)))


async def _burst(stack: BotStack, index: int) -> tuple[str, list[str]]:
    customer = stack.customer(f"5731{index:08d}")
    wamids = [f"wamid.BURST{index:03d}x{n}" for n in range(MESSAGES_EACH)]
    for n, wamid in enumerate(wamids):
        # each send returns after JetStream stored it: this is the arrival order
        response = await stack.http.post(
            f"{stack.sandbox_url}/sandbox/customer/send",
            json={"from": customer.phone, "text": f"mensaje {n}", "message_id": wamid},
        )
        assert response.json()["gateway_status"] == 200, response.text
    return customer.phone, wamids


async def _conversations(stack: BotStack) -> dict[str, dict[str, Any]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongo_url, tz_aware=True)
    try:
        documents = client[stack.mongo_database]["conversations"].find({})
        return {doc["contact_address"]: doc async for doc in documents}
    finally:
        await client.close()


async def test_bursts_from_50_contacts_on_two_replicas_stay_in_order(
    nats_server: NatsServer, postgres_server: PostgresServer, mongo_url: str, tmp_path: Path
) -> None:
    async with bot_stack(
        nats_server, postgres_server, mongo_url, tmp_path, conversation_replicas=2
    ) as stack:
        sent = dict(await asyncio.gather(*(_burst(stack, i) for i in range(CONTACTS))))

        async def all_applied() -> dict[str, dict[str, Any]]:
            async with asyncio.timeout(120):
                while True:
                    conversations = await _conversations(stack)
                    done = sum(
                        len(doc.get("applied_event_ids", [])) >= MESSAGES_EACH
                        for doc in conversations.values()
                    )
                    if done == CONTACTS:
                        return conversations
                    await asyncio.sleep(0.5)

        conversations = await all_applied()
        assert set(conversations) == set(sent)
        for phone, wamids in sent.items():
            applied = conversations[phone]["applied_event_ids"]
            # once each, in arrival order
            assert applied == [_event_id(wamid) for wamid in wamids], phone

        # every message answered, none twice: the replies reach the provider fake
        async def replies_per_contact() -> dict[str, int]:
            response = await stack.sandbox("GET", "/sandbox/outbox", params={"provider": "graph"})
            counts: dict[str, int] = {}
            for entry in response.json():
                if entry["kind"] == "message":
                    counts[entry["to"]] = counts.get(entry["to"], 0) + 1
            return counts

        previous: dict[str, int] = {}
        async with asyncio.timeout(120):
            while True:
                per_turn = await replies_per_contact()
                settled = per_turn == previous
                if (
                    settled
                    and len(per_turn) == CONTACTS
                    and min(per_turn.values()) >= MESSAGES_EACH
                ):
                    break
                previous = per_turn
                await asyncio.sleep(1.0)
        # Every contact had the same conversation, so exactly the same replies.
        assert len(set(per_turn.values())) == 1, per_turn
