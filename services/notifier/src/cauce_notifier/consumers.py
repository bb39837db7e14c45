"""The notifier's durable consumers, as it tunes them, and their declaration."""

from __future__ import annotations

from datetime import timedelta

from cauce_contracts import streams
from cauce_contracts.inbound import InboundMessageReceived, InboundStatusUpdated
from cauce_contracts.outbound import CampaignMessageRequested, OutboundMessageRequested
from cauce_notifier.campaigns.business_account import BUSINESS_ACCOUNT_EVENTS
from cauce_notifier.campaigns.service import Campaigns
from cauce_notifier.delivery import Deliverer
from cauce_notifier.media.fetcher import MediaFetcher
from cauce_notifier.service_window import ServiceWindows
from cauce_notifier.settings import SendLane
from cauce_notifier.statuses import StatusTracker
from cauce_runtime import Backoff, Bus, ConsumerSpec, Delivery, consumer


def requests_spec(ack_wait_s: float = 30.0) -> ConsumerSpec:
    """One-off requests. Waiting is normal here (send slots, Retry-After, a recipient's
    pair limit, failing credentials being fixed) and each wait is a redelivery, so
    deliveries are many; failed provider calls are counted by the notifier itself and
    give up much sooner. ``ack_wait_s``: a dead worker's deliveries come back after it
    (the delivery claim's length, ``CAUCE_DELIVERY_CLAIM_S``)."""
    return ConsumerSpec.of(
        streams.NOTIFIER_REQUESTS,
        ack_wait=timedelta(seconds=ack_wait_s),
        max_deliver=500,
        backoff=Backoff.of(1, 5, 15, 30, 60, 120, 300),
    )


def campaign_sends_spec(ack_wait_s: float = 30.0) -> ConsumerSpec:
    """A campaign's sends wait for slots they reserve only a little ahead (replies go
    first), so redeliveries are many and short."""
    return ConsumerSpec.of(
        streams.NOTIFIER_CAMPAIGN_SENDS,
        ack_wait=timedelta(seconds=ack_wait_s),
        max_deliver=2000,
        backoff=Backoff.of(1, 5, 15, 30, 60),
    )


BUSINESS_ACCOUNT = ConsumerSpec.of(streams.NOTIFIER_BUSINESS_ACCOUNT)
STATUSES = ConsumerSpec.of(streams.NOTIFIER_STATUSES)
WINDOWS = ConsumerSpec.of(streams.NOTIFIER_WINDOWS)
#: A download that fails for a while (the provider down) is retried for about an hour,
#: then dead-lettered with the reason; Meta keeps a customer's media for 30 days.
MEDIA = ConsumerSpec.of(
    streams.NOTIFIER_MEDIA, max_deliver=12, backoff=Backoff.of(1, 5, 15, 60, 300, 600)
)


def register_consumers(
    bus: Bus,
    *,
    deliverer: Deliverer,
    statuses: StatusTracker,
    windows: ServiceWindows,
    campaigns: Campaigns,
    media: MediaFetcher,
    delivery_batch_size: int,
    campaign_batch_size: int,
    ack_wait_s: float = 30.0,
    lanes: frozenset[SendLane] = frozenset({"replies", "campaigns"}),
) -> None:
    """Declare the notifier's consumers on ``bus`` (before it starts): requests (lane
    ``replies``) and campaign sends (lane ``campaigns``) are delivered, statuses
    tracked, customers' messages open the service window (and an opt-out word stops
    campaigns), business-account news applied, customers' files kept."""
    if "replies" in lanes:
        requests = requests_spec(ack_wait_s)
        consumer(bus, requests, OutboundMessageRequested, batch_size=delivery_batch_size)(
            deliverer.deliver
        )
    if "campaigns" in lanes:
        campaign_sends = campaign_sends_spec(ack_wait_s)
        consumer(bus, campaign_sends, CampaignMessageRequested, batch_size=campaign_batch_size)(
            deliverer.deliver
        )
    consumer(bus, BUSINESS_ACCOUNT, BUSINESS_ACCOUNT_EVENTS)(campaigns.updates.apply)
    consumer(bus, STATUSES, InboundStatusUpdated, batch_size=32)(statuses.apply)
    consumer(bus, MEDIA, InboundMessageReceived, batch_size=8)(media.fetch)

    @consumer(bus, WINDOWS, InboundMessageReceived, batch_size=32)
    async def record_inbound(event: InboundMessageReceived, delivery: Delivery) -> None:
        await windows.record_inbound(
            event.tenant_id,
            event.channel.value,
            event.channel_account_id,
            event.contact_key,
            event.sent_at,
        )
        await campaigns.opt_outs.heard(event)
