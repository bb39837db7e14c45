"""The company's chats as they change, for agents' screens: ``inbox.chat.changed`` of the
caller's company read from the ``INBOX`` stream by an ephemeral ordered consumer (no
durable state per screen), from the next change on, or from just after the one a
reconnecting screen names (``Last-Event-ID`` = the stream sequence it last got).

Only the changes of chats the caller sees (:class:`~.scope.ChatScope`) are pushed; a
chat this stream showed that then leaves the caller's scope (assigned to someone
else, moved to another team) is pushed once as ``gone``, so the screen drops it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from nats.js.api import ConsumerConfig, DeliverPolicy

from cauce_contracts import subjects
from cauce_contracts.inbox import ChatChanged
from cauce_contracts.registry import parse_event
from cauce_conversation.inbox.scope import ChatScope
from cauce_runtime import Bus


def resume_after(last_event_id: str | None) -> int | None:
    """The stream sequence a reconnecting screen last got (None: start with what is new)."""
    if last_event_id is None or not last_event_id.strip().isdigit():
        return None
    return int(last_event_id.strip())


_SHOWN = {"chat_id", "change", "status", "assignee", "team", "version", "occurred_at"}


async def live_changes(
    bus: Bus, scope: ChatScope, after: int | None
) -> AsyncIterator[dict[str, Any]]:
    """SSE events (``id``, ``event``, ``data``) of the changes of chats ``scope`` sees."""
    company_id = scope.caller.company_id
    config = (
        ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after + 1)
        if after is not None
        else ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
    )
    subject = f"{subjects.INBOX_CHAT_CHANGED}.{subjects.token(company_id, 'company')}.*"
    subscription = await bus.connection.jetstream().subscribe(
        subject, ordered_consumer=True, config=config
    )
    shown: set[str] = set()  # chats this stream pushed while the caller saw them
    try:
        async for message in subscription.messages:
            event = parse_event(message.data)
            if not isinstance(event, ChatChanged):
                continue
            sequence = str(message.metadata.sequence.stream)
            if scope.sees(event.tenant_id, event.assignee, event.team):
                shown.add(event.chat_id)
                data = event.model_dump(mode="json", include=_SHOWN)
                yield {"id": sequence, "event": "chat", "data": json.dumps(data)}
            elif event.chat_id in shown:
                shown.discard(event.chat_id)
                data = {"chat_id": event.chat_id, "version": event.version}
                yield {"id": sequence, "event": "gone", "data": json.dumps(data)}
    finally:
        await subscription.unsubscribe()
