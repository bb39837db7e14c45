"""Apply CRM events to PostgreSQL: idempotent on ``event_id``, newest data wins.

Each event is applied in one transaction that first records its ``event_id`` in
``crm.applied_events``: a redelivered or replayed event finds it there and changes
nothing. Events can arrive out of order (ManyChat retries, replays), so every part of
a lead keeps the data with the newest *source* timestamp, not the latest arrival:

- profile (name, phone, e-mail...): ``datetime_actual`` of ``crm.contact.upserted``;
  fields an event leaves out keep their value;
- state (``ultimo_estado``): the newest of a contact upsert's ``datetime_actual``, an
  assignment's ``datetime_actual`` and a state change's ``changed_at``;
- current campaign (campaign, comercial, tipo): the newest assignment.

A lead met first through an assignment or the bot gets a row with just its id. Every
change marks the records to send to Odoo (:func:`cauce_crm_sync.store.sync_state.mark_changed`)
in the same transaction, so nothing applied is ever left unsynced; a state change Odoo
itself made is kept in ``lead_states`` but not sent back as a ``manychat.state`` record.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from cauce_contracts.crm import CampaignAssigned, ContactUpserted, LeadStateChanged
from cauce_contracts.envelope import Event
from cauce_crm_sync.store.sync_state import mark_changed

CrmEvent = ContactUpserted | CampaignAssigned | LeadStateChanged


async def apply_event(pool: asyncpg.Pool, event: CrmEvent) -> bool:
    """Apply ``event``; ``False`` when it had been applied before (nothing changed)."""
    async with pool.acquire() as connection, connection.transaction():
        if not await _first_time(connection, event):
            return False
        if isinstance(event, ContactUpserted):
            changed = await _apply_contact(connection, event)
        elif isinstance(event, CampaignAssigned):
            changed = await _apply_assignment(connection, event)
        else:
            changed = await _apply_state_change(connection, event)
        if changed:
            await mark_changed(connection, event.tenant_id, "contact", event.manychat_id)
        return True


async def _first_time(connection: Any, event: Event) -> bool:
    inserted = await connection.fetchval(
        """
        INSERT INTO crm.applied_events (event_id, event_type) VALUES ($1, $2)
        ON CONFLICT (event_id) DO NOTHING RETURNING true
        """,
        str(event.event_id),
        event.event_type,
    )
    return bool(inserted)


async def _ensure_contact(connection: Any, tenant_id: str, manychat_id: str) -> None:
    await connection.execute(
        """
        INSERT INTO crm.contacts (tenant_id, manychat_id) VALUES ($1, $2)
        ON CONFLICT DO NOTHING
        """,
        tenant_id,
        manychat_id,
    )


async def _apply_contact(connection: Any, event: ContactUpserted) -> bool:
    await _ensure_contact(connection, event.tenant_id, event.manychat_id)
    profile = await connection.fetchval(
        """
        UPDATE crm.contacts SET
            nombre_lead = $3,
            first_name = COALESCE($4, first_name),
            last_name = COALESCE($5, last_name),
            phone = COALESCE($6, phone),
            email = COALESCE($7, email),
            contact_id = COALESCE($8, contact_id),
            datetime_actual = $9,
            updated_at = now()
        WHERE tenant_id = $1 AND manychat_id = $2
          AND (datetime_actual IS NULL OR datetime_actual < $9)
        RETURNING true
        """,
        event.tenant_id,
        event.manychat_id,
        event.nombre_lead,
        event.first_name,
        event.last_name,
        event.phone,
        event.email,
        event.contact_id,
        event.datetime_actual,
    )
    state = event.ultimo_estado is not None and await _set_state(
        connection, event.tenant_id, event.manychat_id, event.ultimo_estado, event.datetime_actual
    )
    return bool(profile) or state


async def _set_state(
    connection: Any, tenant_id: str, manychat_id: str, state: str, at: Any
) -> bool:
    updated = await connection.fetchval(
        """
        UPDATE crm.contacts SET ultimo_estado = $3, state_changed_at = $4, updated_at = now()
        WHERE tenant_id = $1 AND manychat_id = $2
          AND (state_changed_at IS NULL OR state_changed_at < $4)
        RETURNING true
        """,
        tenant_id,
        manychat_id,
        state,
        at,
    )
    return bool(updated)


async def _apply_assignment(connection: Any, event: CampaignAssigned) -> bool:
    await _ensure_contact(connection, event.tenant_id, event.manychat_id)
    await connection.execute(
        """
        INSERT INTO crm.campaigns (tenant_id, campaign_id, last_assigned_at) VALUES ($1, $2, $3)
        ON CONFLICT (tenant_id, campaign_id) DO UPDATE SET last_assigned_at =
            GREATEST(crm.campaigns.last_assigned_at, EXCLUDED.last_assigned_at)
        """,
        event.tenant_id,
        event.campaign_id,
        event.datetime_actual,
    )
    await connection.execute(
        """
        INSERT INTO crm.campaign_assignments AS a (tenant_id, manychat_id, campaign_id,
            comercial_id, tipo_asignacion, ultimo_estado, assigned_at, event_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (tenant_id, manychat_id, campaign_id) DO UPDATE SET
            comercial_id = EXCLUDED.comercial_id,
            tipo_asignacion = EXCLUDED.tipo_asignacion,
            ultimo_estado = EXCLUDED.ultimo_estado,
            assigned_at = EXCLUDED.assigned_at,
            event_id = EXCLUDED.event_id,
            updated_at = now()
        WHERE a.assigned_at < EXCLUDED.assigned_at
        """,
        event.tenant_id,
        event.manychat_id,
        event.campaign_id,
        event.comercial_id,
        event.tipo_asignacion,
        event.ultimo_estado,
        event.datetime_actual,
        str(event.event_id),
    )
    current = await connection.fetchval(
        """
        UPDATE crm.contacts SET campaign_id = $3, comercial_id = $4, tipo_asignacion = $5,
            assigned_at = $6, updated_at = now()
        WHERE tenant_id = $1 AND manychat_id = $2
          AND (assigned_at IS NULL OR assigned_at < $6)
        RETURNING true
        """,
        event.tenant_id,
        event.manychat_id,
        event.campaign_id,
        event.comercial_id,
        event.tipo_asignacion,
        event.datetime_actual,
    )
    state = await _set_state(
        connection, event.tenant_id, event.manychat_id, event.ultimo_estado, event.datetime_actual
    )
    return bool(current) or state


async def _apply_state_change(connection: Any, event: LeadStateChanged) -> bool:
    await _ensure_contact(connection, event.tenant_id, event.manychat_id)
    await connection.execute(
        """
        INSERT INTO crm.lead_states (event_id, tenant_id, manychat_id, previous_state,
            new_state, changed_at, source)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        str(event.event_id),
        event.tenant_id,
        event.manychat_id,
        event.previous_state,
        event.new_state,
        event.changed_at,
        event.source,
    )
    if event.source != "odoo":
        # Odoo's own edits are in Odoo already (its chatter tracks them): the
        # ``manychat.state`` history there is what happened outside Odoo, so a state set
        # in Odoo costs one call back (the contact's ``state_changed_at``), not two.
        await mark_changed(connection, event.tenant_id, "state", str(event.event_id))
    return await _set_state(
        connection, event.tenant_id, event.manychat_id, event.new_state, event.changed_at
    )
