"""``/api/chats`` (the seed's paths): list with counts, assign, status, per-user pins,
snoozes that end at a time (exactly once across replicas) or on the customer's reply,
bulk changes, messages; and another company's chats out of reach."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import time_machine

from cauce_contracts.envelope import Event, utc_now
from cauce_contracts.identity import Permission
from cauce_contracts.streams import OUTBOUND
from cauce_conversation.model import Conversation, ConversationStatus, MessageRecord
from cauce_conversation.snoozes import SnoozeWaker
from cauce_conversation.store import ConversationStore
from cauce_devstack.testing import stored_events

from .conftest import AUTH, MINTER, Inbox

MakeConversation = Callable[..., Conversation]

#: Query operators as a caller might smuggle them in a text field (JSON, the
#: ``field[$op]`` form, a server-side script, a pattern).
OPERATOR_STRINGS = ('{"$ne": null}', '{"$gt": ""}', "[$ne]=1", "$where: sleep(100)", ".*")


async def chat(inbox: Inbox, chat_id: str, headers: dict[str, str] | None = None) -> Any:
    answer = await inbox.client.get(f"/api/chats/{chat_id}", headers=headers or AUTH)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_list_counts_assign_status_and_pins(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    first = await inbox.store.create(make_conversation(contact="573001110001"))
    second = await inbox.store.create(
        make_conversation(contact="573001110002", status=ConversationStatus.PENDING)
    )
    await inbox.store.create(make_conversation(contact="573001110003", tenant="other"))

    listing = (await inbox.client.get("/api/chats")).json()
    assert {item["id"] for item in listing["items"]} == {first.id, second.id}
    assert listing["counts"] == {"open": 1, "pending": 1, "snoozed": 0, "resolved": 0}

    assigned = await inbox.client.post(
        "/api/chats/assign", json={"chat_id": first.id, "assignee": "ana"}
    )
    assert assigned.json()["assignee"] == "ana" and assigned.json()["handed_over"] is True
    resolved = await inbox.client.post(
        "/api/chats/status", json={"chat_id": second.id, "status": "resolved", "priority": "high"}
    )
    assert (resolved.json()["status"], resolved.json()["priority"]) == ("resolved", "high")
    assert (await inbox.client.get("/api/chats", params={"status": "resolved"})).json()["counts"][
        "resolved"
    ] == 1

    assert (await inbox.client.post("/api/chats/pin", json={"chat_id": first.id})).json()["pinned"]
    other_agent = MINTER.headers(
        "acme", Permission.CHATS_READ, Permission.CHATS_READ_ALL, subject="user:other-agent"
    )
    assert (await chat(inbox, first.id, other_agent))["pinned"] is False  # pins are per user
    mine = (await inbox.client.get("/api/chats", params={"pinned": "true"})).json()["items"]
    assert [c["id"] for c in mine] == [first.id]
    theirs = await inbox.client.get("/api/chats", params={"pinned": "true"}, headers=other_agent)
    assert theirs.json()["items"] == []
    await inbox.client.post("/api/chats/unpin", json={"chat_id": first.id})
    assert (await chat(inbox, first.id))["pinned"] is False


async def test_a_snooze_ends_on_the_customers_reply_when_asked(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    conversation = await inbox.store.create(make_conversation())
    refused = await inbox.client.post(
        "/api/chats/snooze", json={"chat_id": conversation.id}
    )  # the question is asked on every snooze
    assert refused.status_code == 422
    nothing = await inbox.client.post(
        "/api/chats/snooze",
        json={"chat_id": conversation.id, "unsnooze_on_customer_reply": False},
    )
    assert nothing.status_code == 422  # neither a time nor a reply would end it
    snoozed = await inbox.client.post(
        "/api/chats/snooze",
        json={"chat_id": conversation.id, "unsnooze_on_customer_reply": True},
    )
    body = snoozed.json()
    assert (body["status"], body["unsnooze_on_reply"], body["snoozed_until"]) == (
        "snoozed",
        True,
        None,
    )
    unsnoozed = await inbox.client.post("/api/chats/unsnooze", json={"chat_id": conversation.id})
    assert unsnoozed.json()["status"] == "open"


async def snooze_until(inbox: Inbox, conversation: Conversation, until: datetime) -> None:
    """Snooze the chat until ``until`` only (a reply does not end it)."""
    snoozed = await inbox.client.post(
        "/api/chats/snooze",
        json={
            "chat_id": conversation.id,
            "until": until.isoformat(),
            "unsnooze_on_customer_reply": False,
        },
    )
    assert snoozed.json()["status"] == "snoozed"


async def test_a_snooze_until_a_time_wakes_once_however_many_replicas(
    inbox: Inbox, make_conversation: MakeConversation, conversation_store: ConversationStore
) -> None:
    conversation = await inbox.store.create(make_conversation())
    until = utc_now() + timedelta(milliseconds=300)
    await snooze_until(inbox, conversation, until)
    # two replicas' wakers on the same database, checking at the same moments
    replicas = [SnoozeWaker(conversation_store), SnoozeWaker(inbox.service.store)]
    assert sum([await w.wake_due() for w in replicas]) == 0  # not yet
    await asyncio.sleep(0.35)
    woken = await asyncio.gather(*(w.wake_due() for w in replicas))
    assert sum(woken) == 1
    assert sum([await w.wake_due() for w in replicas]) == 0  # never again
    after = await chat(inbox, conversation.id)
    assert (after["status"], after["snoozed_until"]) == ("open", None)


async def test_a_replicas_clock_jumping_neither_wakes_a_snooze_early_nor_late(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    conversation = await inbox.store.create(make_conversation())
    until = utc_now() + timedelta(seconds=1)
    await snooze_until(inbox, conversation, until)
    waker = SnoozeWaker(inbox.service.store)

    # this process's wall clock an hour ahead (a VM resumed, NTP stepping it)
    with time_machine.travel(timedelta(hours=1)):
        assert await waker.wake_due() == 0  # the database's clock says: not yet
    await asyncio.sleep(1.1)
    with time_machine.travel(timedelta(hours=-1)):  # and an hour behind
        assert await waker.wake_due() == 1  # due by the database's clock: woken
    assert (await chat(inbox, conversation.id))["status"] == "open"


async def test_bulk_changes_report_what_they_did_not_find(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    ours = [
        await inbox.store.create(make_conversation(contact=f"57300111{n:04d}")) for n in range(3)
    ]
    theirs = await inbox.store.create(make_conversation(contact="573009990000", tenant="other"))
    ids = [c.id for c in ours]
    done = await inbox.client.post(
        "/api/chats/bulk",
        json={"chat_ids": [*ids, theirs.id, "nope"], "action": "status", "status": "resolved"},
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"updated": ids, "not_found": [theirs.id, "nope"]}
    counts = (await inbox.client.get("/api/chats")).json()["counts"]
    assert counts["resolved"] == 3
    no_assign = MINTER.headers("acme", Permission.CHATS_READ, Permission.CHATS_MANAGE)
    refused = await inbox.client.post(
        "/api/chats/bulk",
        json={"chat_ids": ids, "action": "assign", "assignee": "ana"},
        headers=no_assign,
    )
    assert refused.status_code == 403

    tagged = await inbox.client.post(
        "/api/chats/bulk",
        json={"chat_ids": [*ids, theirs.id], "action": "labels", "add": ["vip", "mora"]},
    )
    assert tagged.json() == {"updated": ids, "not_found": [theirs.id]}
    untagged = await inbox.client.post(
        "/api/chats/bulk", json={"chat_ids": ids[:1], "action": "labels", "remove": ["vip"]}
    )
    assert untagged.status_code == 200
    labels = [(await inbox.client.get(f"/api/chats/{i}")).json()["labels"] for i in ids]
    assert labels == [["mora"], *[["vip", "mora"]] * (len(ids) - 1)]
    assert (await inbox.store.get(theirs.id)).labels == []  # type: ignore[union-attr]
    empty = await inbox.client.post("/api/chats/bulk", json={"chat_ids": ids, "action": "labels"})
    assert empty.status_code == 422


async def test_messages_and_replies_at_the_seed_paths(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    conversation = await inbox.store.create(make_conversation(last_inbound_at=utc_now()))
    sent = await inbox.client.post(
        f"/api/chats/messages/{conversation.id}", json={"text": "Hola, soy Ana"}
    )
    assert sent.status_code == 202, sent.text
    history = (await inbox.client.get(f"/api/chats/messages/{conversation.id}")).json()
    [reply] = history["items"]
    assert reply["text"] == "Hola, soy Ana" and reply["author"].startswith("user:")
    assert reply["direction"] == "outbound"


async def test_another_company_never_reaches_a_chat(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    conversation = await inbox.store.create(make_conversation(last_inbound_at=utc_now()))
    other = MINTER.headers("other")
    ref = {"chat_id": conversation.id}
    calls = [
        ("GET", f"/api/chats/{conversation.id}", None),
        ("GET", f"/api/chats/messages/{conversation.id}", None),
        ("POST", f"/api/chats/messages/{conversation.id}", {"text": "x"}),
        ("POST", "/api/chats/assign", {**ref, "assignee": "x"}),
        ("POST", "/api/chats/status", {**ref, "status": "resolved"}),
        ("POST", "/api/chats/pin", ref),
        ("POST", "/api/chats/snooze", {**ref, "unsnooze_on_customer_reply": True}),
        ("POST", "/api/chats/unsnooze", ref),
    ]
    for method, path, body in calls:
        answer = await inbox.client.request(method, path, json=body, headers=other)
        assert answer.status_code == 404, (method, path, answer.text)
    listing = (await inbox.client.get("/api/chats", headers=other)).json()
    assert listing["items"] == [] and sum(listing["counts"].values()) == 0
    assert await inbox.store.get(conversation.id) == conversation


async def test_labels_filter_the_list_and_notes_stay_private(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    vip = await inbox.store.create(make_conversation(contact="573001110001"))
    await inbox.store.create(make_conversation(contact="573001110002"))
    labelled = await inbox.client.post(
        "/api/chats/labels", json={"chat_id": vip.id, "add": ["VIP", "reclamo", "vip"]}
    )
    assert labelled.json()["labels"] == ["vip", "reclamo"]
    only_vip = (await inbox.client.get("/api/chats", params={"label": "vip"})).json()["items"]
    assert [c["id"] for c in only_vip] == [vip.id]
    relabelled = await inbox.client.post(
        "/api/chats/labels", json={"chat_id": vip.id, "remove": ["reclamo"]}
    )
    assert relabelled.json()["labels"] == ["vip"]
    by_channel = await inbox.client.get("/api/chats", params={"channel": "chattigo"})
    assert by_channel.json()["items"] == []

    note = await inbox.client.post(
        "/api/chats/notes", json={"chat_id": vip.id, "text": "Cliente molesto, llamar"}
    )
    assert note.status_code == 201 and note.json()["direction"] == "note"
    history = (await inbox.client.get(f"/api/chats/messages/{vip.id}")).json()["items"]
    assert [(m["direction"], m["text"]) for m in history] == [("note", "Cliente molesto, llamar")]
    published = [e for e in await outbound_events(inbox) if "llamar" in str(e)]
    assert published == []  # never sent to the customer
    other = MINTER.headers("other")
    stranger = await inbox.client.post(
        "/api/chats/notes", json={"chat_id": vip.id, "text": "x"}, headers=other
    )
    assert stranger.status_code == 404


async def outbound_events(inbox: Inbox) -> list[Event]:
    return await stored_events(inbox.bus.settings.nats_url, OUTBOUND.name)


async def test_quick_replies_are_filled_in_and_never_sent_half_empty(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    conversation = await inbox.store.create(
        make_conversation(last_inbound_at=utc_now(), profile_name="Camila")
    )
    saved = await inbox.client.put(
        "/api/quick-replies/pago",
        json={"text": "Hola {{contact_name}}, tu pago de {{monto}} fue recibido."},
    )
    assert saved.status_code == 200 and saved.json()["variables"] == ["contact_name", "monto"]
    path = f"/api/chats/messages/{conversation.id}"
    missing = await inbox.client.post(path, json={"quick_reply": "pago"})
    assert missing.status_code == 422 and "monto" in missing.json()["detail"]
    unknown = await inbox.client.post(path, json={"quick_reply": "nada"})
    both = await inbox.client.post(path, json={"quick_reply": "pago", "text": "x"})
    assert (unknown.status_code, both.status_code) == (422, 422)
    sent = await inbox.client.post(
        path, json={"quick_reply": "pago", "variables": {"monto": "$ 954.688"}}
    )
    assert sent.status_code == 202, sent.text
    [message] = (await inbox.client.get(path)).json()["items"]
    assert message["text"] == "Hola Camila, tu pago de $ 954.688 fue recibido."

    other = MINTER.headers("other")
    assert (await inbox.client.get("/api/quick-replies", headers=other)).json() == []
    assert (await inbox.client.delete("/api/quick-replies/pago", headers=other)).status_code == 404
    assert (await inbox.client.delete("/api/quick-replies/pago")).status_code == 204


async def test_search_team_and_unread_filters(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    plate = await inbox.store.create(make_conversation(contact="573001110001", unread=True))
    other = await inbox.store.create(make_conversation(contact="573001110002"))
    for conversation, text in ((plate, "Mi placa es HHO137, ¿cuánto debo?"), (other, "Hola")):
        await inbox.store.add_message(
            MessageRecord(
                id=f"whatsapp:wamid.{conversation.id[:8]}",
                conversation_id=conversation.id,
                tenant_id="acme",
                direction="inbound",
                author="customer",
                type="text",
                text=text,
            )
        )

    async def ids(**params: str) -> list[str]:
        answer = await inbox.client.get("/api/chats", params=params)
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["items"]]

    assert await ids(q="hho137") == [plate.id]  # case-insensitive
    assert await ids(q="(.*") == []  # the caller's text is literal, never a pattern
    for operator in OPERATOR_STRINGS:  # nor an operator: each matches nothing
        assert await ids(q=operator) == [], operator
        assert await ids(team=operator) == [], operator
        bad_cursor = await inbox.client.get("/api/chats", params={"cursor": operator})
        assert bad_cursor.status_code == 422, operator
    assert await ids(unread="true") == [plate.id]
    await inbox.client.get(f"/api/chats/messages/{plate.id}")  # an agent opens it
    assert await ids(unread="true") == []

    moved = await inbox.client.post("/api/chats/team", json={"chat_id": other.id, "team": "ventas"})
    assert moved.json()["team"] == "ventas"
    assert await ids(team="ventas") == [other.id]
    assert await ids(team="general") == [plate.id]


async def test_a_late_reply_is_refused_unless_the_notifier_carries_it_as_a_template(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    stale = await inbox.store.create(
        make_conversation(last_inbound_at=utc_now() - timedelta(hours=25))
    )
    path = f"/api/chats/messages/{stale.id}"
    refused = await inbox.client.post(path, json={"text": "¿Sigues ahí?"})
    assert refused.status_code == 409
    inbox.service.settings.late_replies_as_template = True
    sent = await inbox.client.post(path, json={"text": "¿Sigues ahí?"})
    assert sent.status_code == 202  # published: the notifier sends its late template
