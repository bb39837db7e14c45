"""A customer's file on its message: the notifier's news (stored or refused) reaches the
message even when it comes before the message is recorded; agents get a signed link
that serves the bytes safely, and a forged, altered or expired link gets nothing;
another company's user never reaches the message."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from cauce_contracts.media import MEDIA_BUCKET, InboundMediaRefused, InboundMediaStored
from cauce_contracts.registry import subject_of
from cauce_contracts.subjects import Channel
from cauce_conversation.model import Conversation, MessageRecord
from cauce_conversation.store import ConversationStore
from cauce_devstack.testing import eventually, service_test_values
from cauce_runtime import Bus, ServiceSettings
from cauce_runtime.bus import FileStore

from .conftest import MINTER

MakeConversation = Callable[..., Conversation]
ACME = MINTER.headers("acme")
OTHER = MINTER.headers("other")
PHOTO = b"\xff\xd8\xff\xe0" + b"foto" * 1000


def inbound(conversation: Conversation, provider_id: str, kind: str) -> MessageRecord:
    return MessageRecord(
        id=f"whatsapp:{provider_id}",
        conversation_id=conversation.id,
        tenant_id=conversation.tenant_id,
        direction="inbound",
        author="customer",
        type=kind,
        text=f"[{kind}]",
        provider_message_id=provider_id,
    )


def about(conversation: Conversation, provider_id: str) -> dict[str, Any]:
    return {
        "tenant_id": conversation.tenant_id,
        "correlation_id": "corr-media",
        "channel": Channel.WHATSAPP,
        "channel_account_id": conversation.channel_account_id,
        "provider_message_id": provider_id,
        "contact_key": conversation.contact_key,
    }


@contextlib.asynccontextmanager
async def started_bus(nats_url: str, tmp_path: Path) -> AsyncIterator[Bus]:
    bus = Bus(ServiceSettings(_env_file=None, **service_test_values(nats_url, tmp_path)))
    await bus.start()
    try:
        yield bus
    finally:
        await bus.stop()


async def kept(
    bus: Bus, conversation: Conversation, provider_id: str, data: bytes, kind: str, name: str
) -> InboundMediaStored:
    """The file put in the media store, and the notifier's news of it."""
    stored = await FileStore(bus, MEDIA_BUCKET).put("acme", data, kind, name)
    return InboundMediaStored(
        **about(conversation, provider_id),
        object_name=stored.name,
        content_type=kind,
        size=len(data),
        sha256=stored.sha256,
        filename=name,
    )


async def test_a_file_reaches_its_message_and_is_served_by_signed_link(
    service_url: str,
    nats_url: str,
    tmp_path: Path,
    conversation_store: ConversationStore,
    make_conversation: MakeConversation,
) -> None:
    conversation = await conversation_store.create(make_conversation())
    async with started_bus(nats_url, tmp_path) as bus:
        # the news first, the message a moment later: the consumer waits for it
        for event in (
            await kept(bus, conversation, "wamid.PHOTO", PHOTO, "image/jpeg", "foto.jpg"),
            InboundMediaRefused(
                **about(conversation, "wamid.BIG"), reason="too_large", detail="40 MiB"
            ),
        ):
            await bus.publish(event, subject_of(event))
        await asyncio.sleep(0.3)
        await conversation_store.add_message(inbound(conversation, "wamid.PHOTO", "image"))
        await conversation_store.add_message(inbound(conversation, "wamid.BIG", "document"))

    async with httpx.AsyncClient(base_url=service_url, timeout=10) as http:
        path = f"/api/chats/messages/{conversation.id}"

        async def with_media() -> list[Any] | None:
            items = (await http.get(path, headers=ACME)).json()["items"]
            return items if all(item["media"] for item in items) else None

        photo, big = await eventually(with_media, timeout=15, what="media on both messages")
        assert photo["media"]["status"] == "stored" and photo["media"]["size"] == len(PHOTO)
        assert big["media"] == {
            "status": "refused",
            "content_type": None,
            "size": None,
            "filename": None,
            "url": None,
            "reason": "too_large",
        }

        url = photo["media"]["url"]
        served = await http.get(url)
        assert served.status_code == 200 and served.content == PHOTO
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["content-disposition"] == 'inline; filename="foto.jpg"'

        query = parse_qs(urlsplit(url).query)
        expires, signature = query["expires"][0], query["signature"][0]
        forged = signature[:-1] + ("0" if signature[-1] != "0" else "1")
        longer = str(int(expires) + 3600)
        other_company = url.replace("/api/media/acme/", "/api/media/other/")
        for bad in (
            url.replace(signature, forged),
            url.replace(f"expires={expires}", f"expires={longer}"),
            url.replace(f"expires={expires}", "expires=1000"),  # long expired
            other_company,
        ):
            assert (await http.get(bad)).status_code == 403, bad
        assert (await http.get(url.split("?")[0])).status_code == 422  # no signature

        assert (await http.get(path, headers=OTHER)).status_code == 404


HOSTILE_NAMES = {
    # the sender's name -> what the download is called
    "../../etc/passwd": 'attachment; filename="passwd"',
    "a\r\nSet-Cookie: session=stolen.pdf": 'attachment; filename="aSet-Cookie: session=stolen.pdf"',
    'Cédula "Ñandú" 文件 🙂.pdf': (
        'attachment; filename="C_dula __and__ __ _.pdf"; '
        "filename*=UTF-8''C%C3%A9dula%20%22%C3%91and%C3%BA%22%20%E6%96%87%E4%BB%B6%20%F0%9F%99%82.pdf"
    ),
    "..": "attachment",
}


async def test_a_hostile_file_name_is_served_header_safe(
    service_url: str,
    nats_url: str,
    tmp_path: Path,
    conversation_store: ConversationStore,
    make_conversation: MakeConversation,
) -> None:
    conversation = await conversation_store.create(make_conversation())
    async with started_bus(nats_url, tmp_path) as bus:
        for n, name in enumerate(HOSTILE_NAMES):
            data = f"documento {n}".encode()
            event = await kept(bus, conversation, f"wamid.DOC{n}", data, "application/pdf", name)
            await bus.publish(event, subject_of(event))
            await conversation_store.add_message(inbound(conversation, f"wamid.DOC{n}", "document"))

    async with httpx.AsyncClient(base_url=service_url, timeout=10) as http:
        path = f"/api/chats/messages/{conversation.id}"

        async def with_media() -> list[Any] | None:
            items = (await http.get(path, headers=ACME)).json()["items"]
            stored = [item for item in items if item["media"]]
            return stored if len(stored) == len(HOSTILE_NAMES) else None

        items = await eventually(with_media, timeout=15, what="media on every message")
        by_id = {item["provider_message_id"]: item for item in items}
        for n, expected in enumerate(HOSTILE_NAMES.values()):
            served = await http.get(by_id[f"wamid.DOC{n}"]["media"]["url"])
            assert served.status_code == 200, served.text
            assert served.headers["content-disposition"] == expected
