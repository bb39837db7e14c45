"""Odoo -> cauce: what sales people change in Odoo flows back instead of being
overwritten, by who owns each field. Odoo-owned fields (the sales stage, notes) are
taken into PostgreSQL and never written back; the shared ``ultimo_estado`` keeps the
newer side (an edit in Odoo becomes a ``crm.lead.state_changed`` from ``odoo``, a later
ManyChat event still wins, an older one does not); cauce-owned fields edited in Odoo are
repaired; cauce's own writes seen again change nothing. Both paths: the reconciliation,
and Odoo's automation webhook through the gateway. Real PostgreSQL, NATS, the gateway
and the Odoo fake over HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from cauce_crm_sync.bootstrap import mapping_of, ownership_of
from cauce_crm_sync.sync.odoo_changes import Applied, OdooChange, OdooChanges
from cauce_devstack.testing import eventually, serving
from cauce_gateway.app import create_app as create_gateway
from cauce_gateway.settings import OdooWebhookTenant

from .conftest import TENANT, CrmStack, contact, gateway_settings, running_crm, running_sandbox

ODOO_FIELDS = ["x_etapa", "x_notas"]


@pytest.fixture
async def crm(nats_url: str, database_url: str, tmp_path: Path) -> AsyncIterator[CrmStack]:
    async with (
        running_sandbox() as sandbox_url,
        running_crm(
            nats_url, database_url, sandbox_url, tmp_path, odoo_contact_odoo_fields=ODOO_FIELDS
        ) as stack,
    ):
        yield stack


async def edit_in_odoo(crm: CrmStack, odoo_id: int, **vals: Any) -> None:
    """A person edits the lead in Odoo's UI (``write_date`` becomes now)."""
    url = f"{crm.sandbox_url}/sandbox/odoo/records/manychat.contact/{odoo_id}"
    (await crm.http.patch(url, json=vals)).raise_for_status()


async def reconcile(crm: CrmStack) -> dict[str, Any]:
    before = len((await crm.api("GET", "/reconciliations")).json())
    assert (await crm.api("POST", "/reconciliations")).status_code == 202

    async def finished() -> dict[str, Any] | None:
        runs = (await crm.api("GET", "/reconciliations")).json()
        done = [run for run in runs if run["finished_at"]]
        return done[0] if len(done) > before else None

    run: dict[str, Any] = await eventually(finished, 20, "the reconciliation")
    return run


async def lead(crm: CrmStack, manychat_id: str) -> dict[str, Any]:
    page = (await crm.api("GET", "/reports/contacts", params={"limit": 100})).json()
    (found,) = [row for row in page["items"] if row["manychat_id"] == manychat_id]
    return dict(found)


async def odoo_lead(crm: CrmStack, manychat_id: str) -> dict[str, Any]:
    (found,) = [r for r in await crm.odoo_records() if r["manychat_id"] == manychat_id]
    return found


async def writes_to_odoo(crm: CrmStack) -> int:
    """Calls that change Odoo's records (``<model>.<method>`` in the fake's outbox)."""
    changing = ("write", "load", "create")
    return sum(
        1 for entry in await crm.odoo_requests() if entry["type"].rsplit(".")[-1] in changing
    )


async def test_sales_edits_in_odoo_are_kept_and_cauce_owned_ones_repaired(crm: CrmStack) -> None:
    await crm.publish(contact("mc-sale"))
    await crm.settled()
    odoo_id = (await odoo_lead(crm, "mc-sale"))["id"]
    await edit_in_odoo(
        crm,
        odoo_id,
        x_etapa="negociacion",
        x_notas="Llamar el lunes",
        ultimo_estado="Cerrado",
        nombre_lead="Escrito a mano",
    )

    run = await reconcile(crm)
    assert (run["repaired"], run["pulled"]) == (1, 3)  # the name; stage, notes, state
    await eventually(lambda: _state_is(crm, "mc-sale", "Cerrado"), 10, "Odoo's state applied")
    await crm.settled()

    row = await lead(crm, "mc-sale")
    assert row["odoo_values"] == {"x_etapa": "negociacion", "x_notas": "Llamar el lunes"}
    assert row["ultimo_estado"] == "Cerrado"
    in_odoo = await odoo_lead(crm, "mc-sale")
    assert in_odoo["nombre_lead"] == "Test Contact Data"  # repaired
    assert (in_odoo["ultimo_estado"], in_odoo["x_etapa"]) == ("Cerrado", "negociacion")
    history = await _states(crm, "mc-sale")
    assert ("Nuevo", "Cerrado", "odoo") in history

    # cauce's own writes, seen by the next run, change nothing and cost nothing
    writes = await writes_to_odoo(crm)
    again = await reconcile(crm)
    assert (again["repaired"], again["pulled"]) == (0, 0)
    await crm.settled()
    assert await writes_to_odoo(crm) == writes

    # a later ManyChat event updates what cauce owns and leaves what Odoo owns alone
    await crm.publish(contact("mc-sale", nombre_lead="Nombre nuevo", datetime_actual=_now(60)))
    await crm.settled()
    in_odoo = await odoo_lead(crm, "mc-sale")
    assert (in_odoo["nombre_lead"], in_odoo["x_etapa"]) == ("Nombre nuevo", "negociacion")
    assert (await lead(crm, "mc-sale"))["odoo_values"]["x_etapa"] == "negociacion"


