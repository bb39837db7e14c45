"""An agent's role narrows what they see: without ``chats.read_all`` a user sees the
chats assigned to them and the unassigned chats in their teams' queues, in lists,
counts, reads and writes alike; a supervisor sees the whole company."""

from __future__ import annotations

from collections.abc import Callable

from cauce_contracts.identity import BUILTIN_ROLES, Permission
from cauce_conversation.model import Conversation, ConversationStatus

from .conftest import AUTH, MINTER, Inbox

MakeConversation = Callable[..., Conversation]

#: Ana, a user of the built-in agent role, in team "ventas".
ANA = MINTER.headers("acme", *BUILTIN_ROLES["agent"], subject="user:ana")
#: Ben, an agent registered in no team: the default team's queue is his.
BEN = MINTER.headers("acme", *BUILTIN_ROLES["agent"], subject="user:ben")


async def seed(inbox: Inbox, make: MakeConversation) -> dict[str, Conversation]:
    chats = {
        "ana's": make(contact="573001110001", assignee="ana", handed_over=True),
        "bob's": make(contact="573001110002", assignee="bob", handed_over=True, team="ventas"),
        "ventas queue": make(contact="573001110003", team="ventas"),
        "soporte queue": make(
            contact="573001110004", team="soporte", status=ConversationStatus.PENDING
        ),
        "general queue": make(contact="573001110005"),
    }
    for chat in chats.values():
        await inbox.store.create(chat)
    added = await inbox.client.put("/api/agents/ana", json={"teams": ["ventas"]})
    assert added.status_code == 200, added.text
    return chats


async def test_an_agent_sees_their_chats_and_their_teams_queue_only(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    chats = await seed(inbox, make_conversation)
    ids = {name: chat.id for name, chat in chats.items()}

    listing = (await inbox.client.get("/api/chats", headers=ANA)).json()
    assert {item["id"] for item in listing["items"]} == {ids["ana's"], ids["ventas queue"]}
    assert listing["counts"] == {"open": 2, "pending": 0, "snoozed": 0, "resolved": 0}
    legacy = (await inbox.client.get("/conversations", headers=ANA)).json()
    assert {item["id"] for item in legacy["items"]} == {ids["ana's"], ids["ventas queue"]}
    # a filter never widens the scope
    bobs = (await inbox.client.get("/api/chats", params={"assignee": "bob"}, headers=ANA)).json()
    assert bobs["items"] == []

    for hidden in ("bob's", "soporte queue", "general queue"):
        chat_id = ids[hidden]
        assert (await inbox.client.get(f"/api/chats/{chat_id}", headers=ANA)).status_code == 404
        messages = await inbox.client.get(f"/api/chats/messages/{chat_id}", headers=ANA)
        assert messages.status_code == 404
        reply = await inbox.client.post(
            f"/api/chats/messages/{chat_id}", json={"text": "hola"}, headers=ANA
        )
        assert reply.status_code == 404
        pin = await inbox.client.post("/api/chats/pin", json={"chat_id": chat_id}, headers=ANA)
        assert pin.status_code == 404
    own = await inbox.client.get("/api/chats/" + ids["ana's"], headers=ANA)
    assert own.status_code == 200

    # Ben is in no team's roster: the default team's queue (and his own chats) only
    ben = (await inbox.client.get("/api/chats", headers=BEN)).json()
    assert [item["id"] for item in ben["items"]] == [ids["general queue"]]

    # the supervisor sees all five; once Ana takes the queued chat it is hers, and
    # once it goes to Bob it leaves her inbox
    every = (await inbox.client.get("/api/chats")).json()
    assert len(every["items"]) == 5 and every["counts"]["pending"] == 1
    for assignee, visible in (("ana", 200), ("bob", 404)):
        moved = await inbox.client.post(
            "/api/chats/assign",
            json={"chat_id": ids["soporte queue"], "assignee": assignee},
            headers=AUTH,
        )
        assert moved.status_code == 200
        seen = await inbox.client.get(f"/api/chats/{ids['soporte queue']}", headers=ANA)
        assert seen.status_code == visible


async def test_an_api_key_and_a_supervisor_read_the_whole_company(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    """Machine clients carry no user: their scopes decide, over the whole company."""
    chats = await seed(inbox, make_conversation)
    key = MINTER.headers("acme", Permission.CHATS_READ, subject="api-key:crm")
    listing = (await inbox.client.get("/api/chats", headers=key)).json()
    assert {item["id"] for item in listing["items"]} == {c.id for c in chats.values()}
    supervisor = MINTER.headers("acme", *BUILTIN_ROLES["supervisor"], subject="user:sue")
    listing = (await inbox.client.get("/api/chats", headers=supervisor)).json()
    assert len(listing["items"]) == 5
