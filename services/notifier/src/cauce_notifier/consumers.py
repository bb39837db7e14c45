"""The notifier's durable consumers, as it tunes them."""

from __future__ import annotations

from cauce_contracts import streams
from cauce_runtime import Backoff, ConsumerSpec

#: Waiting is normal here (send slots, Retry-After, a recipient's pair limit, failing
#: credentials being fixed) and each wait is a redelivery, so deliveries are many;
#: failed provider calls are counted by the notifier itself and give up much sooner.
REQUESTS = ConsumerSpec.of(
    streams.NOTIFIER_REQUESTS, max_deliver=500, backoff=Backoff.of(1, 5, 15, 30, 60, 120, 300)
)
STATUSES = ConsumerSpec.of(streams.NOTIFIER_STATUSES)
WINDOWS = ConsumerSpec.of(streams.NOTIFIER_WINDOWS)
