"""Agent writes as compare-and-set loops on the conversation's version.

The bot and other agents write the same document; a write reads, applies a pure
change and saves only if nobody wrote in between. On a conflict it re-reads and
re-applies (the change is a function of the current state, not a stale copy), a few
times; a conversation that stays that hot gets a 409 and the agent retries.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException

from cauce_contracts.inbox import ChatChange
from cauce_conversation.chat_feed import ChatFeed
from cauce_conversation.inbox.scope import ChatScope
from cauce_conversation.model import Conversation
from cauce_conversation.store import ConversationStore

#: Attempts before giving up with 409 (each one is a read and a conditional write).
MAX_ATTEMPTS = 5

Change = Callable[[Conversation], Conversation]


def not_found(conversation_id: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"no conversation {conversation_id}")


async def load(store: ConversationStore, conversation_id: str, scope: ChatScope) -> Conversation:
    """The conversation, when the caller may see it (their company's, within their
    role's scope; any, for a platform admin): any other is a 404 like a missing one."""
    conversation = await store.get(conversation_id)
    if conversation is None or not scope.sees_chat(conversation):
        raise not_found(conversation_id)
    return conversation


async def update_conversation(
    store: ConversationStore,
    conversation_id: str,
    scope: ChatScope,
    change: Change,
    *,
    feed: ChatFeed | None = None,
    kind: ChatChange = "status",
) -> Conversation:
    """Apply ``change`` to the current conversation and save it with compare-and-set.

    A change that alters nothing is not written (no version bump, no conflict).
    404 for an unknown id, 409 when every attempt lost to a concurrent writer.
    """
    for _ in range(MAX_ATTEMPTS):
        current = await load(store, conversation_id, scope)
        changed = change(current)
        if changed == current:
            return current
        saved = await store.save(changed)
        if saved is not None:
            if feed is not None:
                await feed.changed(saved, kind)
            return saved
    raise HTTPException(
        status_code=409,
        detail="the conversation kept changing while this change was applied; retry",
    )
