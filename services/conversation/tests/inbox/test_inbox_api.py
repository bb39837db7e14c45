"""The inbox API over HTTP, on real NATS and MongoDB (SecantusDB unless MONGODB_URL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from cauce_contracts.identity import Permission
from cauce_contracts.outbound import OutboundMessageRequested
from cauce_contracts.registry import subject_of
from cauce_contracts.streams import OUTBOUND
from cauce_conversation.model import Conversation, ConversationStatus, MessageRecord
from cauce_conversation.store import ConversationStore
from cauce_devstack.minted_tokens import TokenMinter
from cauce_devstack.servers.ports import free_port

from .conftest import AUTH, MINTER, Inbox

PHONE = "573001234567"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MakeConversation = Callable[..., Conversation]


def inbound(conversation: Conversation, n: int, at: datetime) -> MessageRecord:
    return MessageRecord(
        id=f"whatsapp:wamid.{n:03d}",
        conversation_id=conversation.id,
        tenant_id=conversation.tenant_id,
        direction="inbound",
        author="customer",
        type="text",
        text=f"mensaje {n}",
        payload={"contact": {"address": conversation.contact_address}, "body": f"mensaje {n}"},
        at=at,
    )


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def test_every_route_needs_an_access_token(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    conversation = await inbox.store.create(make_conversation())
    base = f"/conversations/{conversation.id}"
    calls = [
        ("GET", "/conversations?tenant=acme", None),
        ("GET", base, None),
        ("GET", f"{base}/messages", None),
        ("POST", f"{base}/assign", {"assignee": "ana"}),
        ("POST", f"{base}/status", {"status": "closed"}),
        ("POST", f"{base}/reply", {"text": "hola", "agent": "ana"}),
        ("POST", f"{base}/release", None),
    ]
    for headers in (
        {"Authorization": ""},
        {"Authorization": "Bearer wrong-token"},
        TokenMinter().headers("acme"),  # a key the service does not know
    ):
        for method, url, body in calls:
            response = await inbox.client.request(method, url, json=body, headers=headers)
            assert_problem(response, 401)
            assert response.headers["www-authenticate"].startswith("Bearer")
    assert await inbox.store.get(conversation.id) == conversation
    assert (await inbox.store.list_messages(conversation.id))[0] == []


async def test_another_company_never_reaches_a_conversation(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    conversation = await inbox.store.create(make_conversation())  # acme's
    base = f"/conversations/{conversation.id}"
    other = MINTER.headers("other")  # every permission, of another company
    calls = [
        ("GET", base, None),
        ("GET", f"{base}/messages", None),
        ("POST", f"{base}/assign", {"assignee": "ana"}),
        ("POST", f"{base}/status", {"status": "closed"}),
        ("POST", f"{base}/reply", {"text": "hola", "agent": "ana"}),
        ("POST", f"{base}/release", None),
    ]
    for method, url, body in calls:
        response = await inbox.client.request(method, url, json=body, headers=other)
        assert_problem(response, 404)
    listed = await inbox.client.get("/conversations", headers=other)
    assert listed.json()["items"] == []
    named = await inbox.client.get("/conversations", params={"tenant": "acme"}, headers=other)
    assert_problem(named, 403)
    assert await inbox.store.get(conversation.id) == conversation
    # an agent of acme reads and replies but may not close or reassign
    agent = MINTER.headers("acme", Permission.CHATS_READ, Permission.CHATS_REPLY)
    assert (await inbox.client.get(base, headers=agent)).status_code == 200
    assert_problem(
        await inbox.client.post(f"{base}/status", json={"status": "closed"}, headers=agent), 403
    )
    assert_problem(
        await inbox.client.post(f"{base}/assign", json={"assignee": "x"}, headers=agent), 403
    )


async def test_list_pages_filters_and_masks_the_phone(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    seeded = []
    for n in range(5):
        seeded.append(
            await inbox.store.create(
                make_conversation(
                    contact=f"57300123{n:04d}",
                    updated_at=T0 + timedelta(minutes=n),
                    status=ConversationStatus.PENDING if n % 2 else ConversationStatus.OPEN,
                    assignee="ana" if n >= 3 else None,
                    outbox=[{"subject": "outbound.x", "recipient": f"57300123{n:04d}"}],
                    applied_event_ids=["e1"],
                )
            )
        )
    await inbox.store.create(make_conversation(contact="573009999999", tenant="other"))

    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"tenant": "acme", "limit": 2}
    for _ in range(5):
        response = await inbox.client.get("/conversations", params=params)
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 2
        seen.extend(page["items"])
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert [item["id"] for item in seen] == [c.id for c in reversed(seeded)]

    first = seen[-1]
    assert first["contact_masked"] == "+57 *** *** 0000"
    for forbidden in ("contact_address", "outbox", "applied_event_ids", "slots"):
        assert forbidden not in first
    assert first["created_at"].endswith("Z") or first["created_at"].endswith("+00:00")

    async def ids(**query: Any) -> list[str]:
        response = await inbox.client.get("/conversations", params={"tenant": "acme", **query})
        assert response.status_code == 200, response.text
        assert "57300123" not in response.text  # no phone in clear anywhere
        return [item["id"] for item in response.json()["items"]]

    assert await ids(status="pending") == [seeded[3].id, seeded[1].id]
    assert await ids(assignee="ana") == [seeded[4].id, seeded[3].id]
    since = (T0 + timedelta(minutes=3)).isoformat()
    assert await ids(updated_since=since) == [seeded[4].id, seeded[3].id]
    assert await ids(status="pending", assignee="ana") == [seeded[3].id]

    mine = (await inbox.client.get("/conversations")).json()["items"]  # the caller's own
    assert {item["tenant_id"] for item in mine} == {"acme"}
    for bad in ({"status": "archived"}, {"limit": 0}, {"limit": 1000}, {"cursor": "garbage"}):
        assert_problem(
            await inbox.client.get("/conversations", params={"tenant": "acme", **bad}), 422
        )
    naive = {"tenant": "acme", "updated_since": "2026-03-01T12:00:00"}
    assert_problem(await inbox.client.get("/conversations", params=naive), 422)


async def test_one_conversation_and_its_messages(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    conversation = await inbox.store.create(
        make_conversation(contact=PHONE, step="choose_vigencias", slots={"placa": "HHO137"})
    )
    for n in range(5):
        await inbox.store.add_message(inbound(conversation, n, T0 + timedelta(seconds=n)))

    detail = await inbox.client.get(f"/conversations/{conversation.id}")
    assert detail.status_code == 200
    body = detail.json()
    assert body["slots"] == {"placa": "HHO137"} and body["step"] == "choose_vigencias"
    assert body["contact_masked"] == "+57 *** *** 4567"
    assert PHONE not in detail.text

    texts: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    for _ in range(5):
        page = (
            await inbox.client.get(f"/conversations/{conversation.id}/messages", params=params)
        ).json()
        texts.extend(item["text"] for item in page["items"])
        assert all(
            item["payload"]["contact"]["address"] == "+57 *** *** 4567" for item in page["items"]
        )
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert texts == [f"mensaje {n}" for n in range(5)]

    missing = assert_problem(await inbox.client.get("/conversations/nope"), 404)
    assert "nope" in missing["detail"]
    assert_problem(await inbox.client.get("/conversations/nope/messages"), 404)
    bad_cursor = {"cursor": "garbage"}
    url = f"/conversations/{conversation.id}/messages"
    assert_problem(await inbox.client.get(url, params=bad_cursor), 422)


async def test_reply_publishes_an_outbound_request_and_records_it(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    conversation = await inbox.store.create(
        make_conversation(contact=PHONE, last_inbound_at=datetime.now(UTC))
    )
    js = inbox.bus.connection.jetstream()
    subscription = await js.pull_subscribe("outbound.message.requested.>", stream=OUTBOUND.name)

    response = await inbox.client.post(
        f"/conversations/{conversation.id}/reply",
        json={"text": "  Hola, soy Ana  ", "agent": "ana"},
    )
    assert response.status_code == 202, response.text
    accepted = response.json()

    [delivered] = await subscription.fetch(1, timeout=5)
    event = OutboundMessageRequested.model_validate_json(delivered.data)
    assert str(event.event_id) == accepted["event_id"]
    assert delivered.subject == subject_of(event)
    assert event.recipient == PHONE and event.contact_key == conversation.contact_key
    assert event.channel_account_id == conversation.channel_account_id
    assert event.content.type == "text" and event.content.body == "Hola, soy Ana"
    assert event.correlation_id == f"inbox:{conversation.id}"

    messages, _ = await inbox.store.list_messages(conversation.id)
    assert [(m.id, m.direction, m.author, m.text) for m in messages] == [
        (accepted["message_id"], "outbound", "agent:ana", "Hola, soy Ana")
    ]
    assert "recipient" not in messages[0].payload
    # Replying does not take the conversation from the bot.
    assert (await inbox.store.get(conversation.id)) == conversation

    # A retry with the same Idempotency-Key is the same request: one event, one message.
    keyed = {"Idempotency-Key": "reply-7", **AUTH}
    url = f"/conversations/{conversation.id}/reply"
    first = await inbox.client.post(
        url, json={"text": "¿Sigue ahí?", "agent": "ana"}, headers=keyed
    )
    again = await inbox.client.post(
        url, json={"text": "¿Sigue ahí?", "agent": "ana"}, headers=keyed
    )
    assert first.status_code == again.status_code == 202
    assert first.json()["event_id"] == again.json()["event_id"]
    assert len((await inbox.store.list_messages(conversation.id))[0]) == 2
    assert len(await subscription.fetch(1, timeout=5)) == 1
    info = await js.stream_info(OUTBOUND.name)
    assert info.state.messages == 2
    await subscription.unsubscribe()


async def test_reply_refusals(inbox: Inbox, make_conversation: MakeConversation) -> None:
    stale = await inbox.store.create(
        make_conversation(last_inbound_at=datetime.now(UTC) - timedelta(hours=25))
    )
    outside = await inbox.client.post(
        f"/conversations/{stale.id}/reply", json={"text": "hola", "agent": "ana"}
    )
    assert "24 hours" in assert_problem(outside, 409)["detail"]

    url = f"/conversations/{stale.id}/reply"
    for bad in (
        {"text": "", "agent": "ana"},
        {"text": "hola"},
        {"text": "x", "agent": "a", "x": 1},
    ):
        assert_problem(await inbox.client.post(url, json=bad), 422)
    assert_problem(
        await inbox.client.post("/conversations/nope/reply", json={"text": "hola", "agent": "ana"}),
        404,
    )
    assert (await inbox.store.list_messages(stale.id))[0] == []


async def test_assign_status_and_release(inbox: Inbox, make_conversation: MakeConversation) -> None:
    conversation = await inbox.store.create(
        make_conversation(step="show_debt", slots={"placa": "HHO137"})
    )
    url = f"/conversations/{conversation.id}"

    assigned = (await inbox.client.post(f"{url}/assign", json={"assignee": "ana"})).json()
    assert assigned["assignee"] == "ana" and assigned["handed_over"] is True
    assert assigned["version"] == 1

    snoozed = (await inbox.client.post(f"{url}/status", json={"status": "snoozed"})).json()
    assert snoozed["status"] == "snoozed" and snoozed["version"] == 2
    same = (await inbox.client.post(f"{url}/status", json={"status": "snoozed"})).json()
    assert same["version"] == 2  # nothing changed, nothing written

    unassigned = (await inbox.client.post(f"{url}/assign", json={"assignee": None})).json()
    assert unassigned["assignee"] is None and unassigned["handed_over"] is True

    released = await inbox.client.post(f"{url}/release")
    assert released.status_code == 200
    body = released.json()
    assert body["handed_over"] is False and body["assignee"] is None
    assert body["status"] == "open" and body["step"] == "start" and body["slots"] == {}
    stored = await inbox.store.get(conversation.id)
    assert stored is not None and stored.version == body["version"] == 4
    assert stored.step == "start" and not stored.handed_over

    for path, bad in (
        ("status", {"status": "archived"}),
        ("status", {}),
        ("assign", {}),
        ("assign", {"assignee": ""}),
        ("assign", {"assignee": "ana", "role": "admin"}),
    ):
        assert_problem(await inbox.client.post(f"{url}/{path}", json=bad), 422)
    for path, payload in (("assign", {"assignee": "ana"}), ("status", {"status": "open"})):
        assert_problem(await inbox.client.post(f"/conversations/nope/{path}", json=payload), 404)
    assert_problem(await inbox.client.post("/conversations/nope/release"), 404)


class RacingStore(ConversationStore):
    """A real store with a competing writer (the bot, another agent) that gets its own
    write in just before each of ours, ``races`` times."""

    def __init__(self, client: AsyncMongoClient[Any], database: str, races: int) -> None:
        super().__init__(client, database)
        self.races = races

    async def save(self, conversation: Conversation) -> Conversation | None:
        if self.races > 0:
            self.races -= 1
            current = await self.get(conversation.id)
            assert current is not None
            slots = {**current.slots, "bot_turns": current.slots.get("bot_turns", 0) + 1}
            assert await super().save(current.model_copy(update={"slots": slots})) is not None
        return await super().save(conversation)


async def test_writes_retry_conflicts_then_give_up_with_409(
    inbox: Inbox,
    make_conversation: MakeConversation,
    mongo_client: AsyncMongoClient[Any],
    store_database: str,
) -> None:
    conversation = await inbox.store.create(make_conversation())
    url = f"/conversations/{conversation.id}"

    inbox.service.store = RacingStore(mongo_client, store_database, races=2)
    assigned = await inbox.client.post(f"{url}/assign", json={"assignee": "ana"})
    assert assigned.status_code == 200
    body = assigned.json()
    # Both writers' changes survive: ours was re-applied on top of theirs.
    assert body["assignee"] == "ana" and body["slots"] == {"bot_turns": 2}
    assert body["version"] == 3

    inbox.service.store = RacingStore(mongo_client, store_database, races=100)
    conflict = await inbox.client.post(f"{url}/status", json={"status": "closed"})
    assert_problem(conflict, 409)
    stored = await inbox.store.get(conversation.id)
    assert stored is not None and stored.status is ConversationStatus.OPEN


async def test_an_unreachable_mongodb_answers_503(inbox: Inbox) -> None:
    client: AsyncMongoClient[Any] = AsyncMongoClient(
        f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
        serverSelectionTimeoutMS=200,
        connectTimeoutMS=200,
    )
    try:
        inbox.service.store = ConversationStore(client, "unreachable")
        for path in (
            "/conversations",
            "/api/chats",
            "/api/agents",
            "/api/quick-replies",
            "/api/chats/appointments/some-chat",
        ):
            response = await inbox.client.get(path)
            assert_problem(response, 503)
            assert int(response.headers["retry-after"]) >= 1
    finally:
        await client.close()
