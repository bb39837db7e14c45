"""Customers' files reach the ``media`` object store: downloaded from the Graph fake
with the number's token (media id -> url -> bytes), kept under the company's prefix,
announced once; a file too large, of a refused type, gone at Meta, or behind a private
address is refused with the reason, never half kept."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cauce_contracts.inbound import (
    DocumentMessage,
    ImageMessage,
    InboundContact,
    InboundMessage,
    InboundMessageReceived,
    MediaRef,
)
from cauce_contracts.media import MEDIA_BUCKET, InboundMediaRefused, InboundMediaStored
from cauce_contracts.registry import subject_of
from cauce_contracts.subjects import Channel, contact_key
from cauce_devstack.servers import NatsServer
from cauce_runtime.bus import FileStore

from .conftest import CONTACT_SECRET, CUSTOMER, PHONE_NUMBER_ID, TENANT, Stack, running_stack

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


async def customer_file(stack: Stack, mime_type: str, **body: Any) -> str:
    answer = await stack.http.post(
        f"{stack.sandbox_url}/sandbox/customer/media",
        json={"mime_type": mime_type, "phone_number_id": PHONE_NUMBER_ID, **body},
    )
    assert answer.status_code == 200, answer.text
    media_id: str = answer.json()["id"]
    return media_id


async def customer_sent(stack: Stack, message: InboundMessage) -> InboundMessageReceived:
    event = InboundMessageReceived(
        tenant_id=TENANT,
        correlation_id="corr-media",
        channel=Channel.WHATSAPP,
        channel_account_id=PHONE_NUMBER_ID,
        provider_message_id=f"wamid.IN{uuid.uuid4().hex[:12]}",
        contact=InboundContact(address=CUSTOMER),
        contact_key=contact_key(CUSTOMER, CONTACT_SECRET),
        sent_at=datetime.now(UTC),
        message=message,
    )
    await stack.bus.publish(event, subject_of(event))
    return event


async def media_news(stack: Stack, count: int) -> list[InboundMediaStored | InboundMediaRefused]:
    found: list[Any] = []

    async def enough() -> bool:
        found[:] = await stack.outcomes("INBOUND", "inbound.media.")
        return len(found) >= count

    await stack.wait_for(enough, what=f"{count} media events")
    return found


async def test_a_customer_photo_is_kept_under_its_company(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    async with running_stack(nats_server, database_url, tmp_path) as stack:
        media_id = await customer_file(
            stack, "image/jpeg", content_base64=base64.b64encode(JPEG).decode()
        )
        sent = await customer_sent(
            stack, ImageMessage(media=MediaRef(id=media_id, mime_type="image/jpeg"))
        )
        (stored,) = await media_news(stack, 1)
        assert isinstance(stored, InboundMediaStored)
        digest = hashlib.sha256(JPEG).hexdigest()
        assert stored.object_name == f"{TENANT}/{digest}"
        assert (stored.provider_message_id, stored.causation_id) == (
            sent.provider_message_id,
            str(sent.event_id),
        )
        assert (stored.content_type, stored.size) == ("image/jpeg", len(JPEG))

        kept = await FileStore(stack.bus, MEDIA_BUCKET).get(stored.object_name)
        assert kept is not None and kept.data == JPEG


async def test_files_that_will_not_be_kept_are_refused_with_the_reason(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    async with running_stack(nats_server, database_url, tmp_path, media_max_bytes=4096) as stack:
        large = await customer_file(stack, "application/pdf", size=4097)
        page = await customer_file(
            stack, "text/html", content_base64=base64.b64encode(b"<script>").decode()
        )
        sent = [
            await customer_sent(stack, DocumentMessage(media=MediaRef(id=large), filename="a.pdf")),
            await customer_sent(stack, DocumentMessage(media=MediaRef(id=page))),
            await customer_sent(stack, ImageMessage(media=MediaRef(id="1234567890123456"))),
        ]
        news = await media_news(stack, 3)
        by_message = {event.provider_message_id: event for event in news}
        reasons = [by_message[event.provider_message_id] for event in sent]
        assert all(isinstance(r, InboundMediaRefused) for r in reasons)
        assert [r.reason for r in reasons] == ["too_large", "type_not_allowed", "unavailable"]  # type: ignore[union-attr]


async def test_a_download_url_on_a_private_address_is_refused(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    """Outside dev, an URL pointing inside the network (here the sandbox's 127.0.0.1)
    is never fetched, whoever answered it."""
    async with running_stack(
        nats_server, database_url, tmp_path, media_allow_private_hosts=False
    ) as stack:
        media_id = await customer_file(stack, "image/jpeg")
        await customer_sent(stack, ImageMessage(media=MediaRef(id=media_id)))
        (refused,) = await media_news(stack, 1)
        assert isinstance(refused, InboundMediaRefused)
        # refused before any request to the address (the check precedes the fetch)
        assert refused.reason == "unavailable" and "private address" in refused.detail
