"""A company's admin turns its bot off, or sends every customer to the agents: the
setting travels from the identity service's companies through JetStream KV to every
conversation replica, which follows it live (no restart)."""

from __future__ import annotations

import json

import nats

from cauce_contracts.identity import COMPANY_SETTINGS_BUCKET
from cauce_devstack.testing import eventually

from .conftest import TENANT, BotStack


async def set_bot(stack: BotStack, mode: str) -> None:
    """What the identity service writes when the company's ``bot`` changes."""
    nc = await nats.connect(stack.nats.url)
    try:
        bucket = await nc.jetstream().key_value(COMPANY_SETTINGS_BUCKET)
        await bucket.put(TENANT, json.dumps({"bot": mode}).encode())
    finally:
        await nc.close()


async def test_human_only_sends_customers_straight_to_the_agents(stack: BotStack) -> None:
    await set_bot(stack, "human_only")

    async def queued() -> list[dict[str, object]]:
        """A new customer writes; the conversations waiting for agents, once the setting
        has reached the service (a customer who wrote before it is answered by the bot,
        and stays open)."""
        await stack.customer().say("Hola, necesito ayuda")
        listing = await stack.inbox("GET", "/conversations", params={"status": "pending"})
        items: list[dict[str, object]] = listing.json()["items"]
        return items

    [pending, *_] = await eventually(queued, timeout=10, what="a conversation for the agents")
    messages = (await stack.inbox("GET", f"/conversations/{pending['id']}/messages")).json()
    assert [m["author"] for m in messages["items"]] == ["customer"]  # the bot said nothing
    assert pending["handed_over"] is True

    await set_bot(stack, "vehicle_tax")

    async def greeted() -> bool:
        customer = stack.customer()
        await customer.say("Hola")
        try:
            await customer.replies_until(lambda m: bool(m), "a greeting", timeout=2)
        except Exception:  # the setting has not arrived yet: another customer tries
            return False
        return True

    await eventually(greeted, timeout=15, what="the bot to answer again")
