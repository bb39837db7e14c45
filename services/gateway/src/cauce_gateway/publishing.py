"""Hand a webhook's events to JetStream and wait until every one is durable."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from nats.js.api import PubAck

from cauce_gateway.parsing import Publication
from cauce_runtime import Bus


async def publish_all(bus: Bus, publications: Sequence[Publication]) -> list[PubAck]:
    """Publish concurrently; return only when JetStream acknowledged all of them.

    If any publish fails, :class:`~cauce_runtime.BusUnavailable` propagates and the
    webhook is answered 503, so the channel retries the whole delivery; the ones that did
    land are then dropped by JetStream's ``Nats-Msg-Id`` dedupe (and consumers are
    idempotent on ``event_id`` beyond the dedupe window).
    """
    if len(publications) == 1:  # most webhooks: no tasks to schedule and gather
        only = publications[0]
        return [await bus.publish(only.event, only.subject, msg_id=only.msg_id)]
    results = await asyncio.gather(
        *(bus.publish(p.event, p.subject, msg_id=p.msg_id) for p in publications),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [r for r in results if isinstance(r, PubAck)]
