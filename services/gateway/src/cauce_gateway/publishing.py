"""Hand a webhook's events to JetStream and wait until every one is durable."""

from __future__ import annotations

from collections.abc import Sequence

from nats.js.api import PubAck

from cauce_gateway.parsing import Publication
from cauce_runtime import Bus


async def publish_all(bus: Bus, publications: Sequence[Publication]) -> list[PubAck]:
    """Publish them all at once; return only when JetStream acknowledged every one.

    One event is one traced publish; several (a burst of statuses) are one batch publish
    under one span (:meth:`~cauce_runtime.Bus.publish_batch`). If any publish fails,
    :class:`~cauce_runtime.BusUnavailable` propagates and the webhook is answered 503, so
    the channel retries the whole delivery; the ones that did land are then dropped by
    JetStream's ``Nats-Msg-Id`` dedupe (and consumers are idempotent on ``event_id``
    beyond the dedupe window).
    """
    return await bus.publish_batch(publications)
