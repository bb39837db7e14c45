"""Applying CRM events to PostgreSQL: idempotent on event_id, newest source data wins,
and every change leaves its record due for Odoo."""

from __future__ import annotations

import asyncio

import asyncpg

from cauce_crm_sync.odoo.errors import OdooUnavailable
from cauce_crm_sync.store import sync_state as sync_store
from cauce_crm_sync.store.leads import apply_event
from cauce_crm_sync.store.migrations import MIGRATIONS, migrate, schema_version

from .conftest import TENANT, assignment, at, contact, state_change


async def lead(pool: asyncpg.Pool, manychat_id: str) -> asyncpg.Record:
    row = await pool.fetchrow(
        "SELECT * FROM crm.contacts WHERE tenant_id = $1 AND manychat_id = $2", TENANT, manychat_id
    )
    assert row is not None
    return row


async def sync_row(pool: asyncpg.Pool, kind: str, key: str) -> asyncpg.Record:
    row = await pool.fetchrow(
        "SELECT * FROM crm.sync_records WHERE kind = $1 AND record_key = $2", kind, key
    )
    assert row is not None
    return row


async def test_migrations_are_idempotent_and_versioned(pool: asyncpg.Pool) -> None:
    assert await migrate(pool) == []
    assert await schema_version(pool) == MIGRATIONS[-1][0]


async def test_a_contact_lands_with_its_fields_and_is_due_for_odoo(pool: asyncpg.Pool) -> None:
    assert await apply_event(pool, contact("mc-1")) is True

    row = await lead(pool, "mc-1")
    assert (row["nombre_lead"], row["email"], row["ultimo_estado"]) == (
        "Test Contact Data",
        "test.data@example.com",
        "Nuevo",
    )
    record = await sync_row(pool, "contact", "mc-1")
    assert (record["status"], record["revision"], record["odoo_id"]) == ("pending", 1, None)


async def test_the_same_event_three_times_changes_nothing_after_the_first(
    pool: asyncpg.Pool,
) -> None:
    event = contact("mc-2")
    results = [await apply_event(pool, event) for _ in range(3)]

    assert results == [True, False, False]
    assert await pool.fetchval("SELECT count(*) FROM crm.contacts") == 1
    assert (await sync_row(pool, "contact", "mc-2"))["revision"] == 1


async def test_out_of_order_updates_keep_the_newest_data(pool: asyncpg.Pool) -> None:
    newer = contact("mc-3", nombre_lead="Nombre Nuevo", datetime_actual=at(10))
    older = contact("mc-3", nombre_lead="Nombre Viejo", datetime_actual=at(5), email=None)
    await apply_event(pool, newer)
    await apply_event(pool, older)

    row = await lead(pool, "mc-3")
    assert row["nombre_lead"] == "Nombre Nuevo"
    assert row["datetime_actual"] == at(10)
    # The stale event changed nothing, so nothing more is due for Odoo.
    assert (await sync_row(pool, "contact", "mc-3"))["revision"] == 1


async def test_fields_an_update_leaves_out_keep_their_value(pool: asyncpg.Pool) -> None:
    await apply_event(pool, contact("mc-4"))
    await apply_event(pool, contact("mc-4", email=None, phone=None, datetime_actual=at(1)))

    row = await lead(pool, "mc-4")
    assert (row["email"], row["phone"]) == ("test.data@example.com", "+56912345678")


async def test_a_campaign_assignment_sets_the_current_campaign_and_state(
    pool: asyncpg.Pool,
) -> None:
    await apply_event(pool, contact("mc-5"))
    await apply_event(pool, assignment("mc-5"))

    row = await lead(pool, "mc-5")
    assert (row["campaign_id"], row["comercial_id"], row["ultimo_estado"]) == (
        "CAMP-ABC-123",
        "COM-XYZ-001",
        "Asignado",
    )
    assigned = await pool.fetchrow("SELECT * FROM crm.campaign_assignments")
    assert assigned["tipo_asignacion"] == "Automatica"
    assert await pool.fetchval("SELECT count(*) FROM crm.campaigns") == 1
    assert (await sync_row(pool, "contact", "mc-5"))["revision"] == 2


async def test_an_older_reassignment_does_not_replace_the_current_advisor(
    pool: asyncpg.Pool,
) -> None:
    await apply_event(pool, assignment("mc-6", comercial_id="COM-NEW", datetime_actual=at(90)))
    await apply_event(pool, assignment("mc-6", comercial_id="COM-OLD", datetime_actual=at(30)))

    row = await lead(pool, "mc-6")
    assert row["comercial_id"] == "COM-NEW"
    stored = await pool.fetchval("SELECT comercial_id FROM crm.campaign_assignments")
    assert stored == "COM-NEW"


async def test_an_assignment_before_the_contact_creates_the_lead(pool: asyncpg.Pool) -> None:
    await apply_event(pool, assignment("mc-7"))
    await apply_event(pool, contact("mc-7"))

    row = await lead(pool, "mc-7")
    assert row["nombre_lead"] == "Test Contact Data"
    # The contact's own "Nuevo" is older than the assignment's "Asignado".
    assert row["ultimo_estado"] == "Asignado"


async def test_lead_state_changes_are_kept_as_history_and_set_the_current_state(
    pool: asyncpg.Pool,
) -> None:
    first = state_change("bot-1", "consulta_deuda", changed_at=at(100))
    second = state_change(
        "bot-1", "link_enviado", previous_state="consulta_deuda", changed_at=at(200)
    )
    await apply_event(pool, second)
    await apply_event(pool, first)

    assert (await lead(pool, "bot-1"))["ultimo_estado"] == "link_enviado"
    history = await pool.fetch("SELECT new_state FROM crm.lead_states ORDER BY changed_at")
    assert [r["new_state"] for r in history] == ["consulta_deuda", "link_enviado"]
    for event in (first, second):
        assert (await sync_row(pool, "state", str(event.event_id)))["status"] == "pending"


async def test_claims_take_the_oldest_changes_first(pool: asyncpg.Pool) -> None:
    await apply_event(pool, state_change("fifo-1", "nuevo", changed_at=at(0)))
    given_back = await sync_store.claim(pool, 10, "me", 60)  # the lead and its first state
    # Odoo was down: given back, due again only after the pause ...
    await sync_store.release(pool, given_back, "me", delay_s=0.3, error=OdooUnavailable("503"))
    # ... while later changes arrived, due at once
    await apply_event(pool, state_change("fifo-1", "consulta_deuda", changed_at=at(1)))
    await apply_event(pool, state_change("fifo-1", "sin_deuda", changed_at=at(2)))
    await asyncio.sleep(0.4)
    first = await sync_store.claim(pool, 2, "me", 60)
    assert [r.id for r in first] == sorted(r.id for r in given_back)
    rest = await sync_store.claim(pool, 10, "me", 60)
    states = await sync_store.load_states(pool, [*first, *rest])
    order = [states[r.record_key]["state"] for r in [*first, *rest] if r.kind == "state"]
    assert order == ["nuevo", "consulta_deuda", "sin_deuda"]
