"""crm-sync bootstrap. Sync to PostgreSQL/Odoo arrives with its issue; today it
connects to the bus and PostgreSQL and reports both in /readyz."""

from __future__ import annotations

import asyncpg
from fastapi import FastAPI

from cauce_crm_sync.settings import CrmSyncSettings
from cauce_runtime.app import create_service_app
from cauce_runtime.bus import Bus


def create_app(settings: CrmSyncSettings | None = None) -> FastAPI:
    settings = settings or CrmSyncSettings()
    dsn = settings.postgres_url.get_secret_value()

    async def postgres_reachable() -> bool:
        connection = await asyncpg.connect(dsn, timeout=2)
        try:
            return bool(await connection.fetchval("SELECT 1") == 1)
        finally:
            await connection.close()

    return create_service_app(
        settings,
        bus=Bus(settings),
        readiness={"postgres": postgres_reachable},
        title="cauce crm-sync",
        description="Leads and campaign assignments into PostgreSQL and Odoo.",
    )
