"""The queries behind the reports API (``/reports/...``).

A lead's *activity time*, what the date filters of the contacts report apply to, is
its newest source timestamp: ``GREATEST(datetime_actual, state_changed_at,
assigned_at)`` (PostgreSQL's ``GREATEST`` skips NULLs), so a lead the bot met counts on
the day of its last state change.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

#: Columns of the contacts report, in CSV order.
CONTACT_COLUMNS: tuple[str, ...] = (
    "tenant_id",
    "manychat_id",
    "nombre_lead",
    "first_name",
    "last_name",
    "phone",
    "email",
    "ultimo_estado",
    "state_changed_at",
    "campaign_id",
    "comercial_id",
    "tipo_asignacion",
    "assigned_at",
    "datetime_actual",
    "activity_at",
    "odoo_id",
    "sync_status",
    "odoo_values",
)


@dataclass(frozen=True)
class ContactFilter:
    tenant_id: str | None = None
    campaign_id: str | None = None
    state: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    #: The lead's advisor (``comercial_id``).
    advisor: str | None = None


_CONTACTS = """
SELECT c.tenant_id, c.manychat_id, c.nombre_lead, c.first_name, c.last_name, c.phone,
       c.email, c.ultimo_estado, c.state_changed_at, c.campaign_id, c.comercial_id,
       c.tipo_asignacion, c.assigned_at, c.datetime_actual,
       GREATEST(c.datetime_actual, c.state_changed_at, c.assigned_at) AS activity_at,
       s.odoo_id, s.status AS sync_status, c.odoo_values
FROM crm.contacts c
LEFT JOIN crm.sync_records s
  ON s.tenant_id = c.tenant_id AND s.kind = 'contact' AND s.record_key = c.manychat_id
WHERE ($1::text IS NULL OR c.tenant_id = $1)
  AND ($2::text IS NULL OR EXISTS (
        SELECT 1 FROM crm.campaign_assignments a
        WHERE a.tenant_id = c.tenant_id AND a.manychat_id = c.manychat_id
          AND a.campaign_id = $2))
  AND ($3::text IS NULL OR c.ultimo_estado = $3)
  AND ($4::timestamptz IS NULL
       OR GREATEST(c.datetime_actual, c.state_changed_at, c.assigned_at) >= $4)
  AND ($5::timestamptz IS NULL
       OR GREATEST(c.datetime_actual, c.state_changed_at, c.assigned_at) < $5)
  AND ($9::text IS NULL OR c.comercial_id = $9)
  AND (c.tenant_id, c.manychat_id) > ($6::text, $7::text)
ORDER BY c.tenant_id, c.manychat_id
LIMIT $8
"""


async def contacts_page(
    pool: asyncpg.Pool, where: ContactFilter, after: tuple[str, str], limit: int
) -> list[dict[str, Any]]:
    """Leads matching ``where`` after the ``(tenant, manychat_id)`` cursor ``after``."""
    rows = await pool.fetch(
        _CONTACTS,
        where.tenant_id,
        where.campaign_id,
        where.state,
        where.since,
        where.until,
        after[0],
        after[1],
        limit,
        where.advisor,
    )
    return [{**row, "odoo_values": json.loads(row["odoo_values"])} for row in rows]


async def all_contacts(
    pool: asyncpg.Pool, where: ContactFilter, page_size: int = 1000
) -> AsyncIterator[dict[str, Any]]:
    """Every lead matching ``where``, in pages (for the CSV export)."""
    after = ("", "")
    while True:
        page = await contacts_page(pool, where, after, page_size)
        for row in page:
            yield row
        if len(page) < page_size:
            return
        after = (page[-1]["tenant_id"], page[-1]["manychat_id"])


@dataclass(frozen=True)
class CampaignReport:
    campaign_id: str
    leads: int
    by_state: dict[str, int]
    by_advisor: dict[str, int]
    by_advisor_and_state: dict[str, dict[str, int]]
    last_assigned_at: datetime | None


async def campaign_report(
    pool: asyncpg.Pool, campaign_id: str, tenant_id: str | None
) -> CampaignReport | None:
    """Leads of a campaign counted by their current state and by advisor (comercial)."""
    rows = await pool.fetch(
        """
        SELECT advisor AS comercial_id, state, count(*) AS leads,
               max(assigned_at) AS last_assigned_at
        FROM (
            -- the lead's current advisor (Odoo may have reassigned it) on its current
            -- campaign, the assignment's on the earlier ones
            SELECT CASE WHEN c.campaign_id = a.campaign_id AND c.comercial_id IS NOT NULL
                        THEN c.comercial_id ELSE a.comercial_id END AS advisor,
                   COALESCE(c.ultimo_estado, a.ultimo_estado) AS state, a.assigned_at
            FROM crm.campaign_assignments a
            JOIN crm.contacts c ON c.tenant_id = a.tenant_id AND c.manychat_id = a.manychat_id
            WHERE a.campaign_id = $1 AND ($2::text IS NULL OR a.tenant_id = $2)
        ) leads
        GROUP BY advisor, state
        """,
        campaign_id,
        tenant_id,
    )
    if not rows:
        return None
    by_state: dict[str, int] = {}
    by_advisor: dict[str, int] = {}
    matrix: dict[str, dict[str, int]] = {}
    for row in rows:
        advisor, state, count = row["comercial_id"], row["state"], row["leads"]
        by_state[state] = by_state.get(state, 0) + count
        by_advisor[advisor] = by_advisor.get(advisor, 0) + count
        matrix.setdefault(advisor, {})[state] = count
    return CampaignReport(
        campaign_id=campaign_id,
        leads=sum(by_state.values()),
        by_state=by_state,
        by_advisor=by_advisor,
        by_advisor_and_state=matrix,
        last_assigned_at=max(row["last_assigned_at"] for row in rows),
    )