async def test_the_newer_side_of_a_shared_field_wins(crm: CrmStack, changes: OdooChanges) -> None:
    await crm.publish(contact("mc-race"))
    await crm.settled()
    odoo_id = (await odoo_lead(crm, "mc-race"))["id"]
    await edit_in_odoo(crm, odoo_id, ultimo_estado="Cerrado")
    await reconcile(crm)
    await eventually(lambda: _state_is(crm, "mc-race", "Cerrado"), 10, "Odoo's state applied")

    # a ManyChat event from before the edit, delivered late: Odoo's newer state stays
    stale = contact("mc-race", ultimo_estado="Interesado", datetime_actual=_now(-3600))
    await crm.publish(stale)
    await crm.settled()
    assert (await lead(crm, "mc-race"))["ultimo_estado"] == "Cerrado"
    assert (await odoo_lead(crm, "mc-race"))["ultimo_estado"] == "Cerrado"

    # a newer one wins, in cauce and in Odoo
    await crm.publish(contact("mc-race", ultimo_estado="Reabierto", datetime_actual=_now(60)))
    await crm.settled()
    assert (await lead(crm, "mc-race"))["ultimo_estado"] == "Reabierto"
    assert (await odoo_lead(crm, "mc-race"))["ultimo_estado"] == "Reabierto"

    # Odoo edited at a time older than cauce's state: cauce's is written back
    await edit_in_odoo(crm, odoo_id, ultimo_estado="Perdido", write_date=_odoo_time(_now(-7200)))
    old_edit = OdooChange(
        odoo_id, {"ultimo_estado": "Perdido"}, _now(-7200), TENANT, path="reconciliation"
    )
    applied = await changes.apply(old_edit)
    assert applied.repaired == {"ultimo_estado": "cauce_newer"} and not applied.pulled
    await crm.settled()
    assert (await odoo_lead(crm, "mc-race"))["ultimo_estado"] == "Reabierto"


async def test_an_odoo_change_applied_twice_or_late_changes_nothing_more(
    crm: CrmStack, changes: OdooChanges
) -> None:
    await crm.publish(contact("mc-twice"))
    await crm.settled()
    odoo_id = (await odoo_lead(crm, "mc-twice"))["id"]
    newer = OdooChange(odoo_id, {"x_notas": "segunda llamada"}, _now(), TENANT)
    assert (await changes.apply(newer)).pulled == ["x_notas"]
    assert (await changes.apply(newer)).pulled == []  # a redelivery
    older = OdooChange(odoo_id, {"x_notas": "primera llamada"}, _now(-600), TENANT)
    assert (await changes.apply(older)).pulled == []  # an older edit, delivered late
    late = OdooChange(odoo_id, {"ultimo_estado": "Perdido"}, _now(-600), TENANT)
    assert (await changes.apply(late)) == Applied()  # a snapshot cauce has overwritten since
    assert (await lead(crm, "mc-twice"))["odoo_values"] == {"x_notas": "segunda llamada"}
    unknown = OdooChange(999_999, {"x_notas": "no es nuestro"}, _now(), TENANT)
    assert (await changes.apply(unknown)).known is False
    other_company = OdooChange(odoo_id, {"x_notas": "de otra"}, _now(60), "globex")
    assert (await changes.apply(other_company)).known is False


async def test_the_echo_of_cauces_older_write_does_not_undo_a_newer_state(
    crm: CrmStack, changes: OdooChanges
) -> None:
    """make chaos's finding: cauce wrote "Interesado" to Odoo, then ManyChat said
    "Asignado" (an event stamped a minute ago); Odoo's webhook for cauce's own write
    arrives now, with Odoo's wall-clock write_date. It is an echo, not an edit."""
    await crm.publish(contact("mc-echo", ultimo_estado="Interesado"))
    await crm.settled()
    odoo_id = (await odoo_lead(crm, "mc-echo"))["id"]
    connection = await asyncpg.connect(crm.database_url)
    try:  # ManyChat's newer state, applied in cauce and not written to Odoo yet
        await connection.execute(
            """
            UPDATE crm.contacts SET ultimo_estado = 'Asignado', state_changed_at = $1
            WHERE manychat_id = 'mc-echo'
            """,
            _now(-60),
        )
    finally:
        await connection.close()

    echo = OdooChange(odoo_id, {"ultimo_estado": "Interesado"}, _now(), TENANT)
    applied = await changes.apply(echo)

    assert applied.repaired == {"ultimo_estado": "cauce_newer"} and not applied.odoo_won
    assert (await lead(crm, "mc-echo"))["ultimo_estado"] == "Asignado"
    await crm.settled()
    assert (await odoo_lead(crm, "mc-echo"))["ultimo_estado"] == "Asignado"


