"""A customer's file, kept (or refused) by the notifier, shown on its message: the
``conversation-media`` consumer writes ``inbound.media.stored``/``refused`` on the
message (``{channel}:{provider message id}``) and tells agents' screens.

The notifier downloads while this service records the message, so the news can come
first: then the message is not there yet and the delivery is retried (transient), until
it is."""

from __future__ import annotations

from cauce_contracts.media import InboundMediaRefused, InboundMediaStored
from cauce_conversation.chat_feed import ChatFeed
from cauce_conversation.model import MessageMedia
from cauce_conversation.store import ConversationStore
from cauce_runtime import TransientError

MediaNews = InboundMediaStored | InboundMediaRefused


def media_of(event: MediaNews) -> MessageMedia:
    if isinstance(event, InboundMediaStored):
        return MessageMedia(
            status="stored",
            object_name=event.object_name,
            content_type=event.content_type,
            size=event.size,
            filename=event.filename,
        )
    return MessageMedia(status="refused", reason=event.reason, detail=event.detail)


class CustomerFiles:
    def __init__(self, store: ConversationStore, feed: ChatFeed) -> None:
        self.store = store
        self.feed = feed

    async def reported(self, event: MediaNews) -> None:
        message_id = f"{event.channel}:{event.provider_message_id}"
        conversation_id = await self.store.attach_media(
            event.tenant_id, message_id, media_of(event)
        )
        if conversation_id is None:
            raise TransientError(f"message {message_id} not recorded yet")
        conversation = await self.store.get(conversation_id)
        if conversation is not None:
            await self.feed.changed(conversation, "message", f"file:{message_id}")
