"""crm-sync's durable consumer: leads, campaign assignments and lead states.

Every event is applied to PostgreSQL (idempotent, newest wins:
:mod:`cauce_crm_sync.store.leads`) and acked; Odoo is not called here. The sync worker
sends the changes to Odoo at Odoo's pace, so a slow or absent Odoo never holds back the
bus, and PostgreSQL is always current.
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from cauce_contracts.crm import CampaignAssigned, ContactUpserted, LeadStateChanged
from cauce_contracts.streams import CRM_SYNC
from cauce_crm_sync.store.leads import CrmEvent, apply_event
from cauce_runtime.bus import Bus
from cauce_runtime.consumers import Delivery, consumer


def register_consumers(bus: Bus, pool: asyncpg.Pool, *, applied: Callable[[], None]) -> None:
    """Declare the consumer on ``bus``; ``applied`` is called after each new change."""

    @consumer(bus, CRM_SYNC, (ContactUpserted, CampaignAssigned, LeadStateChanged), batch_size=64)
    async def on_crm_event(event: CrmEvent, delivery: Delivery) -> None:
        if await apply_event(pool, event):
            applied()
