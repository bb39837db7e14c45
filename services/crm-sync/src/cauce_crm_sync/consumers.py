"""crm-sync's durable consumer: leads, campaign assignments and lead states, and the
records Odoo's webhook says changed.

Every event is applied to PostgreSQL (idempotent, newest wins:
:mod:`cauce_crm_sync.store.leads`; Odoo's changes by field owner:
:mod:`cauce_crm_sync.sync.odoo_changes`) and acked; Odoo is not called here. The sync worker
sends the changes to Odoo at Odoo's pace, so a slow or absent Odoo never holds back the
bus, and PostgreSQL is always current.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import asyncpg

from cauce_contracts.crm import (
    CampaignAssigned,
    ContactUpserted,
    LeadStateChanged,
    OdooRecordChanged,
)
from cauce_contracts.streams import CRM_SYNC
from cauce_crm_sync.metrics import record_conflicts
from cauce_crm_sync.store.leads import CrmEvent, apply_event
from cauce_crm_sync.sync.odoo_changes import OdooChange, OdooChanges
from cauce_runtime import Backoff, Bus, ConsumerSpec, Delivery, consumer


def crm_events(ack_wait_s: float = 120.0) -> ConsumerSpec:
    """The consumer of CRM events. Odoo's 1 request/s makes a slow batch normal: handlers
    get ``ack_wait_s`` (two minutes by default) before a message is delivered again."""
    return ConsumerSpec.of(
        CRM_SYNC,
        ack_wait=timedelta(seconds=ack_wait_s),
        max_deliver=8,
        backoff=Backoff.of(5, 30, 120, 300, 600, 1800, 3600),
    )


def register_consumers(
    bus: Bus,
    pool: asyncpg.Pool,
    *,
    applied: Callable[[], None],
    odoo_changes: OdooChanges | None = None,
    ack_wait_s: float = 120.0,
) -> None:
    """Declare the consumer on ``bus``; ``applied`` is called after each new change."""
    events = (ContactUpserted, CampaignAssigned, LeadStateChanged, OdooRecordChanged)

    @consumer(bus, crm_events(ack_wait_s), events, batch_size=64)
    async def on_crm_event(event: CrmEvent | OdooRecordChanged, delivery: Delivery) -> None:
        if isinstance(event, OdooRecordChanged):
            if odoo_changes is not None and await odoo_changed(odoo_changes, event):
                applied()
        elif await apply_event(pool, event):
            applied()


async def odoo_changed(changes: OdooChanges, event: OdooRecordChanged) -> bool:
    """Apply a record Odoo's webhook says changed; True when cauce must write to Odoo.
    Only the contact model is read back (state records are cauce's history: the
    reconciliation repairs them)."""
    if event.model != changes.mapping.contact.model:
        return False
    change = OdooChange(
        event.odoo_id, event.values, event.write_date or event.occurred_at, event.tenant_id
    )
    result = await changes.apply(change)
    record_conflicts(result, "webhook")
    return bool(result.repaired or result.pulled)
