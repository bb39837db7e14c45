"""Agents' screens follow the company's chats live (``GET /api/chats/stream``, SSE): a
change made by another agent arrives as an event, never another company's, and a
screen that reconnects with ``Last-Event-ID`` gets what it missed, once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from cauce_contracts.envelope import utc_now
from cauce_contracts.identity import BUILTIN_ROLES
from cauce_contracts.outbound import OutboundStatusChanged
from cauce_contracts.registry import subject_of
from cauce_conversation.model import Conversation
from cauce_conversation.store import ConversationStore
from cauce_devstack.testing import eventually, service_test_values, sse_events
from cauce_runtime import Bus, ServiceSettings

from .conftest import MINTER

MakeConversation = Callable[..., Conversation]
ACME = MINTER.headers("acme")
OTHER = MINTER.headers("other")


def status_of(
    conversation: Conversation,
    request_id: str,
    status: str,
    error: tuple[str, str] | None = None,
) -> OutboundStatusChanged:
    """The notifier's status of a reply (``request_id``), with its error if it failed."""
    return OutboundStatusChanged(
        tenant_id="acme",
        correlation_id="corr-delivery",
        channel=conversation.channel,
        contact_key=conversation.contact_key,
        channel_account_id=conversation.channel_account_id,
        provider_message_id=f"wamid.{request_id}",
        status=status,
        status_at=utc_now(),
        request_id=request_id,
        error_code=error[0] if error else None,
        error_title=error[1] if error else None,
    )


async def collect(
    http: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    count: int,
    into: list[tuple[str | None, dict[str, Any]]],
) -> None:
    async with http.stream("GET", f"{url}/api/chats/stream", headers=headers) as stream:
        assert stream.status_code == 200
        async for event_id, kind, data in sse_events(stream):
            if kind == "chat":
                into.append((event_id, data))
                if len(into) >= count:
                    return


async def test_changes_arrive_live_for_the_company_only_and_resume(
    service_url: str, conversation_store: ConversationStore, make_conversation: MakeConversation
) -> None:
    ours = await conversation_store.create(make_conversation(contact="573001110001"))
    theirs = await conversation_store.create(
        make_conversation(contact="573001110002", tenant="other")
    )
    async with httpx.AsyncClient(base_url=service_url, timeout=10) as http:
        seen: list[tuple[str | None, dict[str, Any]]] = []
        # from the stream's start ("0"): whether the screen is subscribed before the
        # changes or a moment after, it gets them all, in order
        from_start = {**ACME, "Last-Event-ID": "0"}
        watching = asyncio.create_task(collect(http, service_url, from_start, 2, seen))
        await http.post(
            "/api/chats/assign", json={"chat_id": theirs.id, "assignee": "x"}, headers=OTHER
        )
        await http.post(
            "/api/chats/assign", json={"chat_id": ours.id, "assignee": "ana"}, headers=ACME
        )
        await http.post(
            "/api/chats/status", json={"chat_id": ours.id, "status": "resolved"}, headers=ACME
        )
        await asyncio.wait_for(watching, timeout=10)
        assert [(d["chat_id"], d["change"], d["assignee"]) for _, d in seen] == [
            (ours.id, "assignment", "ana"),
            (ours.id, "status", "ana"),
        ]
        assert seen[1][1]["status"] == "closed"

        # a screen that saw only the first event reconnects: it gets the second, once
        first_id = seen[0][0]
        assert first_id is not None
        missed: list[tuple[str | None, dict[str, Any]]] = []
        headers = {**ACME, "Last-Event-ID": first_id}
        await asyncio.wait_for(collect(http, service_url, headers, 1, missed), timeout=10)
        assert [(d["change"]) for _, d in missed] == ["status"]
        assert missed[0][0] == seen[1][0]

        no_token = await http.get("/api/chats/stream")
        assert no_token.status_code == 401


