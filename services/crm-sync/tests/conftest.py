"""crm-sync test fixtures: real NATS, a fresh PostgreSQL database per test and the
provider sandbox (its Odoo fake) served over HTTP."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from cauce_contracts.crm import CampaignAssigned, ContactUpserted, LeadStateChanged
from cauce_contracts.envelope import Event
from cauce_contracts.registry import subject_of
from cauce_crm_sync.app import create_app as create_crm
from cauce_crm_sync.settings import CrmSyncSettings
from cauce_crm_sync.store.migrations import migrate
from cauce_devstack.minted_tokens import TokenMinter
from cauce_devstack.sandbox.app import create_app as create_sandbox
from cauce_devstack.sandbox.settings import SandboxSettings
from cauce_devstack.servers import free_port
from cauce_devstack.testing import eventually, service_test_values, serving
from cauce_gateway.settings import GatewaySettings
from cauce_runtime import Bus, ServiceSettings

TENANT = "acme"
#: Signs the operators' access tokens (the service pins its key).
MINTER = TokenMinter()
LEAD_EXPORT_TOKEN = "lead-export-token-for-crm-tests"
T0 = datetime(2025, 6, 5, 12, 41, 36, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """``T0`` plus ``seconds``: source timestamps that tests can order."""
    return T0 + timedelta(seconds=seconds)


def contact(manychat_id: str, **overrides: Any) -> ContactUpserted:
    values: dict[str, Any] = {
        "tenant_id": TENANT,
        "correlation_id": f"corr-{manychat_id}",
        "manychat_id": manychat_id,
        "nombre_lead": "Test Contact Data",
        "datetime_actual": T0,
        "ultimo_estado": "Nuevo",
        "first_name": "Test",
        "last_name": "Data",
        "phone": "+56912345678",
        "email": "test.data@example.com",
    }
    values.update(overrides)
    return ContactUpserted(**values)


def assignment(manychat_id: str, **overrides: Any) -> CampaignAssigned:
    values: dict[str, Any] = {
        "tenant_id": TENANT,
        "correlation_id": f"corr-{manychat_id}",
        "manychat_id": manychat_id,
        "campaign_id": "CAMP-ABC-123",
        "comercial_id": "COM-XYZ-001",
        "datetime_actual": at(60),
        "ultimo_estado": "Asignado",
        "tipo_asignacion": "Automatica",
    }
    values.update(overrides)
    return CampaignAssigned(**values)


def state_change(manychat_id: str, new_state: str, **overrides: Any) -> LeadStateChanged:
    values: dict[str, Any] = {
        "tenant_id": TENANT,
        "correlation_id": f"corr-{manychat_id}",
        "manychat_id": manychat_id,
        "new_state": new_state,
        "changed_at": at(120),
        "source": "conversation",
    }
    values.update(overrides)
    return LeadStateChanged(**values)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A connection pool on a fresh database with the ``crm`` schema migrated."""
    created = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    await migrate(created)
    try:
        yield created
    finally:
        await created.close()


