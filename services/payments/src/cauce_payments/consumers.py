"""The payments service's durable consumer, as it tunes it."""

from __future__ import annotations

from cauce_contracts import streams
from cauce_runtime import ConsumerSpec

#: Debt lookups, link requests and transaction statuses; SCI failures are retried by
#: redelivery with the default backoff (see :mod:`cauce_payments.retrying`).
REQUESTS = ConsumerSpec.of(streams.PAYMENTS_REQUESTS)
