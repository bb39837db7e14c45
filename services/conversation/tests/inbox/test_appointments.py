"""Appointments on a chat: booked by an agent, reminded once with the approved template
however many replicas send reminders, not reminded when cancelled, and out of reach of
another company."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

import time_machine

from cauce_contracts.envelope import utc_now
from cauce_contracts.identity import BUILTIN_ROLES
from cauce_contracts.outbound import OutboundMessageRequested, TemplateContent
from cauce_contracts.streams import OUTBOUND
from cauce_conversation.appointments import Appointments, Reminders, ReminderTemplate
from cauce_conversation.model import Conversation
from cauce_devstack.testing import stored_events

from .conftest import MINTER, Inbox

MakeConversation = Callable[..., Conversation]
TEMPLATE = ReminderTemplate(name="recordatorio_cita", language="es")
BOGOTA = ZoneInfo("America/Bogota")


async def reminders_sent(inbox: Inbox) -> list[OutboundMessageRequested]:
    events = await stored_events(inbox.bus.settings.nats_url, OUTBOUND.name)
    return [
        e
        for e in events
        if isinstance(e, OutboundMessageRequested) and isinstance(e.content, TemplateContent)
    ]


async def test_a_booked_appointment_is_reminded_once_with_the_template(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    conversation = await inbox.store.create(make_conversation(profile_name="Camila"))
    at = (utc_now() + timedelta(hours=1)).replace(microsecond=0)  # inside the 2 h lead
    booked = await inbox.client.post(
        "/api/chats/appointments",
        json={"chat_id": conversation.id, "at": at.isoformat(), "note": "revisión"},
    )
    assert booked.status_code == 201, booked.text
    cancelled = await inbox.client.post(
        "/api/chats/appointments",
        json={"chat_id": conversation.id, "at": (at + timedelta(minutes=5)).isoformat()},
    )
    assert (
        await inbox.client.delete(f"/api/chats/appointments/{cancelled.json()['id']}")
    ).status_code == 204

    replicas = [
        Reminders(Appointments(inbox.store), inbox.store, inbox.bus, TEMPLATE, BOGOTA)
        for _ in range(2)
    ]
    await asyncio.gather(*(replica.send_due() for replica in replicas))
    assert sum([await replica.send_due() for replica in replicas]) == 0  # never again

    [reminder] = await reminders_sent(inbox)
    content = reminder.content
    assert isinstance(content, TemplateContent) and content.name == "recordatorio_cita"
    local = at.astimezone(BOGOTA)
    header, body = content.components
    assert [p.text for p in header.parameters] == [local.strftime("%d/%m/%Y")]  # type: ignore[union-attr]
    assert [p.text for p in body.parameters] == [  # type: ignore[union-attr]
        "Camila",
        local.strftime("%d/%m/%Y"),
        local.strftime("%H:%M"),
    ]
    listed = (await inbox.client.get(f"/api/chats/appointments/{conversation.id}")).json()
    assert [(a["reminder"], a["cancelled"]) for a in listed] == [("sent", False), ("pending", True)]


async def test_a_replica_whose_clock_jumps_ahead_does_not_remind_early(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    conversation = await inbox.store.create(make_conversation(profile_name="Camila"))
    at = (utc_now() + timedelta(hours=3)).replace(microsecond=0)  # reminded 2 h before
    booked = await inbox.client.post(
        "/api/chats/appointments", json={"chat_id": conversation.id, "at": at.isoformat()}
    )
    assert booked.status_code == 201, booked.text
    replica = Reminders(Appointments(inbox.store), inbox.store, inbox.bus, TEMPLATE, BOGOTA)

    with time_machine.travel(timedelta(hours=2)):  # its wall clock: past the reminder
        assert await replica.send_due() == 0  # the database's clock: an hour to go
    assert await reminders_sent(inbox) == []


async def test_appointments_of_another_company_are_out_of_reach(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    conversation = await inbox.store.create(make_conversation())
    at = (utc_now() + timedelta(days=1)).isoformat()
    other = MINTER.headers("other")
    foreign = await inbox.client.post(
        "/api/chats/appointments", json={"chat_id": conversation.id, "at": at}, headers=other
    )
    assert foreign.status_code == 404
    booked = await inbox.client.post(
        "/api/chats/appointments", json={"chat_id": conversation.id, "at": at}
    )
    gone = await inbox.client.delete(
        f"/api/chats/appointments/{booked.json()['id']}", headers=other
    )
    assert gone.status_code == 404
    listing = await inbox.client.get(f"/api/chats/appointments/{conversation.id}", headers=other)
    assert listing.status_code == 404
    past = await inbox.client.post(
        "/api/chats/appointments",
        json={"chat_id": conversation.id, "at": (utc_now() - timedelta(hours=1)).isoformat()},
    )
    assert past.status_code == 422


async def test_an_agent_cancels_only_appointments_of_chats_they_see(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    """An agent (no ``chats.read_all``) cannot cancel an appointment on a chat assigned
    to someone else: a 404, as if it did not exist; the owner of the chat can."""
    bobs = await inbox.store.create(make_conversation(assignee="bob", handed_over=True))
    at = (utc_now() + timedelta(days=1)).isoformat()
    booked = await inbox.client.post("/api/chats/appointments", json={"chat_id": bobs.id, "at": at})
    path = f"/api/chats/appointments/{booked.json()['id']}"
    ana = MINTER.headers("acme", *BUILTIN_ROLES["agent"], subject="user:ana")
    assert (await inbox.client.delete(path, headers=ana)).status_code == 404
    bob = MINTER.headers("acme", *BUILTIN_ROLES["agent"], subject="user:bob")
    assert (await inbox.client.delete(path, headers=bob)).status_code == 204
    listed = await inbox.client.get(f"/api/chats/appointments/{bobs.id}")
    assert [a["cancelled"] for a in listed.json()] == [True]
