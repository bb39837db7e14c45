"""The reports API, for sales operations (``reports.read``, read-only), over the
caller's company (from its access token; ``tenant=`` names another for platform admins
only).

- ``GET /reports/contacts``: leads filtered by campaign, current state, advisor
  (``comercial_id``) and activity date (``since`` inclusive, ``until`` exclusive),
  keyset-paginated JSON, or every matching lead as CSV with ``format=csv`` (or
  ``Accept: text/csv``).
- ``GET /reports/campaigns/{campaign_id}``: the campaign's leads counted by state, by
  advisor (comercial) and by both.
- ``GET /reports/sync``: how far Odoo is behind: pending, in flight, failed (dead
  letters), synced, and the age of the oldest pending change, overall and per kind
  (platform admins: the sync spans every company).
- ``GET /internal/lead-exports/contacts``: the notifier's lead audiences, CSV of one
  named tenant, for the service token ``CAUCE_LEAD_EXPORT_TOKEN`` (not an operator
  API: nothing but the notifier holds it).

Leads carry phone numbers and e-mails: that is what the report is for, so it is behind
a token and never logged.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel

from cauce_contracts.envelope import TOKEN_PATTERN
from cauce_contracts.identity import Permission
from cauce_crm_sync.bootstrap import CrmSyncDep
from cauce_crm_sync.store import reports
from cauce_crm_sync.store import sync_state as sync_store
from cauce_crm_sync.store.reports import CONTACT_COLUMNS, ContactFilter
from cauce_runtime import (
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    problem_response,
    require_bearer,
)
from cauce_runtime.identity import Caller, PlatformAdminDep, company_for, require

MAX_PAGE = 1000


class ContactsPage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


class SyncCountsView(BaseModel):
    pending: int
    in_flight: int
    failed: int
    synced: int
    oldest_pending_since: datetime | None
    #: Seconds since the oldest change not yet in Odoo (0 when nothing is pending).
    lag_s: float


class SyncView(SyncCountsView):
    by_kind: dict[str, SyncCountsView]


#: The name of the contacts list in its cursors.
_CONTACTS = "contacts"


def _cursor(row: dict[str, Any]) -> str:
    return encode_cursor(_CONTACTS, row["tenant_id"], row["manychat_id"])


def _after(cursor: str | None) -> tuple[str, str] | None:
    """The ``(tenant, manychat_id)`` a page starts after; None for a foreign cursor."""
    if cursor is None:
        return ("", "")
    try:
        tenant, key = decode_cursor(_CONTACTS, cursor, str, str)
    except InvalidCursor:
        return None
    return (tenant, key)


def _view(counts: sync_store.SyncCounts) -> SyncCountsView:
    oldest = counts.oldest_pending_since
    lag = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
    return SyncCountsView(
        pending=counts.pending,
        in_flight=counts.in_flight,
        failed=counts.failed,
        synced=counts.synced,
        oldest_pending_since=oldest,
        lag_s=max(0.0, lag),
    )


async def _csv_lines(pool: asyncpg.Pool, where: ContactFilter) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CONTACT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    async for row in reports.all_contacts(pool, where):
        writer.writerow({**row, "odoo_values": json.dumps(row["odoo_values"], ensure_ascii=False)})
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _csv_response(pool: asyncpg.Pool, where: ContactFilter) -> StreamingResponse:
    return StreamingResponse(
        _csv_lines(pool, where),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="contacts.csv"'},
    )


Reader = Annotated[Caller, Depends(require(Permission.REPORTS_READ))]

router = APIRouter(prefix="/reports", tags=["reports"])


async def require_lead_export_token(request: Request, crm: CrmSyncDep) -> None:
    """401 unless ``Authorization: Bearer <CAUCE_LEAD_EXPORT_TOKEN>``."""
    require_bearer(request, crm.settings.lead_export_token, realm="cauce-lead-exports")


#: Service to service: the notifier resolving a campaign's lead audience for a tenant.
internal = APIRouter(
    prefix="/internal/lead-exports",
    tags=["internal"],
    dependencies=[Depends(require_lead_export_token)],
)


@router.get("/contacts", response_model=ContactsPage)
async def contacts(
    request: Request,
    crm: CrmSyncDep,
    caller: Reader,
    tenant: str | None = None,
    campaign: str | None = None,
    state: str | None = None,
    advisor: str | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    format: Literal["json", "csv"] | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> Response | ContactsPage:
    """Leads matching the filters (JSON pages, or all of them as CSV)."""
    company = company_for(caller, tenant)
    where = ContactFilter(company, campaign, state, since, until, advisor)
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        return _csv_response(crm.pool, where)
    after = _after(cursor)
    if after is None:
        return problem_response(400, detail="invalid cursor")
    rows = await reports.contacts_page(crm.pool, where, after, limit + 1)
    more = len(rows) > limit
    items = rows[:limit]
    return ContactsPage(items=items, next_cursor=_cursor(items[-1]) if more else None)


@router.get("/campaigns/{campaign_id}", response_model=reports.CampaignReport)
async def campaign(
    crm: CrmSyncDep, caller: Reader, campaign_id: str, tenant: str | None = None
) -> Response | reports.CampaignReport:
    """The campaign's leads by state and by advisor."""
    found = await reports.campaign_report(crm.pool, campaign_id, company_for(caller, tenant))
    if found is None:
        return problem_response(404, detail="no lead was ever assigned to this campaign")
    return found


@router.get("/sync", response_model=SyncView)
async def sync(crm: CrmSyncDep, caller: Reader, _: PlatformAdminDep) -> SyncView:
    """How far Odoo is behind PostgreSQL (every company's records: platform admins)."""
    overall = _view(await sync_store.counts(crm.pool))
    by_kind = {
        kind: _view(await sync_store.counts(crm.pool, kind)) for kind in ("contact", "state")
    }
    return SyncView(**overall.model_dump(), by_kind=by_kind)


@internal.get("/contacts")
async def lead_export(
    crm: CrmSyncDep,
    tenant: Annotated[str, Query(min_length=1, max_length=64, pattern=TOKEN_PATTERN)],
    campaign: str | None = None,
    state: str | None = None,
    advisor: str | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
) -> StreamingResponse:
    """Every lead of ``tenant`` matching the filters, as CSV (a campaign's audience)."""
    return _csv_response(crm.pool, ContactFilter(tenant, campaign, state, since, until, advisor))
