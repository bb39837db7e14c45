"""What code that only publishes needs from the bus: :class:`Publisher`.

:class:`~cauce_runtime.Bus` is one; ``cauce_devstack.testing.RecordingBus`` is an
in-memory one for unit tests. Depending on this protocol instead of :class:`Bus` lets
a handler be tested without a nats-server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from nats.js.api import PubAck

from cauce_contracts.envelope import Event


class Publisher(Protocol):
    """Publishes an event and waits for JetStream's acknowledgement."""

    async def publish(
        self,
        event: Event,
        subject: str,
        *,
        msg_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the PubAck wait is the API
    ) -> PubAck:
        """Publish ``event`` on ``subject``; ``msg_id`` (default: the event id) is its
        ``Nats-Msg-Id``, so a repeat inside the stream's duplicate window is dropped
        (``PubAck.duplicate``). Raises :class:`~cauce_runtime.BusUnavailable` when the
        bus did not take it in time."""
        ...
