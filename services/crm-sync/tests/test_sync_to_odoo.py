"""Leads, assignments and states reach PostgreSQL and the Odoo fake (both API styles),
exactly once each, newest data winning, through outages and timeouts."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cauce_devstack.sandbox.settings import DEV_ODOO_API_KEY, SandboxSettings
from cauce_devstack.testing import eventually

from .conftest import (
    MINTER,
    TENANT,
    CrmStack,
    assignment,
    at,
    contact,
    running_crm,
    running_sandbox,
    state_change,
)


def created_vals(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The vals list of a recorded ``create`` call, in either API style."""
    payload = entry["payload"]
    if "vals_list" in payload:  # JSON-2
        vals: list[dict[str, Any]] = payload["vals_list"]
    else:  # JSON-RPC execute_kw(db, uid, password, model, "create", [vals_list], kwargs)
        vals = payload["params"]["args"][5][0]
    return vals


def by_key(records: list[dict[str, Any]], key: str = "manychat_id") -> dict[str, dict[str, Any]]:
    return {record[key]: record for record in records}


@pytest.mark.parametrize("api", ["jsonrpc", "json2"])
async def test_a_lead_its_assignment_and_its_state_land_in_odoo_with_mapped_fields(
    nats_url: str, database_url: str, tmp_path: Path, api: str
) -> None:
    async with (
        running_sandbox() as sandbox_url,
        running_crm(nats_url, database_url, sandbox_url, tmp_path, odoo_api=api) as crm,
    ):
        await crm.publish(contact("mc-1"))
        await crm.settled()
        await crm.publish(
            assignment("mc-1"), state_change("mc-1", "consulta_deuda", changed_at=at(300))
        )
        await crm.settled()

        contacts = await crm.odoo_records("manychat.contact")
        assert len(contacts) == 1
        lead = contacts[0]
        assert lead["manychat_id"] == "mc-1"
        assert lead["nombre_lead"] == "Test Contact Data"
        assert lead["email"] == "test.data@example.com"
        assert lead["datetime_actual"] == "2025-06-05 12:41:36"
        assert (lead["campaign_id"], lead["comercial_id"], lead["tipo_asignacion"]) == (
            "CAMP-ABC-123",
            "COM-XYZ-001",
            "Automatica",
        )
        assert lead["ultimo_estado"] == "consulta_deuda"
        states = await crm.odoo_records("manychat.state")
        assert [(s["manychat_id"], s["state"], s["source"]) for s in states] == [
            ("mc-1", "consulta_deuda", "conversation")
        ]
        # Updates were writes to the same record, not new records.
        calls = [entry["type"] for entry in await crm.odoo_requests()]
        assert calls.count("manychat.contact.create") == 1
        assert "manychat.contact.write" in calls


async def test_the_same_event_three_times_is_one_row_and_one_odoo_record(crm: CrmStack) -> None:
    event = contact("mc-dup")
    await crm.publish(event, event, event)
    await crm.settled()
    await asyncio.sleep(0.3)  # let any straggler redelivery through before counting
    await crm.settled()

    assert len(await crm.odoo_records()) == 1
    report = await crm.sync_report()
    assert report["synced"] == 1


async def test_out_of_order_updates_leave_the_newest_data_in_odoo(crm: CrmStack) -> None:
    await crm.publish(
        contact("mc-ooo", nombre_lead="Tercero", datetime_actual=at(30)),
        contact("mc-ooo", nombre_lead="Primero", datetime_actual=at(10)),
        contact("mc-ooo", nombre_lead="Segundo", datetime_actual=at(20)),
    )
    await crm.settled()

    [lead] = await crm.odoo_records()
    assert lead["nombre_lead"] == "Tercero"
    assert lead["datetime_actual"] == "2025-06-05 12:42:06"


