"""crm-sync's durable consumer: leads, campaign assignments and lead states.

Every event is applied to PostgreSQL (idempotent, newest wins:
:mod:`cauce_crm_sync.store.leads`) and acked; Odoo is not called here. The sync worker
sends the changes to Odoo at Odoo's pace, so a slow or absent Odoo never holds back the
bus, and PostgreSQL is always current.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import asyncpg

from cauce_contracts.crm import CampaignAssigned, ContactUpserted, LeadStateChanged
from cauce_contracts.streams import CRM_SYNC
from cauce_crm_sync.store.leads import CrmEvent, apply_event
from cauce_runtime import Backoff, Bus, ConsumerSpec, Delivery, consumer

CRM_EVENTS = ConsumerSpec.of(
    CRM_SYNC,
    # Odoo's 1 request/s makes a slow batch normal: give handlers room before redelivery.
    ack_wait=timedelta(minutes=2),
    max_deliver=8,
    backoff=Backoff.of(5, 30, 120, 300, 600, 1800, 3600),
)


def register_consumers(bus: Bus, pool: asyncpg.Pool, *, applied: Callable[[], None]) -> None:
    """Declare the consumer on ``bus``; ``applied`` is called after each new change."""

    @consumer(bus, CRM_EVENTS, (ContactUpserted, CampaignAssigned, LeadStateChanged), batch_size=64)
    async def on_crm_event(event: CrmEvent, delivery: Delivery) -> None:
        if await apply_event(pool, event):
            applied()
