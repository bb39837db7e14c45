"""Delivery status timeline: the channels' status webhooks move each message forward.

``inbound.status.updated`` events (from the gateway) are applied to the message with that
provider message id. Statuses arrive out of order and more than once (a ``read`` before
its ``delivered``, Meta retrying a webhook): the store never moves a message backwards,
and only a change that was applied is published as ``outbound.message.status_changed``.
A status for a message this notifier never sent (another system shares the number) is
acknowledged and ignored, after a few retries (a status can overtake the record of the
send it reports on).

A status that names its request (Meta's ``biz_opaque_callback_data``, YCloud's
``externalId``: the request's event id, set by the provider clients) for a message with
no provider id yet records the send itself: the send's answer was lost (the notifier
died mid-call, PostgreSQL went away) or is about to be recorded, and either way the
provider has the message. Its ``sent`` is announced here, and the waiting redelivery of
the request (:mod:`cauce_notifier.delivery`) finds it sent instead of sending again.
"""

from __future__ import annotations

import logging
import uuid

from cauce_contracts.inbound import InboundStatusUpdated
from cauce_contracts.outbound import OutboundStatusChanged
from cauce_contracts.registry import subject_of
from cauce_contracts.subjects import Channel
from cauce_notifier.metrics import SENDS_IN_DOUBT, STATUS_CHANGES
from cauce_notifier.send_outcomes import Request, announce_sent
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
        if not outcome.found and await self._record_send_it_names(event):
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

    async def _record_send_it_names(self, event: InboundStatusUpdated) -> bool:
        """Record the send of the request ``event`` names, if it has no provider id yet
        and went out from the account the status comes from; True when the message now
        carries the status's provider id."""
        request_id = _request_id(event.biz_opaque_callback_data)
        if request_id is None:
            return False
        message = await self.messages.record_sent(
            request_id,
            event.provider_message_id,
            event.timestamp,
            sent_from=(event.channel.value, event.channel_account_id),
        )
        if message is None or message.provider_message_id != event.provider_message_id:
            return False  # not ours, or sent again (as another message) meanwhile
        await announce_sent(self.bus, Request.of_record(message), event.provider_message_id)
        SENDS_IN_DOUBT.add(1, {"provider": message.channel, "outcome": "recorded_by_status"})
        return True


def _request_id(callback_data: str | None) -> uuid.UUID | None:
    """The request event id a provider echoed back, if that is what the string is."""
    if not callback_data:
        return None
    try:
        return uuid.UUID(callback_data)
    except ValueError:
        return None
