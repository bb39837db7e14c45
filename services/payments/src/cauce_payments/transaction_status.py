"""Transaction statuses from SCI's webhook (via the gateway) onto the link's row.

Idempotent and order-tolerant: ``approved`` is never replaced (a late ``pending``
cannot undo a payment), otherwise the newest ``status_at`` wins. A transaction that is
not ours (created outside cauce) is acknowledged and ignored.
"""

from __future__ import annotations

import logging

from cauce_contracts.payments import PaymentTransactionStatusChanged
from cauce_payments.store import LinkStore
from cauce_runtime import Delivery

logger = logging.getLogger(__name__)


class TransactionStatuses:
    def __init__(self, store: LinkStore) -> None:
        self.store = store

    async def handle(self, event: PaymentTransactionStatusChanged, delivery: Delivery) -> None:
        applied = await self.store.apply_status(
            event.tenant_id,
            event.transaction_id,
            event.status,
            event.provider_status,
            event.status_at,
        )
        if not applied:
            logger.info(
                "transaction %s status %s not applied (unknown transaction or stale status)",
                event.transaction_id,
                event.status.value,
            )
