"""The store's contract, against SecantusDB or a real MongoDB (``MONGODB_URL``)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from cauce_conversation.model import Conversation, ConversationStatus, MessageRecord, Report
from cauce_conversation.store import ConversationStore
from cauce_devstack.servers.ports import free_port
from cauce_runtime import InvalidCursor, TransientError

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MakeConversation = Callable[..., Conversation]


def message(conversation: Conversation, n: int, at: datetime) -> MessageRecord:
    return MessageRecord(
        id=f"whatsapp:wamid.{n:03d}",
        conversation_id=conversation.id,
        tenant_id=conversation.tenant_id,
        direction="inbound",
        author="customer",
        type="text",
        text=f"hola {n}",
        payload={"message": {"type": "text", "body": f"hola {n}"}},
        at=at,
    )


def assert_utc(value: datetime | None) -> None:
    assert value is not None and value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)


async def test_create_then_get_round_trips_with_utc_datetimes(
    conversation_store: ConversationStore, make_conversation: MakeConversation
) -> None:
    created = await conversation_store.create(
        make_conversation(slots={"placa": "HHO137", "debts": [{"vigencia": 2025}]})
    )
    loaded = await conversation_store.get(created.id)

    assert loaded is not None and loaded == created
    assert loaded.slots == {"placa": "HHO137", "debts": [{"vigencia": 2025}]}
    assert loaded.status is ConversationStatus.OPEN and loaded.version == 0
    assert_utc(loaded.created_at)
    assert_utc(loaded.updated_at)
    assert await conversation_store.get("no-such-conversation") is None


async def test_racing_creates_converge_on_one_conversation(
    conversation_store: ConversationStore, make_conversation: MakeConversation
) -> None:
    first = make_conversation(profile_name="Ana")
    second = make_conversation(profile_name="Ana María")

    results = await asyncio.gather(
        conversation_store.create(first), conversation_store.create(second)
    )

    stored = await conversation_store.get(first.id)
    assert stored is not None
    assert results[0] == results[1] == stored


async def test_two_saves_from_the_same_read_exactly_one_wins(
    conversation_store: ConversationStore, make_conversation: MakeConversation
) -> None:
    original = await conversation_store.create(make_conversation())
    read = await conversation_store.get(original.id)
    assert read is not None

    outcomes = await asyncio.gather(
        conversation_store.save(read.model_copy(update={"step": "ask_plate"})),
        conversation_store.save(read.model_copy(update={"assignee": "ana"})),
    )

    winners = [outcome for outcome in outcomes if outcome is not None]
    assert len(winners) == 1
    stored = await conversation_store.get(original.id)
    assert stored == winners[0]
    assert stored.version == 1
    assert stored.updated_at >= original.updated_at
    assert_utc(stored.updated_at)

    # The loser re-reads and re-applies: now it goes through.
    stale = await conversation_store.save(
        read.model_copy(update={"status": ConversationStatus.CLOSED})
    )
    assert stale is None
    retried = await conversation_store.save(
        stored.model_copy(update={"status": ConversationStatus.CLOSED})
    )
    assert retried is not None and retried.version == 2
    assert (await conversation_store.get(original.id)) == retried


async def test_save_of_an_unknown_conversation_changes_nothing(
    conversation_store: ConversationStore, make_conversation: MakeConversation
) -> None:
    ghost = make_conversation()
    assert await conversation_store.save(ghost) is None
    assert await conversation_store.get(ghost.id) is None


async def test_a_duplicate_message_is_refused(
    conversation_store: ConversationStore, make_conversation: MakeConversation
) -> None:
    conversation = make_conversation()
    assert await conversation_store.add_message(message(conversation, 1, T0)) is True
    replay = message(conversation, 1, T0 + timedelta(seconds=5)).model_copy(
        update={"text": "changed"}
    )
    assert await conversation_store.add_message(replay) is False

    items, next_cursor = await conversation_store.list_messages(conversation.id)
    assert [(item.id, item.text) for item in items] == [("whatsapp:wamid.001", "hola 1")]
    assert next_cursor is None
    assert_utc(items[0].at)


async def test_a_messages_turn_is_remembered_once_marked(
    conversation_store: ConversationStore, make_conversation: MakeConversation
) -> None:
    conversation = make_conversation()
    recorded = message(conversation, 1, T0)
    await conversation_store.add_message(recorded)
    assert await conversation_store.turn_taken(recorded.id) is False

    await conversation_store.mark_turn_taken(recorded.id)

    assert await conversation_store.turn_taken(recorded.id) is True
    assert await conversation_store.turn_taken("whatsapp:wamid.unknown") is False
    [listed], _ = await conversation_store.list_messages(conversation.id)
    assert listed.id == recorded.id  # the marker is the store's, not the inbox's


async def test_the_latest_messages_come_oldest_first(
    conversation_store: ConversationStore, make_conversation: MakeConversation
) -> None:
    conversation = make_conversation()
    other = make_conversation(contact="573009999999")
    instants = [T0 + timedelta(seconds=n) for n in range(4)] + [T0 + timedelta(seconds=4)] * 2
    messages = [message(conversation, n, at) for n, at in enumerate(instants)]
    for record in reversed(messages):
        assert await conversation_store.add_message(record)
    assert await conversation_store.add_message(
        message(other, 99, T0 + timedelta(minutes=1)).model_copy(
            update={"conversation_id": other.id}
        )
    )
    latest = await conversation_store.latest_messages(conversation.id, 3)
    assert [m.id for m in latest] == [m.id for m in messages[-3:]]
    assert len(await conversation_store.latest_messages(conversation.id, 50)) == 6


async def test_messages_page_oldest_first_including_equal_timestamps(
    conversation_store: ConversationStore, make_conversation: MakeConversation
) -> None:
    conversation = make_conversation()
    other = make_conversation(contact="573009999999")
    # Three share one instant: the id breaks the tie, and no page boundary loses one.
    instants = [T0, T0 + timedelta(seconds=1), *([T0 + timedelta(seconds=2)] * 3)]
    instants += [T0 + timedelta(seconds=3), T0 + timedelta(seconds=4)]
    messages = [message(conversation, n, at) for n, at in enumerate(instants)]
    shuffled = messages[:]
    random.Random(7).shuffle(shuffled)
    for record in shuffled:
        assert await conversation_store.add_message(record)
    assert await conversation_store.add_message(
        message(other, 99, T0).model_copy(update={"conversation_id": other.id})
    )

    seen: list[str] = []
    cursor: str | None = None
    for page_number in range(10):
        page, cursor = await conversation_store.list_messages(
            conversation.id, limit=2, cursor=cursor
        )
        seen.extend(item.id for item in page)
        if page_number == 1:  # a message arriving mid-way shows up at the end, once
            late = message(conversation, 50, T0 + timedelta(minutes=5))
            await conversation_store.add_message(late)
            messages.append(late)
        if cursor is None:
            break
    expected = [m.id for m in sorted(messages, key=lambda m: (m.at, m.id))]
    assert seen == expected


async def test_conversations_page_newest_first_stable_under_inserts(
    conversation_store: ConversationStore, make_conversation: MakeConversation
) -> None:
    # Nine conversations; updated_at repeats so pages split groups of equal instants.
    seeded = []
    for n in range(9):
        instant = T0 + timedelta(minutes=n // 3)
        seeded.append(
            await conversation_store.create(
                make_conversation(contact=f"5730000000{n:02d}", updated_at=instant)
            )
        )
    await conversation_store.create(make_conversation(contact="573111111111", tenant="other"))

    seen: list[str] = []
    cursor: str | None = None
    for page_number in range(20):
        page, cursor = await conversation_store.list_conversations("acme", limit=2, cursor=cursor)
        assert len(page) <= 2
        seen.extend(item.id for item in page)
        if page_number == 0:  # a new conversation sorts before the cursor: never seen
            await conversation_store.create(
                make_conversation(contact="573222222222", updated_at=T0 + timedelta(hours=1))
            )
        if cursor is None:
            break
    expected = [c.id for c in sorted(seeded, key=lambda c: (c.updated_at, c.id), reverse=True)]
    assert seen == expected
    assert len(set(seen)) == len(seen)

    full, last_cursor = await conversation_store.list_conversations("acme", limit=10)
    assert len(full) == 10 and last_cursor is None


async def test_conversation_filters(
    conversation_store: ConversationStore, make_conversation: MakeConversation
) -> None:
    rows = [
        ("573000000001", ConversationStatus.OPEN, None, T0),
        ("573000000002", ConversationStatus.PENDING, "ana", T0 + timedelta(minutes=1)),
        ("573000000003", ConversationStatus.OPEN, "ana", T0 + timedelta(minutes=2)),
        ("573000000004", ConversationStatus.CLOSED, "luis", T0 + timedelta(minutes=3)),
    ]
    ids = {}
    for contact, status, assignee, updated_at in rows:
        created = await conversation_store.create(
            make_conversation(
                contact=contact, status=status, assignee=assignee, updated_at=updated_at
            )
        )
        ids[contact[-1]] = created.id

    async def listed(**filters: Any) -> list[str]:
        items, _ = await conversation_store.list_conversations("acme", **filters)
        return [item.id for item in items]

    assert await listed(status=ConversationStatus.OPEN) == [ids["3"], ids["1"]]
    assert await listed(assignee="ana") == [ids["3"], ids["2"]]
    assert await listed(status=ConversationStatus.OPEN, assignee="ana") == [ids["3"]]
    assert await listed(updated_since=T0 + timedelta(minutes=2)) == [ids["4"], ids["3"]]
    assert await listed(status=ConversationStatus.SNOOZED) == []
    assert (await conversation_store.list_conversations("nobody"))[0] == []

    # Filters and a cursor together: the second page keeps the filter.
    first, cursor = await conversation_store.list_conversations("acme", assignee="ana", limit=1)
    assert [c.id for c in first] == [ids["3"]] and cursor is not None
    second, cursor = await conversation_store.list_conversations(
        "acme", assignee="ana", limit=1, cursor=cursor
    )
    assert [c.id for c in second] == [ids["2"]] and cursor is None


async def test_foreign_or_garbled_cursors_are_refused(
    conversation_store: ConversationStore, make_conversation: MakeConversation
) -> None:
    conversation = make_conversation()
    for n in range(3):
        await conversation_store.add_message(message(conversation, n, T0 + timedelta(seconds=n)))
    _, message_cursor = await conversation_store.list_messages(conversation.id, limit=1)
    assert message_cursor is not None

    with pytest.raises(InvalidCursor):
        await conversation_store.list_conversations("acme", cursor=message_cursor)
    for garbage in ("not-a-cursor", "!!!", "W10"):
        with pytest.raises(InvalidCursor):
            await conversation_store.list_messages(conversation.id, cursor=garbage)


async def test_reports_are_idempotent_and_found_by_transaction(
    conversation_store: ConversationStore, make_conversation: MakeConversation
) -> None:
    conversation = make_conversation()

    def report(report_id: str, kind: str, transaction_id: str | None = None) -> Report:
        return Report(
            id=report_id,
            conversation_id=conversation.id,
            tenant_id="acme",
            kind=kind,  # type: ignore[arg-type]
            placa="HHO137",
            transaction_id=transaction_id,
            report={"total": 954688},
            at=T0,
        )

    # Debt lookups carry no transaction id: the unique index must not trip on them.
    assert await conversation_store.add_report(report("lookup:1", "debt_lookup"))
    assert await conversation_store.add_report(report("lookup:2", "debt_lookup"))
    assert await conversation_store.add_report(report("transaction:T-1", "transaction", "T-1"))
    assert not await conversation_store.add_report(report("transaction:T-1", "transaction", "T-1"))
    # Same SCI transaction under another id: still one report per transaction.
    assert not await conversation_store.add_report(report("transaction:dup", "transaction", "T-1"))

    found = await conversation_store.find_transaction_report("acme", "T-1")
    assert found is not None
    assert found.id == "transaction:T-1" and found.conversation_id == conversation.id
    assert found.report == {"total": 954688}
    assert_utc(found.at)
    assert await conversation_store.find_transaction_report("other-tenant", "T-1") is None
    assert await conversation_store.find_transaction_report("acme", "T-2") is None


async def test_ensure_indexes_is_idempotent(
    conversation_store: ConversationStore,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    store_database: str,
) -> None:
    await conversation_store.ensure_indexes()
    await conversation_store.ensure_indexes()

    database = mongo_client[store_database]
    conversations = await database["conversations"].index_information()
    assert {"tenant_updated", "tenant_status_updated", "tenant_assignee_updated"} <= set(
        conversations
    )
    assert "conversation_at" in await database["messages"].index_information()
    reports = await database["reports"].index_information()
    unique = reports["tenant_transaction_unique"]
    assert unique["unique"] is True
    assert dict(unique["partialFilterExpression"]) == {"kind": "transaction"}


async def test_an_unreachable_mongodb_is_a_transient_error(
    make_conversation: MakeConversation,
) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
        serverSelectionTimeoutMS=200,
        connectTimeoutMS=200,
    )
    try:
        store = ConversationStore(client, "unreachable")
        with pytest.raises(TransientError) as raised:
            await store.get("anything")
        assert raised.value.retry_after is not None
        with pytest.raises(TransientError):
            await store.save(make_conversation())
        with pytest.raises(TransientError):
            await store.list_conversations("acme")
    finally:
        await client.close()
