"""Delivery status timeline: the channels' status webhooks move each message forward.

``inbound.status.updated`` events (from the gateway) are applied to the message with that
provider message id. Statuses arrive out of order and more than once (a ``read`` before
its ``delivered``, Meta retrying a webhook): the store never moves a message backwards,
and only a change that was applied is published as ``outbound.message.status_changed``.
A status for a message this notifier never sent (another system shares the number) is
acknowledged and ignored, after a few retries (a status can overtake the record of the
send it reports on).
"""

from __future__ import annotations

import logging

from cauce_contracts.inbound import InboundStatusUpdated
from cauce_contracts.outbound import OutboundStatusChanged
from cauce_contracts.registry import subject_of
from cauce_contracts.subjects import Channel
from cauce_notifier.metrics import STATUS_CHANGES
from cauce_notifier.store.messages import MessageStore
from cauce_runtime import Bus, Delivery, TransientError

logger = logging.getLogger(__name__)

#: Deliveries of a status for an unknown provider id before it is taken as not ours.
UNKNOWN_MESSAGE_RETRIES = 4
#: Inbound statuses that belong on the outbound timeline.
TRACKED = frozenset({"sent", "delivered", "read", "failed"})


class StatusTracker:
    def __init__(self, bus: Bus, messages: MessageStore) -> None:
        self.bus = bus
        self.messages = messages

    async def apply(self, event: InboundStatusUpdated, delivery: Delivery) -> None:
        status = event.status.value
        if status not in TRACKED:
            return
        error = event.errors[0] if event.errors else None
        outcome = await self.messages.apply_status(
            event.provider_message_id, status, event.timestamp, error, event.pricing
        )
        if not outcome.found and delivery.num_delivered < UNKNOWN_MESSAGE_RETRIES:
            # A provider can report "sent" before we recorded its id for the message:
            # wait for the record a few times before deciding it is not ours.
            raise TransientError("status for a message not recorded yet", retry_after=1.0)
        change = outcome.change
        if change is None:
            return  # not ours, a duplicate, or a step backwards
        STATUS_CHANGES.add(1, {"status": status})
        message = change.message
        changed = OutboundStatusChanged(
            tenant_id=message.tenant_id,
            correlation_id=message.correlation_id or str(event.event_id),
            causation_id=str(event.event_id),
            channel=Channel(message.channel),
            contact_key=message.contact_key,
            channel_account_id=message.channel_account_id,
            provider_message_id=event.provider_message_id,
            status=status,
            status_at=event.timestamp,
            request_id=message.request_event_id,
            error_code=change.error_code,
            error_title=change.error_title,
        )
        await self.bus.publish(
            changed,
            subject_of(changed),
            msg_id=f"status:{message.request_event_id}:{status}",
        )
