"""Agents reply with more than text: an uploaded file (sent as a signed link the
provider fetches), one of the company's stickers, or an approved template (the only
kind WhatsApp takes after 24 hours), one at a time or several in order; uploads are
checked (type, size) and kept per company."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from cauce_contracts.envelope import utc_now
from cauce_contracts.outbound import MediaContent, OutboundMessageRequested, TemplateContent
from cauce_contracts.streams import OUTBOUND
from cauce_conversation.model import Conversation
from cauce_devstack.testing import stored_events

from .conftest import MINTER, Inbox

MakeConversation = Callable[..., Conversation]
PUBLIC = "https://cauce.example.com"
PHOTO = b"\xff\xd8\xff\xe0" + b"foto" * 500
STICKER = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"s" * 200


async def requests(inbox: Inbox) -> list[OutboundMessageRequested]:
    events = await stored_events(inbox.bus.settings.nats_url, OUTBOUND.name)
    return [e for e in events if isinstance(e, OutboundMessageRequested)]


async def upload(inbox: Inbox, data: bytes, content_type: str, name: str = "foto.jpg") -> Any:
    return await inbox.client.post("/api/chats/media", files={"file": (name, data, content_type)})


async def test_a_photo_is_uploaded_sent_by_signed_link_and_shown(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    chat = await inbox.store.create(make_conversation(last_inbound_at=utc_now()))
    path = f"/api/chats/messages/{chat.id}"
    inbox.service.settings.media_public_base_url = None
    uploaded = await upload(inbox, PHOTO, "image/jpeg")
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["id"]
    assert file_id == hashlib.sha256(PHOTO).hexdigest()
    assert (await inbox.client.get(uploaded.json()["url"])).content == PHOTO

    no_base = await inbox.client.post(path, json={"media": {"id": file_id}})
    assert no_base.status_code == 409  # nowhere providers could fetch it from
    inbox.service.settings.media_public_base_url = PUBLIC
    sent = await inbox.client.post(path, json={"media": {"id": file_id, "caption": "Su recibo"}})
    assert sent.status_code == 202, sent.text

    (request,) = await requests(inbox)
    content = request.content
    assert isinstance(content, MediaContent)
    assert (content.media_type, content.caption) == ("image", "Su recibo")
    assert content.link is not None and content.link.startswith(f"{PUBLIC}/api/media/acme/")
    link = urlsplit(content.link)
    fetched = await inbox.client.get(f"{link.path}?{link.query}")  # what the provider does
    assert fetched.status_code == 200 and fetched.content == PHOTO

    (shown,) = (await inbox.client.get(path)).json()["items"]
    assert shown["text"] == "Su recibo" and shown["media"]["content_type"] == "image/jpeg"

    # another company cannot send acme's file, even knowing its id
    theirs = await inbox.store.create(
        make_conversation(contact="573009999999", tenant="other", last_inbound_at=utc_now())
    )
    other = MINTER.headers("other")
    refused = await inbox.client.post(
        f"/api/chats/messages/{theirs.id}", json={"media": {"id": file_id}}, headers=other
    )
    assert refused.status_code == 422


async def test_uploads_are_checked(inbox: Inbox) -> None:
    assert (await upload(inbox, b"<script>alert(1)</script>", "text/html")).status_code == 415
    assert (await upload(inbox, b"", "image/jpeg")).status_code == 422
    inbox.service.settings.media_upload_max_bytes = 1024
    assert (await upload(inbox, PHOTO, "image/jpeg")).status_code == 413
    agent_key = MINTER.headers("acme", subject="api-key:x")  # every permission, no user
    ok = await inbox.client.post(
        "/api/chats/media",
        files={"file": ("a.pdf", b"%PDF-1.4 x", "application/pdf")},
        headers=agent_key,
    )
    assert ok.status_code == 201 and ok.json()["filename"] == "a.pdf"


async def test_stickers_are_the_companys_and_go_as_stickers(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    inbox.service.settings.media_public_base_url = PUBLIC
    chat = await inbox.store.create(make_conversation(last_inbound_at=utc_now()))
    added = await inbox.client.post(
        "/api/companies/stickers",
        files={"file": ("ok.webp", STICKER, "image/webp")},
        data={"name": "pulgar"},
    )
    assert added.status_code == 201, added.text
    png = await inbox.client.post(
        "/api/companies/stickers",
        files={"file": ("x.png", b"\x89PNG\r\n\x1a\n", "image/png")},
        data={"name": "png"},
    )
    assert png.status_code == 415
    listed = (await inbox.client.get("/api/companies/stickers")).json()
    assert [(s["name"], s["id"]) for s in listed] == [("pulgar", added.json()["id"])]
    assert (
        await inbox.client.get("/api/companies/stickers", headers=MINTER.headers("other"))
    ).json() == []

    path = f"/api/chats/messages/{chat.id}"
    assert (await inbox.client.post(path, json={"sticker": added.json()["id"]})).status_code == 202
    (request,) = await requests(inbox)
    assert isinstance(request.content, MediaContent) and request.content.media_type == "sticker"
    unknown = await inbox.client.post(path, json={"sticker": "0" * 64})
    assert unknown.status_code == 422


async def test_after_24_hours_only_a_template_goes(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    inbox.service.settings.media_public_base_url = PUBLIC
    stale = await inbox.store.create(
        make_conversation(last_inbound_at=utc_now() - timedelta(hours=30))
    )
    file_id = (await upload(inbox, PHOTO, "image/jpeg")).json()["id"]
    path = f"/api/chats/messages/{stale.id}"
    assert (await inbox.client.post(path, json={"media": {"id": file_id}})).status_code == 409
    template = {
        "name": "seguimiento",
        "language": "es",
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}],
    }
    sent = await inbox.client.post(path, json={"template": template})
    assert sent.status_code == 202, sent.text
    (request,) = await requests(inbox)
    assert isinstance(request.content, TemplateContent) and request.content.name == "seguimiento"
    two = await inbox.client.post(path, json={"text": "hola", "template": template})
    assert two.status_code == 422  # exactly one kind per message


async def test_several_messages_go_in_order_once(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    inbox.service.settings.media_public_base_url = PUBLIC
    chat = await inbox.store.create(make_conversation(last_inbound_at=utc_now()))
    file_id = (await upload(inbox, PHOTO, "image/jpeg")).json()["id"]
    body = {"messages": [{"text": "Le envío su recibo"}, {"media": {"id": file_id}}]}
    headers = {"Idempotency-Key": "envio-1"}
    path = f"/api/chats/messages/{chat.id}/bulk"
    for _ in range(2):  # a retried request sends nothing twice
        answer = await inbox.client.post(path, json=body, headers=headers)
        assert answer.status_code == 202, answer.text
    sent = await requests(inbox)
    assert [r.content.type for r in sent] == ["text", "media"]
    bad = {"messages": [{"text": "uno"}, {"media": {"id": "0" * 64}}]}
    assert (await inbox.client.post(path, json=bad)).status_code == 422
    assert len(await requests(inbox)) == 2  # checked before the first was sent