async def test_odoo_down_for_a_while_catches_up_without_duplicates_or_dead_letters(
    crm: CrmStack,
) -> None:
    outage = await crm.http.post(
        f"{crm.sandbox_url}/sandbox/odoo/outage", json={"seconds": 2.0, "status": 503}
    )
    outage.raise_for_status()
    await crm.publish(*(contact(f"mc-down-{i}") for i in range(20)))

    report = await crm.settled(timeout=30)

    assert report["failed"] == 0
    records = await crm.odoo_records()
    assert sorted(r["manychat_id"] for r in records) == sorted(f"mc-down-{i}" for i in range(20))
    refused = [e for e in await crm.odoo_requests(include_refused=True) if e["status"] == 503]
    assert refused, "the outage was never hit: the test proves nothing"


async def test_a_create_that_timed_out_but_happened_is_not_created_twice(
    nats_url: str, database_url: str, tmp_path: Path
) -> None:
    async with (
        running_sandbox() as sandbox_url,
        running_crm(nats_url, database_url, sandbox_url, tmp_path, odoo_timeout_s=0.5) as crm,
    ):
        # Odoo answers the first create only after our client gave up on it; it still
        # creates the records, as a slow real server would.
        fault = await crm.http.post(
            f"{sandbox_url}/sandbox/faults",
            json={"target": "odoo", "kind": "latency", "latency_ms": 1500, "count": 1},
        )
        fault.raise_for_status()
        await crm.publish(*(contact(f"mc-slow-{i}") for i in range(5)))
        await crm.settled(timeout=30)
        await asyncio.sleep(1.5)  # the slow create has certainly landed by now

        records = await crm.odoo_records()
        assert sorted(r["manychat_id"] for r in records) == [f"mc-slow-{i}" for i in range(5)]


async def test_invalid_data_is_dead_lettered_with_odoos_message_and_replays_after_the_fix(
    nats_url: str, database_url: str, tmp_path: Path
) -> None:
    async with running_sandbox() as sandbox_url:
        async with running_crm(
            nats_url,
            database_url,
            sandbox_url,
            tmp_path,
            odoo_contact_fields={"email": "x_correo"},  # no such field in Odoo
        ) as crm:
            await crm.publish(contact("mc-bad"))
            report = await crm.settled()
            assert report["failed"] == 1
            listing = (await crm.api("GET", "/dead-letters")).json()
            [letter] = listing["items"]
            assert letter["error_name"] == "ValueError"
            assert "x_correo" in letter["error"]
            detail = (await crm.api("GET", f"/dead-letters/{letter['id']}")).json()
            assert detail["odoo_model"] == "manychat.contact"
            assert detail["vals"]["x_correo"] == "test.data@example.com"
            assert await crm.odoo_records() == []

            async def dead_letters_gauge() -> bool:
                scraped = (await crm.http.get(f"{crm.crm_url}/metrics")).text
                return (
                    re.search(r"^cauce_crm_sync_dead_letters\{[^}]*\} 1\.0$", scraped, re.M)
                    is not None
                )

            await eventually(dead_letters_gauge, timeout=10)
            scraped = (await crm.http.get(f"{crm.crm_url}/metrics")).text
            assert re.search(
                r'^cauce_provider_errors_total\{code="ValueError",[^}]*provider="odoo"',
                scraped,
                re.M,
            )

        # The mapping is fixed (a new release); the operator replays the dead letter.
        async with running_crm(nats_url, database_url, sandbox_url, tmp_path) as fixed:
            replayed = await fixed.api("POST", f"/dead-letters/{letter['id']}/replay")
            assert replayed.json() == {"replayed": 1}
            report = await fixed.settled()
            assert report["failed"] == 0
            [lead] = await fixed.odoo_records()
            assert lead["email"] == "test.data@example.com"


