"""Snoozed conversations come back when their time comes: back to open, exactly once
however many replicas run. Every replica polls for due ones, by the database's clock
(a replica's own clock may jump); the wake is a compare-and-set on the conversation's
version, so one replica's write wins and the others, holding a stale version, write
nothing. (A customer's reply wakes one snoozed with ``unsnooze_on_reply`` in its turn:
:mod:`cauce_conversation.turns`.)"""

from __future__ import annotations

import logging

from cauce_conversation.chat_feed import ChatFeed
from cauce_conversation.model import Conversation, ConversationStatus
from cauce_conversation.store import ConversationStore
from cauce_runtime import BackgroundTask, every

logger = logging.getLogger(__name__)


def awake(conversation: Conversation) -> Conversation:
    """``conversation`` out of its snooze, open again."""
    return conversation.model_copy(
        update={
            "status": ConversationStatus.OPEN,
            "snoozed_until": None,
            "unsnooze_on_reply": False,
        }
    )


class SnoozeWaker:
    def __init__(
        self,
        store: ConversationStore,
        *,
        poll_s: float = 1.0,
        feed: ChatFeed | None = None,
    ) -> None:
        self.store = store
        self.feed = feed
        self.poll_s = poll_s
        self._task = BackgroundTask("snooze-waker")

    async def start(self) -> None:
        self._task.start(every(self.poll_s, self.wake_due, "snooze check"))

    async def stop(self) -> None:
        await self._task.stop()

    async def wake_due(self) -> int:
        """Wake the conversations due now; how many this replica woke."""
        woken = 0
        for conversation in await self.store.due_snoozed():
            saved = await self.store.save(awake(conversation))
            if saved is not None:
                woken += 1
                if self.feed is not None:
                    await self.feed.changed(saved, "snooze")
                logger.info("conversation %s woke from its snooze", conversation.id)
        return woken
