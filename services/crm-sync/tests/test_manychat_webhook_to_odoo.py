"""The seed's flow end to end: ManyChat posts a contact and a campaign assignment to the
gateway (X-API-KEY) -> JetStream -> crm-sync -> PostgreSQL and the Odoo fake."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
from pydantic import SecretStr

from cauce_devstack.testing import eventually, serving
from cauce_gateway.app import create_app as create_gateway
from cauce_gateway.settings import KeyedTenant

from .conftest import TENANT, CrmStack, gateway_settings, running_crm, running_sandbox

API_KEY = "manychat-key-for-crm-tests"


@contextlib.asynccontextmanager
async def manychat_to_crm(
    nats_url: str, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[CrmStack, str]]:
    """The Odoo fake, crm-sync and a gateway taking the tenant's ManyChat key: (crm-sync,
    the gateway's URL)."""
    gateway = gateway_settings(
        nats_url,
        tmp_path,
        manychat_tenants=[KeyedTenant(tenant_id=TENANT, api_key=SecretStr(API_KEY))],
    )
    async with (
        running_sandbox() as sandbox_url,
        running_crm(nats_url, database_url, sandbox_url, tmp_path) as crm,
        serving(create_gateway(gateway), gateway.port) as gateway_url,
    ):
        yield crm, gateway_url


async def until_applied(database_url: str, count: int) -> None:
    """Until crm-sync has applied ``count`` events (the gateway's, which the crm stack's
    own count of published events does not know about)."""

    async def applied() -> bool:
        connection = await asyncpg.connect(database_url)
        try:
            query = "SELECT count(*) = $1 FROM crm.applied_events"
            return bool(await connection.fetchval(query, count))
        finally:
            await connection.close()

    await eventually(applied)


async def test_manychat_webhooks_become_a_row_and_an_odoo_record(
    nats_url: str, database_url: str, tmp_path: Path
) -> None:
    async with manychat_to_crm(nats_url, database_url, tmp_path) as (crm, gateway_url):
        headers = {"X-API-KEY": API_KEY}
        contact = await crm.http.post(
            f"{gateway_url}/webhooks/manychat/contact",
            headers=headers,
            json={  # the seed's body, as ManyChat sends it
                "manychat_id": "test_contact_456",
                "nombre_lead": "Test Contact Data",
                "datetime_actual": "2025-06-05T12:41:36Z",
                "ultimo_estado": "Nuevo",
                "id": "1234567890_manychat_id",
                "first_name": "Test",
                "last_name": "Data",
                "phone": "+56912345678",
                "email": "test.data@example.com",
            },
        )
        assert contact.status_code == 202, contact.text
        assigned = await crm.http.post(
            f"{gateway_url}/webhooks/manychat/campaign-assignment",
            headers=headers,
            json={
                "manychat_id": "test_contact_456",
                "campaign_id": "CAMP-ABC-123",
                "comercial_id": "COM-XYZ-001",
                "datetime_actual": "2025-06-05T12:45:00Z",
                "ultimo_estado": "Asignado",
                "tipo_asignacion": "Automatica",
            },
        )
        assert assigned.status_code == 202, assigned.text
        refused = await crm.http.post(
            f"{gateway_url}/webhooks/manychat/contact", headers={"X-API-KEY": "wrong"}, json={}
        )
        assert refused.status_code == 401

        await until_applied(database_url, 2)
        report = await crm.settled()
        assert report["failed"] == 0

        connection = await asyncpg.connect(database_url)
        try:
            row = await connection.fetchrow("SELECT * FROM crm.contacts")
            assignment = await connection.fetchrow("SELECT * FROM crm.campaign_assignments")
        finally:
            await connection.close()
        assert (row["tenant_id"], row["manychat_id"], row["contact_id"]) == (
            TENANT,
            "test_contact_456",
            "1234567890_manychat_id",
        )
        assert (assignment["campaign_id"], assignment["comercial_id"]) == (
            "CAMP-ABC-123",
            "COM-XYZ-001",
        )
        [lead] = await crm.odoo_records()
        assert (
            lead["manychat_id"],
            lead["phone"],
            lead["comercial_id"],
            lead["ultimo_estado"],
        ) == (
            "test_contact_456",
            "+56912345678",
            "COM-XYZ-001",
            "Asignado",
        )
        assert lead["assigned_at"] == "2025-06-05 12:45:00"


#: SQL and query operators in every free-text field of a lead: each must be stored as
#: the text it is, in PostgreSQL and in Odoo.
HOSTILE_LEAD = {
    "manychat_id": "lead_hostile_1",
    "nombre_lead": "'; DROP TABLE crm.contacts; --",
    "datetime_actual": "2025-06-05T12:41:36Z",
    "ultimo_estado": '{"$ne": null}',
    "id": "x' OR '1'='1",
    "first_name": "$where: sleep(1000)",
    "last_name": "\\'); SELECT pg_sleep(10); --",
    "phone": "+56912345678",
    "email": "o'brien@example.com",
}


async def test_sql_and_operators_in_a_lead_are_stored_as_text(
    nats_url: str, database_url: str, tmp_path: Path
) -> None:
    async with manychat_to_crm(nats_url, database_url, tmp_path) as (crm, gateway_url):
        posted = await crm.http.post(
            f"{gateway_url}/webhooks/manychat/contact",
            headers={"X-API-KEY": API_KEY},
            json=HOSTILE_LEAD,
        )
        assert posted.status_code == 202, posted.text
        # the gateway published it, not the test: settled() waits for the sync once
        # crm-sync has applied it
        await until_applied(database_url, 1)
        report = await crm.settled()
        assert report["failed"] == 0

        connection = await asyncpg.connect(database_url)
        try:
            [row] = await connection.fetch("SELECT * FROM crm.contacts")
        finally:
            await connection.close()
        for column in ("nombre_lead", "first_name", "last_name", "email", "contact_id"):
            field = "id" if column == "contact_id" else column
            assert row[column] == HOSTILE_LEAD[field], column
        [lead] = await crm.odoo_records()
        assert (lead["manychat_id"], lead["nombre_lead"]) == (
            "lead_hostile_1",
            HOSTILE_LEAD["nombre_lead"],
        )