async def test_one_bad_lead_does_not_hold_back_the_rest_of_its_batch(
    nats_url: str, database_url: str, tmp_path: Path
) -> None:
    # This Odoo requires a lead's name.
    models = {
        model: {name: spec.model_dump() for name, spec in fields.items()}
        for model, fields in SandboxSettings().odoo_models.items()
    }
    models["manychat.contact"]["nombre_lead"]["required"] = True
    async with (
        running_sandbox(odoo_models=models) as sandbox_url,
        running_crm(nats_url, database_url, sandbox_url, tmp_path) as crm,
    ):
        # Odoo is away for a second, so all ten leads wait and go in one batch create.
        outage = await crm.http.post(
            f"{sandbox_url}/sandbox/odoo/outage", json={"seconds": 1.0, "status": 503}
        )
        outage.raise_for_status()
        # A lead met first through the bot has no name: Odoo's required field refuses it.
        await crm.publish(*(contact(f"mc-ok-{i}") for i in range(9)))
        await crm.publish(state_change("bot-nameless", "nuevo"))
        report = await crm.settled()

        refused = [
            e
            for e in await crm.odoo_requests(include_refused=True)
            if e["type"] == "manychat.contact.create" and e["status"] == 200 and e["error"]
        ]
        assert any(len(created_vals(e)) == 10 for e in refused), "no batch was split"

        assert report["failed"] == 1
        names = sorted(r["manychat_id"] for r in await crm.odoo_records())
        assert names == sorted(f"mc-ok-{i}" for i in range(9))
        letters = (await crm.api("GET", "/dead-letters", params={"kind": "contact"})).json()
        [letter] = letters["items"]
        assert (letter["record_key"], letter["error_name"]) == ("bot-nameless", "ValidationError")


async def test_reconciliation_repairs_an_edit_and_a_deletion_made_behind_our_back(
    crm: CrmStack,
) -> None:
    await crm.publish(contact("mc-drift"), contact("mc-gone"))
    await crm.settled()
    leads = by_key(await crm.odoo_records())
    tampered = await crm.http.patch(
        f"{crm.sandbox_url}/sandbox/odoo/records/manychat.contact/{leads['mc-drift']['id']}",
        json={"nombre_lead": "Cambiado a mano"},
    )
    tampered.raise_for_status()
    deleted = await crm.http.post(  # someone deletes it through Odoo's API
        f"{crm.sandbox_url}/odoo/json/2/manychat.contact/unlink",
        headers={"Authorization": f"bearer {DEV_ODOO_API_KEY}"},
        json={"ids": [leads["mc-gone"]["id"]]},
    )
    deleted.raise_for_status()

    started = await crm.api("POST", "/reconciliations")
    assert started.status_code == 202
    runs = await eventually(
        lambda: _finished_runs(crm),
    )
    assert (runs[0]["repaired"], runs[0]["recreated"]) == (1, 1)
    await crm.settled()

    after = by_key(await crm.odoo_records())
    assert after["mc-drift"]["nombre_lead"] == "Test Contact Data"
    assert after["mc-gone"]["nombre_lead"] == "Test Contact Data"
    assert len(after) == 2


async def _finished_runs(crm: CrmStack) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = (await crm.api("GET", "/reconciliations")).json()
    return [run for run in runs if run["finished_at"]]


