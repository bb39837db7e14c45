"""Each message the conversation sent (the bot's answers, agents' replies) shows how far
it got: the notifier's ``outbound.message.status_changed`` (sent, delivered, read,
failed with the provider's code and title) is written on the message it is about (the
request's event id is the message's id), never moving back; agents' screens are told
(``inbox.chat.changed``) so they show it."""

from __future__ import annotations

from cauce_contracts.outbound import OutboundStatusChanged
from cauce_conversation.chat_feed import ChatFeed
from cauce_conversation.model import DeliveryStatus
from cauce_conversation.store import ConversationStore


class Deliveries:
    def __init__(self, store: ConversationStore, feed: ChatFeed | None = None) -> None:
        self.store = store
        self.feed = feed

    async def status_changed(self, event: OutboundStatusChanged) -> None:
        """Record the status on its message (a status of a message this service did not
        send, a campaign's, has no message here and is ignored)."""
        if event.request_id is None:
            return
        delivery = DeliveryStatus(
            status=event.status,
            at=event.status_at,
            error_code=event.error_code,
            error_title=event.error_title,
        )
        conversation_id = await self.store.record_delivery(str(event.request_id), delivery)
        if conversation_id is None or self.feed is None:
            return
        conversation = await self.store.get(conversation_id)
        if conversation is not None:
            about = f"{event.request_id}:{event.status}"
            await self.feed.changed(conversation, "message", about)
