"""/messages over HTTP: one message with its timeline, filtered pages, auth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from cauce_contracts.identity import Permission
from cauce_contracts.outbound import OutboundMessageRequested, TextContent
from cauce_contracts.subjects import Channel
from cauce_devstack.minted_tokens import TokenMinter
from cauce_notifier.api import messages
from cauce_notifier.bootstrap import Notifier
from cauce_notifier.settings import NotifierSettings
from cauce_notifier.store.messages import MessageStore

from .router_client import router_client

MINTER = TokenMinter()
AUTH = MINTER.headers("acme", Permission.MESSAGES_READ)
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def request(i: int, to: str) -> OutboundMessageRequested:
    return OutboundMessageRequested(
        tenant_id="acme",
        correlation_id=f"corr-{i}",
        occurred_at=T0 + timedelta(seconds=i),
        channel=Channel.WHATSAPP,
        contact_key="0123456789abcdef01234567",
        channel_account_id="734053143122597",
        recipient=to,
        content=TextContent(body=f"message {i}"),
    )


@pytest.fixture
async def store(pool: asyncpg.Pool) -> MessageStore:
    return MessageStore(pool)


@pytest.fixture
async def client(store: MessageStore, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The messages API over a notifier on the test's database (``store`` sets it up)."""
    settings = NotifierSettings(
        environment="test", postgres_url=database_url, identity_public_keys=MINTER.jwks
    )
    notifier = Notifier.build(settings)
    async with router_client(notifier, settings, messages.router) as http:
        yield http


async def test_message_with_history(client: httpx.AsyncClient, store: MessageStore) -> None:
    event = request(0, "+573001234567")
    await store.record_requested(event)
    await store.record_sent(event.event_id, "wamid.X", T0 + timedelta(seconds=1))
    await store.apply_status("wamid.X", "read", T0 + timedelta(seconds=3))
    await store.apply_status("wamid.X", "delivered", T0 + timedelta(seconds=2))

    response = await client.get(f"/messages/{event.event_id}", headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "read" and body["provider_message_id"] == "wamid.X"
    assert body["to"] == "+573001234567"
    assert body["content"] == {"type": "text", "body": "message 0", "preview_url": False}
    assert [h["status"] for h in body["history"]] == ["requested", "sent", "read"]
    assert body["delivered_at"] is not None

    missing = await client.get(f"/messages/{'0' * 32}", headers=AUTH)
    assert missing.status_code == 404
    unauthorised = await client.get(f"/messages/{event.event_id}")
    assert unauthorised.status_code == 401


async def test_paginated_list(client: httpx.AsyncClient, store: MessageStore) -> None:
    events = [request(i, "573001234567" if i % 2 else "573007654321") for i in range(5)]
    for event in events:
        await store.record_requested(event)

    seen: list[str] = []
    params: dict[str, str | int] = {"tenant": "acme", "limit": 2}
    for _ in range(5):
        page = (await client.get("/messages", params=params, headers=AUTH)).json()
        seen.extend(item["id"] for item in page["items"])
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == [str(e.event_id) for e in reversed(events)]

    to = await client.get("/messages", params={"to": "+573001234567"}, headers=AUTH)
    assert [i["id"] for i in to.json()["items"]] == [
        str(events[3].event_id),
        str(events[1].event_id),
    ]
    since = await client.get(
        "/messages", params={"since": (T0 + timedelta(seconds=4)).isoformat()}, headers=AUTH
    )
    assert [i["id"] for i in since.json()["items"]] == [str(events[4].event_id)]
    failed = await client.get("/messages", params={"status": "failed"}, headers=AUTH)
    assert failed.json() == {"items": [], "next_cursor": None}

    assert (await client.get("/messages", params={"cursor": "zz"}, headers=AUTH)).status_code == 400
    assert (
        await client.get("/messages", params={"status": "lost"}, headers=AUTH)
    ).status_code == 422
    assert (await client.get("/messages", params={"to": "abc"}, headers=AUTH)).status_code == 422
    assert (await client.get("/messages", params={"limit": 0}, headers=AUTH)).status_code == 422
    assert (await client.get("/messages")).status_code == 401


async def test_another_company_never_reaches_a_message(
    client: httpx.AsyncClient, store: MessageStore
) -> None:
    event = request(0, "+573001234567")  # acme's
    await store.record_requested(event)
    beta = MINTER.headers("beta", Permission.MESSAGES_READ)
    assert (await client.get(f"/messages/{event.event_id}", headers=beta)).status_code == 404
    assert (await client.get("/messages", headers=beta)).json()["items"] == []
    named = await client.get("/messages", params={"tenant": "acme"}, headers=beta)
    assert named.status_code == 403
    no_permission = MINTER.headers("acme", Permission.CHATS_READ)
    assert (
        await client.get(f"/messages/{event.event_id}", headers=no_permission)
    ).status_code == 403
    platform = MINTER.headers("beta", Permission.MESSAGES_READ, platform_admin=True)
    crossed = await client.get("/messages", params={"tenant": "acme"}, headers=platform)
    assert [item["id"] for item in crossed.json()["items"]] == [str(event.event_id)]
