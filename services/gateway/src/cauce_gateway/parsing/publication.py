"""What the gateway hands to the bus: an event, its subject and its dedupe key."""

from __future__ import annotations

from dataclasses import dataclass

from cauce_contracts.envelope import Event


@dataclass(frozen=True)
class Publication:
    """One event to publish.

    ``msg_id`` goes into ``Nats-Msg-Id``: it is derived from the provider's own ids,
    so a redelivered webhook produces the same key and JetStream drops the copy.
    """

    event: Event
    subject: str
    msg_id: str