@dataclass
class CrmStack:
    """crm-sync served on real NATS and PostgreSQL, talking to the sandbox's Odoo fake."""

    nats_url: str
    sandbox_url: str
    crm_url: str
    database_url: str
    http: httpx.AsyncClient
    bus: Bus
    settings: CrmSyncSettings
    #: Ids of every event published, to know when crm-sync has applied them all.
    published: set[str] = field(default_factory=set)

    async def publish(self, *events: Event) -> None:
        """Publish each event with a fresh ``Nats-Msg-Id``: JetStream's duplicate window
        lets repeats through, as a redelivery days later would, so only crm-sync's own
        idempotency stands between a repeat and a double."""
        for event in events:
            await self.bus.publish(event, subject_of(event), msg_id=uuid.uuid4().hex)
            self.published.add(str(event.event_id))

    async def applied(self) -> int:
        """How many of the published events crm-sync has applied to PostgreSQL."""
        connection = await asyncpg.connect(self.database_url)
        try:
            count = await connection.fetchval(
                "SELECT count(*) FROM crm.applied_events WHERE event_id = ANY($1::text[])",
                list(self.published),
            )
        finally:
            await connection.close()
        return int(count)

    async def odoo_records(self, model: str = "manychat.contact") -> list[dict[str, Any]]:
        response = await self.http.get(f"{self.sandbox_url}/sandbox/odoo/records/{model}")
        response.raise_for_status()
        records: list[dict[str, Any]] = response.json()
        return records

    async def odoo_requests(self, include_refused: bool = False) -> list[dict[str, Any]]:
        response = await self.http.get(
            f"{self.sandbox_url}/sandbox/outbox",
            params={"provider": "odoo", "include_refused": include_refused},
        )
        response.raise_for_status()
        entries: list[dict[str, Any]] = response.json()
        return entries

    async def api(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Call crm-sync as ``token``'s holder (a platform admin of the test tenant when
        none is given)."""
        token = token or MINTER.token(TENANT, platform_admin=True)
        return await self.http.request(
            method, f"{self.crm_url}{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs
        )

    async def sync_report(self) -> dict[str, Any]:
        response = await self.api("GET", "/reports/sync")
        response.raise_for_status()
        report: dict[str, Any] = response.json()
        return report

    async def settled(self, timeout: float = 30.0) -> dict[str, Any]:
        """Wait until every published event is applied and nothing is pending or in
        flight toward Odoo; return the sync report."""

        async def settled_report() -> dict[str, Any] | None:
            # Applied first, then the report: a report read before the last event was
            # applied could show nothing pending while its change is about to be.
            everything_applied = await self.applied() == len(self.published)
            report = await self.sync_report()
            done = everything_applied and report["pending"] == 0 and report["in_flight"] == 0
            return report if done else None

        report: dict[str, Any] = await eventually(settled_report, timeout, "the sync to settle")
        return report


def crm_settings(
    nats_url: str, database_url: str, sandbox_url: str, tmp_path: Path, **overrides: Any
) -> CrmSyncSettings:
    values: dict[str, Any] = {
        **service_test_values(nats_url, tmp_path),
        "port": free_port(),
        "postgres_url": database_url,
        "odoo_url": f"{sandbox_url}/odoo",
        "odoo_rate_limit_per_s": 5.0,
        "odoo_timeout_s": 3.0,
        "sync_backoff_base_s": 0.2,
        "sync_backoff_max_s": 1.0,
        "sync_uncertain_retry_s": 2.0,
        "sync_idle_poll_s": 0.05,
        "reconcile_interval_s": 0,
        "identity_public_keys": MINTER.jwks,
        "lead_export_token": LEAD_EXPORT_TOKEN,
    }
    values.update(overrides)
    return CrmSyncSettings(_env_file=None, **values)


def gateway_settings(nats_url: str, tmp_path: Path, **overrides: Any) -> GatewaySettings:
    """The gateway in front of crm-sync (ManyChat's and Odoo's webhooks), on a free port."""
    return GatewaySettings(
        _env_file=None,
        **service_test_values(nats_url, tmp_path),
        port=free_port(),
        **overrides,
    )


@contextlib.asynccontextmanager
async def running_sandbox(**overrides: Any) -> AsyncIterator[str]:
    values: dict[str, Any] = {"port": free_port(), "odoo_rate_limit_per_second": 5.0}
    values.update(overrides)
    settings = SandboxSettings(**values)
    async with serving(create_sandbox(settings), settings.port) as url:
        yield url


@contextlib.asynccontextmanager
async def running_crm(
    nats_url: str, database_url: str, sandbox_url: str, tmp_path: Path, **overrides: Any
) -> AsyncIterator[CrmStack]:
    settings = crm_settings(nats_url, database_url, sandbox_url, tmp_path, **overrides)
    publisher = Bus(
        ServiceSettings(nats_url=nats_url, service_name="crm-test", span_file=tmp_path / "p.jsonl")
    )
    await publisher.start()
    try:
        async with (
            serving(create_crm(settings), settings.port) as crm_url,
            httpx.AsyncClient(timeout=10) as http,
        ):
            yield CrmStack(nats_url, sandbox_url, crm_url, database_url, http, publisher, settings)
    finally:
        await publisher.stop()


@pytest.fixture
async def crm(nats_url: str, database_url: str, tmp_path: Path) -> AsyncIterator[CrmStack]:
    """crm-sync against a fresh sandbox (Odoo fake at 5 requests/s; crm-sync uses 5/s)."""
    async with (
        running_sandbox() as sandbox_url,
        running_crm(nats_url, database_url, sandbox_url, tmp_path) as stack,
    ):
        yield stack
