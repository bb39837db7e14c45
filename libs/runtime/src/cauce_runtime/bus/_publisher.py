"""What code that only publishes needs from the bus: :class:`Publisher`, with the
:class:`Publication` of a batch and the :class:`NewTrace` of bulk work.

:class:`~cauce_runtime.Bus` is one; ``cauce_devstack.testing.RecordingBus`` is an
in-memory one for unit tests. Depending on this protocol instead of :class:`Bus` lets
a handler be tested without a nats-server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from nats.js.api import PubAck
from opentelemetry.trace import Link

from cauce_contracts.envelope import Event


@dataclass(frozen=True)
class NewTrace:
    """Publish as the first span of a trace of its own, linked to what began it.

    For bulk work, where one request starts thousands of independent items (a
    campaign's start and its recipients): each item's publish is the root of that
    item's trace, so a trace stays one item from its publish to its provider call, and
    the link leads back to the request. Its PRODUCER span carries ``name`` and
    ``attributes`` (on top of the messaging ones).
    """

    name: str
    links: Sequence[Link] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Publication:
    """One event of a batch: the event, its subject, its ``Nats-Msg-Id`` (None: the
    event id) and, for bulk work, the :class:`NewTrace` its publish begins (None: it
    is in the batch's span)."""

    event: Event
    subject: str
    msg_id: str | None = None
    new_trace: NewTrace | None = None


class Publisher(Protocol):
    """Publishes events and waits for JetStream's acknowledgement."""

    async def publish(
        self,
        event: Event,
        subject: str,
        *,
        msg_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the PubAck wait is the API
        new_trace: NewTrace | None = None,
    ) -> PubAck:
        """Publish ``event`` on ``subject``; ``msg_id`` (default: the event id) is its
        ``Nats-Msg-Id``, so a repeat inside the stream's duplicate window is dropped
        (``PubAck.duplicate``). Raises :class:`~cauce_runtime.BusUnavailable` when the
        bus did not take it in time. ``new_trace``: start a trace of its own (see
        :class:`NewTrace`) instead of continuing the current one."""
        ...

    async def publish_batch(
        self,
        batch: Sequence[Publication],
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[PubAck]:
        """Publish every event of ``batch`` at once (one span, but each event with a
        ``new_trace`` the root of its own); return when all are acknowledged. If any was
        not, :class:`~cauce_runtime.BusUnavailable` after all settled (the ones that
        landed are duplicates when the caller retries)."""
        ...
