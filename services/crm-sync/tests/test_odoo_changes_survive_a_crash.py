"""kill -9 of crm-sync while it applies Odoo's changes: after a restart on the same
PostgreSQL and NATS every change is applied, once. crm-sync runs as a real child process
(``python -m cauce_crm_sync``) so the kill is a real SIGKILL: no ack, no cleanup; the
events it had received but not acknowledged come back after its ack wait."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from cauce_contracts.crm import OdooRecordChanged
from cauce_devstack.servers import free_port
from cauce_devstack.testing import ServiceProcess, eventually
from cauce_runtime import Bus, ServiceSettings

from .conftest import MINTER, TENANT, CrmStack, contact, crm_settings, running_sandbox

pytestmark = pytest.mark.slow

LEADS = 600
#: Seconds before the events the dead process held are delivered again.
ACK_WAIT_S = 3


def crm_env(nats_url: str, database_url: str, sandbox_url: str, port: int) -> dict[str, str]:
    return {
        "CAUCE_ENVIRONMENT": "test",
        "CAUCE_PORT": str(port),
        "CAUCE_NATS_URL": nats_url,
        "CAUCE_POSTGRES_URL": database_url,
        "CAUCE_ODOO_URL": f"{sandbox_url}/odoo",
        "CAUCE_ODOO_RATE_LIMIT_PER_S": "5",
        "CAUCE_SYNC_IDLE_POLL_S": "0.05",
        "CAUCE_RECONCILE_INTERVAL_S": "0",
        "CAUCE_ODOO_CONTACT_ODOO_FIELDS": json.dumps(["x_notas"]),
        "CAUCE_CRM_EVENTS_ACK_WAIT_S": str(ACK_WAIT_S),
        "CAUCE_IDENTITY_PUBLIC_KEYS": json.dumps(MINTER.jwks),
        "CAUCE_SPAN_FILE": "spans.jsonl",
        "CAUCE_LOG_LEVEL": "WARNING",
    }


async def noted(database_url: str) -> int:
    """Leads whose Odoo-owned note has been applied."""
    connection = await asyncpg.connect(database_url)
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM crm.contacts WHERE odoo_values ? 'x_notas'"
        )
    finally:
        await connection.close()
    return int(count)


async def test_odoo_changes_received_but_not_applied_survive_kill_9(
    nats_url: str, database_url: str, tmp_path: Path
) -> None:
    publisher = Bus(
        ServiceSettings(nats_url=nats_url, service_name="crm-test", span_file=tmp_path / "p.jsonl")
    )
    await publisher.start()
    port = free_port()
    try:
        async with running_sandbox() as sandbox_url, httpx.AsyncClient(timeout=10) as http:
            env = crm_env(nats_url, database_url, sandbox_url, port)
            settings = crm_settings(nats_url, database_url, sandbox_url, tmp_path)
            first = ServiceProcess("cauce_crm_sync", env, port, tmp_path, "crm-first")
            try:
                await first.wait_ready()
                crm = CrmStack(
                    nats_url, sandbox_url, first.url, database_url, http, publisher, settings
                )
                await crm.publish(*(contact(f"mc-crash-{i:04d}") for i in range(LEADS)))
                await crm.settled(timeout=60)
                ids = {r["manychat_id"]: int(r["id"]) for r in await crm.odoo_records()}
                await crm.publish(*(changed(key, odoo_id) for key, odoo_id in ids.items()))
                await eventually(lambda: noted(database_url), 30, "a first change applied")
            finally:
                first.kill()
            applied_at_kill = await noted(database_url)
            assert 0 < applied_at_kill < LEADS, "the kill must land mid-way to prove anything"

            second = ServiceProcess("cauce_crm_sync", env, port, tmp_path, "crm-second")
            try:
                await second.wait_ready()

                async def all_noted() -> bool:
                    return await noted(database_url) == LEADS

                await eventually(all_noted, 60, "every change applied after the restart")
            finally:
                await second.stop()
    finally:
        await publisher.stop()
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch("SELECT manychat_id, odoo_values FROM crm.contacts")
    finally:
        await connection.close()
    notes = {row["manychat_id"]: json.loads(row["odoo_values"])["x_notas"] for row in rows}
    assert notes == {key: f"nota de {key}" for key in ids}


WHEN = datetime.now(UTC).replace(microsecond=0)


def changed(key: str, odoo_id: int) -> OdooRecordChanged:
    """Odoo's webhook: a salesperson wrote a note on the lead."""
    return OdooRecordChanged(
        tenant_id=TENANT,
        correlation_id=f"odoo:{key}",
        model="manychat.contact",
        odoo_id=odoo_id,
        values={"x_notas": f"nota de {key}"},
        write_date=WHEN,
    )