async def test_each_reply_shows_how_far_it_got(
    service_url: str,
    nats_url: str,
    tmp_path: Path,
    conversation_store: ConversationStore,
    make_conversation: MakeConversation,
) -> None:
    """The notifier's status timeline reaches the chat: sent, then read; a late
    "delivered" does not move it back; a failure shows the provider's reason."""
    conversation = await conversation_store.create(make_conversation(last_inbound_at=utc_now()))
    bus = Bus(ServiceSettings(_env_file=None, **service_test_values(nats_url, tmp_path)))
    await bus.start()
    try:
        async with httpx.AsyncClient(base_url=service_url, timeout=10, headers=ACME) as http:
            path = f"/api/chats/messages/{conversation.id}"
            ok = (await http.post(path, json={"text": "Hola"})).json()["event_id"]
            lost = (await http.post(path, json={"text": "¿Sigues ahí?"})).json()["event_id"]
            for request_id, status, error in (
                (ok, "sent", None),
                (ok, "read", None),
                (ok, "delivered", None),  # late: never moves it back
                (lost, "failed", ("131026", "Message undeliverable")),
            ):
                changed = status_of(conversation, request_id, status, error)
                await bus.publish(changed, subject_of(changed))

            async def shown() -> list[Any] | None:
                items = (await http.get(path)).json()["items"]
                deliveries = [(m["text"], (m["delivery"] or {}).get("status")) for m in items]
                return (
                    items if deliveries == [("Hola", "read"), ("¿Sigues ahí?", "failed")] else None
                )

            items = await eventually(shown, timeout=10, what="the statuses on the messages")
            assert items[1]["delivery"]["error_title"] == "Message undeliverable"
    finally:
        await bus.stop()


async def test_an_agent_is_pushed_only_the_chats_they_see(
    service_url: str, conversation_store: ConversationStore, make_conversation: MakeConversation
) -> None:
    """Ana (the agent role, team ventas) is pushed her chats and her team's queue; a
    chat of hers given to someone else comes once as ``gone``, then no more."""
    ana = MINTER.headers("acme", *BUILTIN_ROLES["agent"], subject="user:ana")
    hers = await conversation_store.create(
        make_conversation(contact="573001110001", assignee="ana", handed_over=True)
    )
    elsewhere = await conversation_store.create(
        make_conversation(contact="573001110002", team="soporte")
    )
    async with httpx.AsyncClient(base_url=service_url, timeout=10, headers=ACME) as http:
        joined = await http.put("/api/agents/ana", json={"teams": ["ventas"]})
        assert joined.status_code == 200
        pushed: list[tuple[str, dict[str, Any]]] = []

        async def watch() -> None:
            headers = {**ana, "Last-Event-ID": "0"}
            async with http.stream("GET", "/api/chats/stream", headers=headers) as stream:
                async for _, kind, data in sse_events(stream):
                    pushed.append((kind, data))
                    if len(pushed) == 3:
                        return

        watching = asyncio.create_task(watch())
        for path, body in (
            ("/api/chats/status", {"chat_id": elsewhere.id, "status": "pending"}),  # unseen
            ("/api/chats/status", {"chat_id": hers.id, "status": "pending"}),
            ("/api/chats/assign", {"chat_id": hers.id, "assignee": "bob"}),  # leaves her
            ("/api/chats/status", {"chat_id": hers.id, "status": "open"}),  # bob's now
            ("/api/chats/team", {"chat_id": elsewhere.id, "team": "ventas"}),  # her queue
        ):
            assert (await http.post(path, json=body)).status_code == 200
        await asyncio.wait_for(watching, timeout=10)
    assert [(kind, data["chat_id"], data.get("change")) for kind, data in pushed] == [
        ("chat", hers.id, "status"),
        ("gone", hers.id, None),
        ("chat", elsewhere.id, "assignment"),
    ]
    assert pushed[2][1]["team"] == "ventas"


async def test_a_reply_and_each_of_its_statuses_are_pushed(
    service_url: str,
    nats_url: str,
    tmp_path: Path,
    conversation_store: ConversationStore,
    make_conversation: MakeConversation,
) -> None:
    """Neither a reply nor a delivery status changes the chat's version: each is still
    announced (JetStream's de-duplication must not fold them into one)."""
    conversation = await conversation_store.create(make_conversation(last_inbound_at=utc_now()))
    bus = Bus(ServiceSettings(_env_file=None, **service_test_values(nats_url, tmp_path)))
    await bus.start()
    try:
        async with httpx.AsyncClient(base_url=service_url, timeout=10, headers=ACME) as http:
            seen: list[tuple[str | None, dict[str, Any]]] = []
            from_start = {**ACME, "Last-Event-ID": "0"}
            watching = asyncio.create_task(collect(http, service_url, from_start, 3, seen))
            path = f"/api/chats/messages/{conversation.id}"
            request_id = (await http.post(path, json={"text": "Hola"})).json()["event_id"]
            for status in ("sent", "read"):
                changed = status_of(conversation, request_id, status)
                await bus.publish(changed, subject_of(changed))
            await asyncio.wait_for(watching, timeout=10)
    finally:
        await bus.stop()
    assert [d["change"] for _, d in seen] == ["message", "message", "message"]
