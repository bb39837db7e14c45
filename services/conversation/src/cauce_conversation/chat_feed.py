"""Agents' screens follow the chats live: every write to a chat (a customer's message,
the bot's answer, an agent's change, a snooze ending, an assignment) is announced as
``inbox.chat.changed`` (:class:`~cauce_contracts.inbox.ChatChanged`) on the short-lived
``INBOX`` stream, which ``GET /api/chats/stream`` relays.

An announcement is a hint, published after the write: the chat itself is in MongoDB
and a screen fetches it again. When the bus is down the write still stands and the
hint is dropped with a warning (screens also refresh when they reconnect)."""

from __future__ import annotations

import logging

from cauce_contracts.inbox import ChatChange, ChatChanged
from cauce_contracts.registry import subject_of
from cauce_conversation.model import Conversation
from cauce_runtime import BusUnavailable, Publisher

logger = logging.getLogger(__name__)


class ChatFeed:
    def __init__(self, bus: Publisher) -> None:
        self.bus = bus

    async def changed(
        self, conversation: Conversation, change: ChatChange, about: str | None = None
    ) -> None:
        """Announce ``change``. A write that bumps the chat's version is named by it;
        one that does not (a reply, a note, a delivery status, a file) names what it is
        ``about`` (a message and its status), so JetStream's de-duplication drops only
        a repeat of the same announcement, never the next one."""
        event = ChatChanged(
            tenant_id=conversation.tenant_id,
            correlation_id=f"inbox:{conversation.id}",
            chat_id=conversation.id,
            change=change,
            status=str(conversation.status),
            assignee=conversation.assignee,
            team=conversation.team,
            version=conversation.version,
        )
        try:
            await self.bus.publish(
                event,
                subject_of(event),
                msg_id=f"chat:{conversation.id}:{conversation.version}:{change}:{about or ''}",
            )
        except BusUnavailable as exc:
            logger.warning("chat %s changed but not announced: %s", conversation.id, exc)
