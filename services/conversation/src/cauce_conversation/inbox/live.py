"""The company's chats as they change, for agents' screens: ``inbox.chat.changed`` of the
caller's company read from the ``INBOX`` stream by an ephemeral ordered consumer (no
durable state per screen), from the next change on, or from just after the one a
reconnecting screen names (``Last-Event-ID`` = the stream sequence it last got)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from nats.js.api import ConsumerConfig, DeliverPolicy

from cauce_contracts import subjects
from cauce_contracts.registry import parse_event
from cauce_runtime import Bus


def resume_after(last_event_id: str | None) -> int | None:
    """The stream sequence a reconnecting screen last got (None: start with what is new)."""
    if last_event_id is None or not last_event_id.strip().isdigit():
        return None
    return int(last_event_id.strip())


async def live_changes(
    bus: Bus, company_id: str, after: int | None
) -> AsyncIterator[dict[str, Any]]:
    """SSE events (``id``, ``event``, ``data``) of the company's chat changes."""
    config = (
        ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after + 1)
        if after is not None
        else ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
    )
    subject = f"{subjects.INBOX_CHAT_CHANGED}.{subjects.token(company_id, 'company')}.*"
    subscription = await bus.connection.jetstream().subscribe(
        subject, ordered_consumer=True, config=config
    )
    try:
        async for message in subscription.messages:
            event = parse_event(message.data)
            yield {
                "id": str(message.metadata.sequence.stream),
                "event": "chat",
                "data": json.dumps(
                    event.model_dump(
                        mode="json",
                        include={
                            "chat_id",
                            "change",
                            "status",
                            "assignee",
                            "version",
                            "occurred_at",
                        },
                    )
                ),
            }
    finally:
        await subscription.unsubscribe()
