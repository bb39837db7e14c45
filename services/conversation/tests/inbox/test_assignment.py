"""Waiting chats go to online agents, oldest first, never over an agent's or a team's
capacity, however many replicas assign at once (Chatwoot #13904: its limit bypassed),
and evenly (#11034): balanced mode gives the fewest-loaded agent the next chat, ties to
whoever waited longest since their last one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from pymongo import AsyncMongoClient

from cauce_contracts.identity import Permission
from cauce_conversation.assignment.assigner import Assigner
from cauce_conversation.assignment.leases import Leases
from cauce_conversation.assignment.roster import Agent, Roster
from cauce_conversation.model import Conversation, ConversationStatus
from cauce_conversation.store import ConversationStore

from .conftest import MINTER, Inbox

MakeConversation = Callable[..., Conversation]
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def agent(roster: Roster, user: str, *, capacity: int = 5, online: bool = True) -> None:
    await roster.put_agent(
        Agent(id=f"acme:{user}", tenant_id="acme", user_id=user, capacity=capacity, online=online)
    )


async def waiting_chats(
    store: ConversationStore, make_conversation: MakeConversation, count: int, start: int = 0
) -> list[Conversation]:
    return [
        await store.create(
            make_conversation(
                contact=f"57300{n:07d}",
                status=ConversationStatus.PENDING,
                handed_over=True,
                queued_at=T0 + timedelta(seconds=n),
            )
        )
        for n in range(start, start + count)
    ]


async def assignees(store: ConversationStore, chats: list[Conversation]) -> list[str | None]:
    return [(await store.get(chat.id)).assignee for chat in chats]  # type: ignore[union-attr]


def replica_passes(mongo_url: str, database: str, passes: int) -> None:
    """One replica in its own thread, loop and MongoDB connection (as another process
    would be), running assignment passes back to back."""

    async def run() -> None:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
        try:
            replica = Assigner.for_replica(ConversationStore(client, database))
            for _ in range(passes):
                await replica.run_pass()
            await replica.stop()  # as a replica shutting down: its leases given back
        finally:
            await client.close()

    asyncio.run(run())


async def test_no_agent_or_team_goes_over_capacity_with_two_replicas(
    inbox: Inbox,
    make_conversation: MakeConversation,
    conversation_store: ConversationStore,
    mongo_url: str,
    store_database: str,
) -> None:
    roster = Roster(conversation_store.database)
    await roster.put_team("acme", "general", mode="balanced", capacity=3)
    await agent(roster, "ana", capacity=2)
    await agent(roster, "luis", capacity=2)
    chats = await waiting_chats(conversation_store, make_conversation, 10)

    # two replicas at once, truly in parallel
    await asyncio.gather(
        *(asyncio.to_thread(replica_passes, mongo_url, store_database, 5) for _ in range(2))
    )
    replicas = [Assigner.for_replica(conversation_store), Assigner.for_replica(inbox.service.store)]

    loads = [await conversation_store.agent_load("acme", user) for user in ("ana", "luis")]
    assert sum(loads) == 3 and max(loads) <= 2  # the team's 3, nobody over 2
    given = await assignees(conversation_store, chats)
    assert [a is not None for a in given] == [True] * 3 + [False] * 7  # oldest first

    # capacity frees: the oldest waiting chat is next
    first = next(c for c, a in zip(chats, given, strict=True) if a is not None)
    resolved = await inbox.client.post(
        "/api/chats/status", json={"chat_id": first.id, "status": "resolved"}
    )
    assert resolved.status_code == 200
    await asyncio.gather(*(replica.run_pass() for replica in replicas))
    assert (await conversation_store.get(chats[3].id)).assignee is not None  # type: ignore[union-attr]
    assert (await conversation_store.get(chats[4].id)).assignee is None  # type: ignore[union-attr]


async def test_balanced_gives_the_fewest_loaded_then_the_longest_waiting(
    make_conversation: MakeConversation, conversation_store: ConversationStore
) -> None:
    roster = Roster(conversation_store.database)
    await roster.put_team("acme", "general", mode="balanced")
    for user in ("ana", "bea", "carla"):
        await agent(roster, user)
    chats = await waiting_chats(conversation_store, make_conversation, 9)
    assigner = Assigner.for_replica(conversation_store)
    await assigner.run_pass()
    given = await assignees(conversation_store, chats)
    assert sorted(given.count(u) for u in ("ana", "bea", "carla")) == [3, 3, 3]  # even
    assert given[:3] == ["ana", "bea", "carla"]  # ties: nobody assigned yet, then rotation


async def test_round_robin_rotates_and_offline_agents_get_nothing(
    inbox: Inbox, make_conversation: MakeConversation, conversation_store: ConversationStore
) -> None:
    roster = Roster(conversation_store.database)
    await roster.put_team("acme", "general", mode="round_robin")
    await agent(roster, "ana")
    await agent(roster, "bea", online=False)
    chats = await waiting_chats(conversation_store, make_conversation, 2)
    assigner = Assigner.for_replica(conversation_store)
    await assigner.run_pass()
    assert await assignees(conversation_store, chats) == ["ana", "ana"]

    # bea comes online through the API (her own token), and is next in the rotation
    bea = MINTER.headers("acme", subject="user:bea")
    online = await inbox.client.put(
        "/api/agents/me/availability", json={"online": True}, headers=bea
    )
    assert online.status_code == 200 and online.json()["online"] is True
    more = await waiting_chats(conversation_store, make_conversation, 2, start=10)
    await assigner.run_pass()
    assert await assignees(conversation_store, more) == ["bea", "ana"]


async def test_a_chat_an_agent_unassigns_goes_back_to_the_queue(
    inbox: Inbox, make_conversation: MakeConversation, conversation_store: ConversationStore
) -> None:
    roster = Roster(conversation_store.database)
    await roster.put_team("acme", "general")
    await agent(roster, "ana", capacity=1)
    [chat] = await waiting_chats(conversation_store, make_conversation, 1)
    await Assigner.for_replica(conversation_store).run_pass()
    assert await assignees(conversation_store, [chat]) == ["ana"]
    back = await inbox.client.post("/api/chats/assign", json={"chat_id": chat.id, "assignee": None})
    assert back.json()["assignee"] is None
    assert (await conversation_store.get(chat.id)).queued_at is not None  # type: ignore[union-attr]
    # a supervisor may give it to someone explicitly, over their capacity on purpose
    given = await inbox.client.post(
        "/api/chats/assign", json={"chat_id": chat.id, "assignee": "luis"}
    )
    assert given.json()["assignee"] == "luis"


async def test_agents_and_teams_are_the_callers_company_only(
    inbox: Inbox, conversation_store: ConversationStore
) -> None:
    roster = Roster(conversation_store.database)
    await agent(roster, "ana")
    await roster.put_team("acme", "ventas", capacity=4)
    other = MINTER.headers("other")
    assert (await inbox.client.get("/api/agents", headers=other)).json() == []
    assert (await inbox.client.get("/api/teams", headers=other)).json() == []
    listed = (await inbox.client.get("/api/agents")).json()
    assert [(a["user_id"], a["load"]) for a in listed] == [("ana", 0)]
    configured = await inbox.client.put(
        "/api/agents/ana", json={"teams": ["ventas"], "capacity": 3}
    )
    assert configured.json()["teams"] == ["ventas"] and configured.json()["capacity"] == 3
    reader = MINTER.headers("acme", Permission.CHATS_READ)  # an agent: sees, may not configure
    assert (await inbox.client.get("/api/teams", headers=reader)).status_code == 200
    refused = await inbox.client.put("/api/teams/ventas", json={"capacity": 9}, headers=reader)
    assert refused.status_code == 403


async def test_a_replica_whose_clock_jumps_ahead_does_not_take_a_held_lease(
    inbox: Inbox,
) -> None:
    database = inbox.store.database
    first, second = Leases(database, "replica-1"), Leases(database, "replica-2")
    assert await first.hold("assigner:acme")

    # the second replica's wall clock an hour ahead: by its own clock the lease lapsed
    with time_machine.travel(timedelta(hours=1)):
        assert not await second.hold("assigner:acme")
    assert await first.hold("assigner:acme")  # still the holder's, renewed
