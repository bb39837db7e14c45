"""A durable pull consumer as a service declares it: its subscription and its tuning."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from cauce_contracts.streams import Subscription
from cauce_runtime._backoff import Backoff

#: Retries of a transient failure when a consumer says nothing else.
DEFAULT_BACKOFF = Backoff.of(1, 5, 30, 120, 600)


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer with explicit ack.

    ``backoff`` spaces the redeliveries of a transient failure (the runtime naks with
    its delay for each delivery; JetStream is given none, see the provisioning);
    ``ack_wait`` is how long JetStream waits for a handler that went silent (handlers
    send heartbeats while they work); ``max_deliver`` bounds the deliveries, after which
    the message is dead-lettered; ``max_ack_pending`` bounds the messages in flight
    across all replicas.
    """

    durable_name: str
    stream: str
    filter_subjects: tuple[str, ...]
    description: str
    ack_wait: timedelta = timedelta(seconds=30)
    max_deliver: int = 6
    backoff: Backoff = field(default=DEFAULT_BACKOFF)
    max_ack_pending: int = 1000

    def __post_init__(self) -> None:
        if self.max_deliver < 1 or self.max_ack_pending < 1:
            raise ValueError(f"{self.durable_name}: max_deliver and max_ack_pending must be >= 1")

    @classmethod
    def of(
        cls,
        subscription: Subscription,
        *,
        ack_wait: timedelta = timedelta(seconds=30),
        max_deliver: int = 6,
        backoff: Backoff = DEFAULT_BACKOFF,
        max_ack_pending: int = 1000,
    ) -> ConsumerSpec:
        """The consumer of ``subscription`` (from the contracts), tuned by its service."""
        return cls(
            subscription.durable_name,
            subscription.stream,
            subscription.filter_subjects,
            subscription.description,
            ack_wait=ack_wait,
            max_deliver=max_deliver,
            backoff=backoff,
            max_ack_pending=max_ack_pending,
        )
