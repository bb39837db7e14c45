"""The reports API, the dead-letter API's guard and the operator CLI, on real PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import asyncpg
import pytest

from cauce_contracts.identity import Permission
from cauce_crm_sync.cli import main, operate, parse_args
from cauce_crm_sync.settings import CrmSyncSettings
from cauce_crm_sync.store import sync_state as sync_store
from cauce_crm_sync.store.leads import apply_event
from cauce_crm_sync.store.migrations import MIGRATIONS

from .conftest import (
    LEAD_EXPORT_TOKEN,
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


#: A sales analyst of the test tenant.
def reports_token() -> str:
    return MINTER.token(TENANT, Permission.REPORTS_READ)


async def test_each_api_asks_for_its_permission(crm: CrmStack) -> None:
    refused = await crm.api("GET", "/reports/contacts", token="wrong")
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    analyst = reports_token()
    assert (await crm.api("GET", "/reports/contacts", token=analyst)).status_code == 200
    assert (await crm.api("GET", "/dead-letters", token=analyst)).status_code == 403
    # the sync and reconciliation span every company: platform admins only
    assert (await crm.api("GET", "/reports/sync", token=MINTER.token(TENANT))).status_code == 403
    assert (await crm.api("GET", "/reconciliations", token=MINTER.token(TENANT))).status_code == 403
    assert (await crm.api("GET", "/reports/sync")).status_code == 200  # a platform admin


async def test_a_company_sees_only_its_leads_and_dead_letters(
    nats_url: str, database_url: str, tmp_path: Path
) -> None:
    # every lead is dead-lettered by the service itself: Odoo has no such field
    async with (
        running_sandbox() as sandbox_url,
        running_crm(
            nats_url, database_url, sandbox_url, tmp_path, odoo_contact_fields={"email": "x_correo"}
        ) as crm,
    ):
        await crm.publish(*(contact(f"mc-{t}", tenant_id=t) for t in (TENANT, "globex")))
        assert (await crm.settled())["failed"] == 2
        every = (await crm.api("GET", "/dead-letters", params={"company_id": "globex"})).json()
        [globex_id] = [letter["id"] for letter in every["items"]]
        acme = MINTER.token(TENANT)  # every permission, of acme only

        leads = (await crm.api("GET", "/reports/contacts", token=acme)).json()["items"]
        assert [lead["tenant_id"] for lead in leads] == [TENANT]
        named = await crm.api("GET", "/reports/contacts", token=acme, params={"tenant": "globex"})
        assert named.status_code == 403
        letters = (await crm.api("GET", "/dead-letters", token=acme)).json()["items"]
        assert [letter["tenant_id"] for letter in letters] == [TENANT]
        assert (await crm.api("GET", f"/dead-letters/{globex_id}", token=acme)).status_code == 404
        replay = await crm.api("POST", f"/dead-letters/{globex_id}/replay", token=acme)
        assert replay.status_code == 404
        replayed = await crm.api("POST", "/dead-letters/replay", token=acme)
        assert replayed.json() == {"replayed": 1}  # acme's only
        still = await crm.api("GET", "/dead-letters", params={"company_id": "globex"})  # platform
        assert [letter["id"] for letter in still.json()["items"]] == [globex_id]


async def test_the_lead_export_is_for_the_notifier_only(crm: CrmStack) -> None:
    await crm.publish(contact("mc-export"), contact("mc-other", tenant_id="globex"))
    await crm.settled()
    path = "/internal/lead-exports/contacts"
    assert (await crm.api("GET", path, params={"tenant": TENANT})).status_code == 401
    no_tenant = await crm.api("GET", path, token=LEAD_EXPORT_TOKEN)
    assert no_tenant.status_code == 422
    exported = await crm.api("GET", path, token=LEAD_EXPORT_TOKEN, params={"tenant": TENANT})
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["manychat_id"] for row in rows] == ["mc-export"]


async def test_contacts_report_filters_pages_and_exports_csv(crm: CrmStack) -> None:
    await crm.publish(
        contact("mc-a", datetime_actual=at(0)),
        contact("mc-b", datetime_actual=at(3600)),
        contact("mc-c", datetime_actual=at(7200)),
        assignment("mc-a", campaign_id="CAMP-1", datetime_actual=at(10)),
        assignment("mc-b", campaign_id="CAMP-1", datetime_actual=at(3610)),
        assignment("mc-c", campaign_id="CAMP-2", datetime_actual=at(7210), comercial_id="luis"),
        state_change("mc-b", "pagado", changed_at=at(3700)),
    )
    await crm.settled()

    async def report(**params: str) -> dict[str, object]:
        response = await crm.api("GET", "/reports/contacts", token=reports_token(), params=params)
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    campaign = await report(campaign="CAMP-1")
    assert [item["manychat_id"] for item in campaign["items"]] == ["mc-a", "mc-b"]  # type: ignore[index]
    paid = await report(state="pagado")
    assert [item["manychat_id"] for item in paid["items"]] == ["mc-b"]  # type: ignore[index]
    recent = await report(since=at(3000).isoformat(), until=at(7000).isoformat())
    assert [item["manychat_id"] for item in recent["items"]] == ["mc-b"]  # type: ignore[index]
    luis = await report(advisor="luis")
    assert [item["manychat_id"] for item in luis["items"]] == ["mc-c"]  # type: ignore[index]

    first = await report(limit="2")
    assert len(first["items"]) == 2  # type: ignore[arg-type]
    rest = await report(limit="2", cursor=str(first["next_cursor"]))
    assert [item["manychat_id"] for item in rest["items"]] == ["mc-c"]  # type: ignore[index]
    assert rest["next_cursor"] is None
    bad = await crm.api("GET", "/reports/contacts", token=reports_token(), params={"cursor": "@@"})
    assert bad.status_code == 400

    exported = await crm.api(
        "GET",
        "/reports/contacts",
        token=reports_token(),
        params={"format": "csv", "campaign": "CAMP-1"},
    )
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(row["manychat_id"], row["campaign_id"], row["sync_status"]) for row in rows] == [
        ("mc-a", "CAMP-1", "synced"),
        ("mc-b", "CAMP-1", "synced"),
    ]


async def test_campaign_report_counts_by_state_and_advisor(crm: CrmStack) -> None:
    await crm.publish(
        assignment("l1", campaign_id="C9", comercial_id="ana"),
        assignment("l2", campaign_id="C9", comercial_id="ana"),
        assignment("l3", campaign_id="C9", comercial_id="luis"),
        state_change("l2", "pagado", changed_at=at(900)),
    )
    await crm.settled()

    found = await crm.api("GET", "/reports/campaigns/C9", token=reports_token())
    body = found.json()
    assert body["leads"] == 3
    assert body["by_state"] == {"Asignado": 2, "pagado": 1}
    assert body["by_advisor"] == {"ana": 2, "luis": 1}
    assert body["by_advisor_and_state"]["ana"] == {"Asignado": 1, "pagado": 1}
    missing = await crm.api("GET", "/reports/campaigns/none", token=reports_token())
    assert missing.status_code == 404


async def test_sync_report_shows_pending_lag_and_failures(pool: asyncpg.Pool) -> None:
    await apply_event(pool, contact("lag-1"))
    await apply_event(pool, contact("lag-2"))
    [first] = await sync_store.claim(pool, 1, "me", 60)
    await sync_store.mark_dead(pool, [first], error_name="ValidationError", error="bad")

    counts = await sync_store.counts(pool)
    assert (counts.pending, counts.in_flight, counts.failed) == (1, 0, 1)
    assert counts.oldest_pending_since is not None


def cli_settings(database_url: str) -> CrmSyncSettings:
    return CrmSyncSettings(_env_file=None, environment="test", postgres_url=database_url)


async def test_cli_lists_shows_and_replays_dead_letters(
    pool: asyncpg.Pool, database_url: str
) -> None:
    await apply_event(pool, contact("cli-1"))
    [record] = await sync_store.claim(pool, 10, "me", 60)
    await sync_store.mark_dead(pool, [record], error_name="ValidationError", error="nope")
    settings = cli_settings(database_url)

    async def run(*argv: str) -> object:
        out = io.StringIO()
        assert await operate(parse_args(argv), settings, out) == 0
        return json.loads(out.getvalue())

    listed = await run("dead-letters", "list", "--error", "ValidationError")
    assert [item["record_key"] for item in listed] == ["cli-1"]  # type: ignore[union-attr]
    shown = await run("dead-letters", "show", str(record.id))
    assert shown["vals"]["manychat_id"] == "cli-1"  # type: ignore[index]
    assert await run("dead-letters", "replay", "--all") == {"replayed": 1}
    assert (await sync_store.counts(pool)).failed == 0
    assert await run("migrations") == {"schema": "crm", "version": MIGRATIONS[-1][0]}


def test_cli_refuses_a_replay_without_a_selection(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["dead-letters", "replay"])
    assert "needs ids or --all" in capsys.readouterr().err


async def test_cli_reports_a_missing_dead_letter(pool: asyncpg.Pool, database_url: str) -> None:
    out = io.StringIO()
    code = await operate(
        parse_args(["dead-letters", "show", "999"]), cli_settings(database_url), out
    )
    assert code == 1
    assert "no dead letter 999" in out.getvalue()