async def test_a_custom_x_model_with_renamed_fields(
    nats_url: str, database_url: str, tmp_path: Path
) -> None:
    models = {
        "x_lead": {
            "x_manychat_id": {"type": "char", "required": True},
            "x_name": {"type": "char"},
            "x_estado": {"type": "char"},
            "x_fecha": {"type": "datetime"},
        },
        "x_lead_state": {
            "x_manychat_id": {"type": "char", "required": True},
            "x_event": {"type": "char"},
            "x_state": {"type": "char"},
        },
    }
    renames = {
        "manychat_id": "x_manychat_id",
        "nombre_lead": "x_name",
        "ultimo_estado": "x_estado",
        "datetime_actual": "x_fecha",
        **{
            name: ""
            for name in (
                "first_name",
                "last_name",
                "phone",
                "email",
                "contact_id",
                "campaign_id",
                "comercial_id",
                "tipo_asignacion",
                "assigned_at",
                "state_changed_at",
            )
        },
    }
    state_renames = {
        "manychat_id": "x_manychat_id",
        "event_id": "x_event",
        "state": "x_state",
        "previous_state": "",
        "changed_at": "",
        "source": "",
    }
    async with (
        running_sandbox(odoo_models=models) as sandbox_url,
        running_crm(
            nats_url,
            database_url,
            sandbox_url,
            tmp_path,
            odoo_contact_model="x_lead",
            odoo_state_model="x_lead_state",
            odoo_contact_fields=renames,
            odoo_state_fields=state_renames,
        ) as crm,
    ):
        await crm.publish(contact("mc-x"), state_change("mc-x", "pagado", changed_at=at(500)))
        report = await crm.settled()

        assert report["failed"] == 0
        [lead] = await crm.odoo_records("x_lead")
        assert (lead["x_manychat_id"], lead["x_name"], lead["x_estado"]) == (
            "mc-x",
            "Test Contact Data",
            "pagado",
        )
        [state] = await crm.odoo_records("x_lead_state")
        assert state["x_state"] == "pagado"


async def test_tenants_are_kept_apart_in_postgresql(crm: CrmStack) -> None:
    await crm.publish(contact("mc-t", tenant_id=TENANT), contact("mc-t", tenant_id="other"))
    await crm.settled()
    own = await crm.api("GET", "/reports/contacts", token=MINTER.token(TENANT))
    assert [item["tenant_id"] for item in own.json()["items"]] == [TENANT]
    other = await crm.api("GET", "/reports/contacts", params={"tenant": "other"})  # platform
    assert [item["tenant_id"] for item in other.json()["items"]] == ["other"]


async def test_reconciliation_also_runs_on_its_schedule(
    nats_url: str, database_url: str, tmp_path: Path
) -> None:
    async with (
        running_sandbox() as sandbox_url,
        running_crm(nats_url, database_url, sandbox_url, tmp_path, reconcile_interval_s=0.3) as crm,
    ):
        await crm.publish(contact("mc-scheduled"))
        await crm.settled()

        async def scheduled_runs() -> list[dict[str, Any]]:
            runs = await _finished_runs(crm)
            return [run for run in runs if run["trigger"] == "schedule" and run["checked"] >= 1]

        [latest, *_] = await eventually(scheduled_runs, timeout=20)
        assert latest["error"] is None and latest["repaired"] == 0


async def test_new_changes_wait_out_an_outage_pause_and_keep_their_order(
    crm: CrmStack,
) -> None:
    fault = {"target": "odoo", "kind": "429", "retry_after": 2, "count": 1}
    (await crm.http.post(f"{crm.sandbox_url}/sandbox/faults", json=fault)).raise_for_status()
    await crm.publish(state_change("mc-pause", "nuevo", changed_at=at(0)))

    async def refused() -> list[dict[str, Any]]:
        entries = await crm.odoo_requests(include_refused=True)
        return [e for e in entries if e["status"] == 429]

    [refusal] = await eventually(refused, timeout=15, what="Odoo's 429")
    # Changes arriving during the pause wake the worker; it must still leave Odoo alone
    # until the pause (Retry-After: 2) is over, then send the states in their order.
    await crm.publish(
        state_change("mc-pause", "consulta_deuda", changed_at=at(1)),
        state_change("mc-pause", "sin_deuda", changed_at=at(2)),
    )
    await crm.settled(timeout=30)

    states = await crm.odoo_records("manychat.state")
    assert [s["state"] for s in states] == ["nuevo", "consulta_deuda", "sin_deuda"]
    refused_at = datetime.fromisoformat(refusal["received_at"])
    later = [
        datetime.fromisoformat(e["received_at"]) - refused_at
        for e in await crm.odoo_requests(include_refused=True)
        if datetime.fromisoformat(e["received_at"]) > refused_at
    ]
    assert later and min(later) >= timedelta(seconds=1.9)