@pytest.fixture
async def changes(crm: CrmStack) -> AsyncIterator[OdooChanges]:
    """The apply function over the test's own pool (the service's is in its process);
    the state changes it would publish go to the test's publisher."""
    pool = await asyncpg.create_pool(crm.database_url, min_size=1, max_size=2)

    async def publish(event: Any) -> None:
        await crm.publish(event)

    try:
        yield OdooChanges(pool, mapping_of(crm.settings), ownership_of(crm.settings), publish)
    finally:
        await pool.close()


async def _state_is(crm: CrmStack, manychat_id: str, state: str) -> bool:
    return (await lead(crm, manychat_id))["ultimo_estado"] == state


async def _states(crm: CrmStack, manychat_id: str) -> list[tuple[str | None, str, str]]:
    connection = await asyncpg.connect(crm.database_url)
    try:
        rows = await connection.fetch(
            """
            SELECT previous_state, new_state, source FROM crm.lead_states
            WHERE manychat_id = $1 ORDER BY changed_at
            """,
            manychat_id,
        )
    finally:
        await connection.close()
    return [(row["previous_state"], row["new_state"], row["source"]) for row in rows]


def _now(seconds: float = 0) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)


def _odoo_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


ODOO_TOKEN = "odoo-webhook-token-for-crm-tests-0123456789"


async def test_odoo_edits_arrive_by_webhook_and_cauces_own_writes_settle(
    nats_url: str, database_url: str, tmp_path: Path
) -> None:
    gateway = gateway_settings(
        nats_url,
        tmp_path,
        odoo_webhook_tenants=[OdooWebhookTenant(tenant_id=TENANT, url_token=ODOO_TOKEN)],
    )
    gateway_url = f"http://127.0.0.1:{gateway.port}"
    hook = f"{gateway_url}/webhooks/odoo/{ODOO_TOKEN}"
    async with (
        running_sandbox(odoo_webhook_url=hook) as sandbox_url,
        serving(create_gateway(gateway), gateway.port),
        running_crm(
            nats_url, database_url, sandbox_url, tmp_path, odoo_contact_odoo_fields=ODOO_FIELDS
        ) as crm,
    ):
        await crm.publish(contact("mc-hook"))
        await crm.settled()  # cauce's create came back through the webhook: nothing to do
        odoo_id = (await odoo_lead(crm, "mc-hook"))["id"]
        writes = await writes_to_odoo(crm)

        await edit_in_odoo(crm, odoo_id, x_etapa="ganado", ultimo_estado="Cerrado")
        await eventually(lambda: _state_is(crm, "mc-hook", "Cerrado"), 10, "the webhook applied")
        row = await lead(crm, "mc-hook")
        assert row["odoo_values"]["x_etapa"] == "ganado"
        await crm.settled()
        # one call back (the lead's new state_changed_at); its echo changes nothing. When
        # cauce's create, its echo and the edit share one second of Odoo's write_date,
        # the create's echo may cost one more write of cauce's values (never more).
        assert writes + 1 <= await writes_to_odoo(crm) <= writes + 2
        settled = await writes_to_odoo(crm)
        await crm.settled()
        assert await writes_to_odoo(crm) == settled

        scraped = (await crm.http.get(f"{crm.crm_url}/metrics")).text
        assert re.search(r'^cauce_crm_odoo_changes_total\{[^}]*path="webhook"', scraped, re.M)
        assert re.search(r'^cauce_crm_odoo_pulled_total\{[^}]*path="webhook"', scraped, re.M)
        assert re.search(r'^cauce_crm_odoo_conflicts_total\{[^}]*rule="odoo_newer"', scraped, re.M)
        # present from the start (at 0 in a process of its own; tests sharing a process
        # may have counted refusals already): the alert's increase() sees the first one
        preset = r'^cauce_provider_credentials_failing_total\{[^}]*provider="odoo"[^}]*\} \d'
        assert re.search(preset, scraped, re.M)

        # a forged or token-less webhook publishes nothing
        body = {"_model": "manychat.contact", "_id": odoo_id, "x_etapa": "perdido"}
        forged = await crm.http.post(f"{gateway_url}/webhooks/odoo/{'x' * 40}", json=body)
        tokenless = await crm.http.post(f"{gateway_url}/webhooks/odoo", json=body)
        assert forged.status_code == 401 and tokenless.status_code in (404, 405)
        assert (await lead(crm, "mc-hook"))["odoo_values"]["x_etapa"] == "ganado"
