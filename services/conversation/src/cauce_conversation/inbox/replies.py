"""An agent's reply (a text, a file, a sticker or a template): published as
``outbound.message.requested`` and recorded in the conversation's history (the inbox's
``/reply`` and the chats API's messages)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from fastapi import HTTPException

from cauce_contracts.envelope import stable_event_id, utc_now
from cauce_contracts.outbound import OutboundContent, OutboundMessageRequested, TemplateContent
from cauce_contracts.registry import subject_of
from cauce_conversation.bootstrap import ConversationService
from cauce_conversation.inbox.views import ReplyAccepted
from cauce_conversation.model import Conversation, MessageMedia, MessageRecord

#: WhatsApp accepts free-form messages only this long after the customer last wrote;
#: later, only templates. Refusing here beats a provider error after the fact.
CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)


async def send_reply(
    service: ConversationService,
    conversation: Conversation,
    content: OutboundContent,
    author: str,
    idempotency_key: str | None = None,
    *,
    shown: str | None = None,
    media: MessageMedia | None = None,
) -> ReplyAccepted:
    """Publish and record ``content`` to the conversation's customer (``shown``: what
    the history shows of it; ``media``: the file it sends). A template goes any time;
    anything else outside the 24 h window is a 409, except a text with
    ``late_replies_as_template`` (the notifier then sends its out-of-window template).
    With an ``idempotency_key`` a retried request reuses the same event id: JetStream
    drops the repeated publish and the message is recorded once."""
    text_as_template = content.type == "text" and service.settings.late_replies_as_template
    if not isinstance(content, TemplateContent) and not text_as_template:
        require_open_window(conversation, utc_now())
    event_id = (
        stable_event_id("inbox.reply", conversation.id, idempotency_key)
        if idempotency_key
        else uuid.uuid4()
    )
    event = OutboundMessageRequested(
        event_id=event_id,
        tenant_id=conversation.tenant_id,
        correlation_id=f"inbox:{conversation.id}",
        channel=conversation.channel,
        contact_key=conversation.contact_key,
        channel_account_id=conversation.channel_account_id,
        recipient=conversation.contact_address,
        content=content,
    )
    # Recorded before it is published: the provider's first status can come back
    # within milliseconds and must find its message. A send that fails to publish
    # takes its record back (the agent gets the error and may retry).
    recorded = await service.store.add_message(
        MessageRecord(
            id=str(event.event_id),
            conversation_id=conversation.id,
            tenant_id=conversation.tenant_id,
            direction="outbound",
            author=author,
            type=event.content.type,
            text=shown,
            media=media,
            # The request without the recipient: the number is on the conversation.
            payload=event.model_dump(mode="json", exclude={"recipient"}),
            at=event.occurred_at,
        )
    )
    try:
        await service.bus.publish(event, subject_of(event))
    except BaseException:
        if recorded:
            await service.store.forget_message(str(event.event_id))
        raise
    await service.feed.changed(conversation, "message", str(event.event_id))
    return ReplyAccepted(event_id=event.event_id, message_id=str(event.event_id))


def require_open_window(conversation: Conversation, now: datetime) -> None:
    last = conversation.last_inbound_at
    if last is not None and now - last > CUSTOMER_SERVICE_WINDOW:
        raise HTTPException(
            status_code=409,
            detail=(
                "the customer last wrote more than 24 hours ago: WhatsApp only accepts "
                "template messages outside the customer service window"
            ),
        )
