"""crm-sync test fixtures: real NATS, a fresh PostgreSQL database per test and the
provider sandbox (its Odoo fake) served over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from cauce_contracts.crm import CampaignAssigned, ContactUpserted, LeadStateChanged
from cauce_crm_sync.store.migrations import migrate

TENANT = "acme"
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
