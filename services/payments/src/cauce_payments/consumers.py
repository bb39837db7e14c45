"""The payments service's durable consumer, as it tunes it, and its declaration."""

from __future__ import annotations

from cauce_contracts import streams
from cauce_contracts.payments import (
    DebtLookupRequested,
    PaymentLinkRequested,
    PaymentTransactionStatusChanged,
)
from cauce_payments.debt_lookups import DebtLookups
from cauce_payments.payment_links import PaymentLinks
from cauce_payments.transaction_status import TransactionStatuses
from cauce_runtime import Bus, ConsumerSpec, Delivery, consumer

#: Debt lookups, link requests and transaction statuses; SCI failures are retried by
#: redelivery with the default backoff (see :mod:`cauce_payments.retrying`).
REQUESTS = ConsumerSpec.of(streams.PAYMENTS_REQUESTS)

PaymentRequest = DebtLookupRequested | PaymentLinkRequested | PaymentTransactionStatusChanged


def register_consumers(
    bus: Bus, *, lookups: DebtLookups, links: PaymentLinks, statuses: TransactionStatuses
) -> None:
    """Declare the ``payments-requests`` consumer on ``bus`` (before it starts)."""

    @consumer(
        bus,
        REQUESTS,
        (DebtLookupRequested, PaymentLinkRequested, PaymentTransactionStatusChanged),
        batch_size=16,
    )
    async def on_request(event: PaymentRequest, delivery: Delivery) -> None:
        if isinstance(event, DebtLookupRequested):
            await lookups.handle(event, delivery)
        elif isinstance(event, PaymentLinkRequested):
            await links.handle(event, delivery)
        else:
            await statuses.handle(event, delivery)
