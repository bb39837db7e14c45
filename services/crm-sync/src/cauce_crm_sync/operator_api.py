"""The operator API: dead letters (``dead_letters.manage``, of the caller's company) and
reconciliation (platform admins: it spans every company's records).

- ``GET /dead-letters`` (``kind``, ``error_name``, ``after_id``, ``limit``): records
  Odoo rejected, with its error; ``GET /dead-letters/{id}``: one of them with the
  Odoo model and the vals crm-sync would send now (to see what Odoo refused);
  ``POST /dead-letters/{id}/replay`` and ``POST /dead-letters/replay`` (all, or those
  matching ``kind``/``error_name``): pending again, attempts reset.
- ``POST /reconciliations``: reconcile now (202; 409 when one is running);
  ``GET /reconciliations``: the latest runs; ``GET /reconciliations/{id}``.

The same operations are on the command line: ``python -m cauce_crm_sync --help``.
"""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from cauce_contracts.identity import Permission
from cauce_crm_sync.bootstrap import CrmSyncDep
from cauce_crm_sync.mapping import Kind, OdooMapping
from cauce_crm_sync.store import dead_letters
from cauce_crm_sync.store import sync_state as sync_store
from cauce_crm_sync.sync.reconciliation import Reconciliation
from cauce_runtime import problem_response
from cauce_runtime.identity import Caller, company_for, platform_admin, require


class ReplayFilter(BaseModel):
    kind: Kind | None = None
    error_name: str | None = None


class Replayed(BaseModel):
    replayed: int


async def inspect(
    pool: asyncpg.Pool, mapping: OdooMapping, letter: dead_letters.DeadLetter
) -> dict[str, Any]:
    """A dead letter with the Odoo model and the vals that would be sent now."""
    record = await pool.fetchrow("SELECT * FROM crm.sync_records WHERE id = $1", letter.id)
    sync_record = sync_store.SyncRecord.from_row(record)
    if letter.kind == "contact":
        sources: dict[Any, Any] = dict(await sync_store.load_contacts(pool, [sync_record]))
        source = sources.get((letter.tenant_id, letter.record_key))
    else:
        source = (await sync_store.load_states(pool, [sync_record])).get(letter.record_key)
    model = mapping.by_kind[letter.kind]
    return {
        **letter.as_dict(),
        "odoo_model": model.model,
        "vals": model.vals(source) if source else None,
    }


DeadLetterManager = Annotated[Caller, Depends(require(Permission.DEAD_LETTERS_MANAGE))]


router = APIRouter(tags=["operations"])
#: Reconciliation spans every company's records: platform admins only.
reconciliations = APIRouter(tags=["operations"], dependencies=[Depends(platform_admin)])


@router.get("/dead-letters")
async def list_dead_letters(
    crm: CrmSyncDep,
    caller: DeadLetterManager,
    company_id: str | None = None,
    kind: Kind | None = None,
    error_name: str | None = None,
    after_id: int = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    items = await dead_letters.list_dead(
        crm.pool,
        kind=kind,
        error_name=error_name,
        after_id=after_id,
        limit=limit,
        tenant_id=company_for(caller, company_id),
    )
    return {
        "items": [item.as_dict() for item in items],
        "next_after_id": items[-1].id if len(items) == limit else None,
    }


@router.get("/dead-letters/{record_id}", response_model=None)
async def get_dead_letter(
    crm: CrmSyncDep, caller: DeadLetterManager, record_id: int, company_id: str | None = None
) -> Any:
    letter = await dead_letters.get_dead(crm.pool, record_id, company_for(caller, company_id))
    if letter is None:
        return problem_response(404, detail="no such dead letter")
    return await inspect(crm.pool, crm.mapping, letter)


@router.post("/dead-letters/{record_id}/replay", response_model=Replayed)
async def replay_one(
    crm: CrmSyncDep, caller: DeadLetterManager, record_id: int, company_id: str | None = None
) -> Response | Replayed:
    count = await dead_letters.replay(
        crm.pool, ids=[record_id], tenant_id=company_for(caller, company_id)
    )
    if not count:
        return problem_response(404, detail="no such dead letter")
    crm.worker.wake()
    return Replayed(replayed=count)


@router.post("/dead-letters/replay", response_model=Replayed)
async def replay_many(
    crm: CrmSyncDep,
    caller: DeadLetterManager,
    selection: ReplayFilter | None = None,
    company_id: str | None = None,
) -> Replayed:
    selection = selection or ReplayFilter()
    count = await dead_letters.replay(
        crm.pool,
        kind=selection.kind,
        error_name=selection.error_name,
        tenant_id=company_for(caller, company_id),
    )
    if count:
        crm.worker.wake()
    return Replayed(replayed=count)


@reconciliations.post("/reconciliations", status_code=202, response_model=None)
async def reconcile_now(crm: CrmSyncDep) -> Response | dict[str, str]:
    """Start a reconciliation; follow it with ``GET /reconciliations``."""
    if not await crm.reconcile_in_background():
        return problem_response(409, detail="a reconciliation is already running")
    return {"status": "started"}


@reconciliations.get("/reconciliations")
async def list_reconciliations(
    crm: CrmSyncDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> list[dict[str, Any]]:
    rows = await crm.pool.fetch(
        "SELECT * FROM crm.reconciliations ORDER BY id DESC LIMIT $1", limit
    )
    return [Reconciliation.from_row(row).__dict__ for row in rows]


@reconciliations.get("/reconciliations/{run_id}", response_model=None)
async def get_reconciliation(crm: CrmSyncDep, run_id: int) -> Any:
    row = await crm.pool.fetchrow("SELECT * FROM crm.reconciliations WHERE id = $1", run_id)
    if row is None:
        return problem_response(404, detail="no such reconciliation")
    return Reconciliation.from_row(row).__dict__
