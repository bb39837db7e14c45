"""The operator API (bearer ``CAUCE_ADMIN_TOKEN``): dead letters and reconciliation.

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

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, SecretStr

from cauce_crm_sync.mapping import Kind, OdooMapping
from cauce_crm_sync.store import dead_letters
from cauce_crm_sync.store import sync_state as sync_store
from cauce_crm_sync.sync.reconciliation import Reconciler, Reconciliation
from cauce_runtime import bearer_guard, problem_response


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


def operator_router(
    pool: asyncpg.Pool,
    mapping: OdooMapping,
    reconciler: Reconciler,
    token: SecretStr,
    *,
    replayed: Callable[[], None],
) -> APIRouter:
    router = APIRouter(tags=["operations"], dependencies=[Depends(bearer_guard(token))])
    running: set[asyncio.Task[Reconciliation]] = set()

    @router.get("/dead-letters")
    async def list_dead_letters(
        kind: Kind | None = None,
        error_name: str | None = None,
        after_id: int = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        items = await dead_letters.list_dead(
            pool, kind=kind, error_name=error_name, after_id=after_id, limit=limit
        )
        return {
            "items": [item.as_dict() for item in items],
            "next_after_id": items[-1].id if len(items) == limit else None,
        }

    @router.get("/dead-letters/{record_id}", response_model=None)
    async def get_dead_letter(record_id: int) -> Any:
        letter = await dead_letters.get_dead(pool, record_id)
        if letter is None:
            return problem_response(404, detail="no such dead letter")
        return await inspect(pool, mapping, letter)

    @router.post("/dead-letters/{record_id}/replay", response_model=Replayed)
    async def replay_one(record_id: int) -> Response | Replayed:
        count = await dead_letters.replay(pool, ids=[record_id])
        if not count:
            return problem_response(404, detail="no such dead letter")
        replayed()
        return Replayed(replayed=count)

    @router.post("/dead-letters/replay", response_model=Replayed)
    async def replay_many(selection: ReplayFilter | None = None) -> Replayed:
        selection = selection or ReplayFilter()
        count = await dead_letters.replay(
            pool, kind=selection.kind, error_name=selection.error_name
        )
        if count:
            replayed()
        return Replayed(replayed=count)

    @router.post("/reconciliations", status_code=202, response_model=None)
    async def reconcile_now() -> Response | dict[str, str]:
        """Start a reconciliation; follow it with ``GET /reconciliations``."""
        if running or await reconciler.is_running():
            return problem_response(409, detail="a reconciliation is already running")
        task = asyncio.create_task(reconciler.run("api"))
        running.add(task)
        task.add_done_callback(running.discard)
        return {"status": "started"}

    @router.get("/reconciliations")
    async def list_reconciliations(
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> list[dict[str, Any]]:
        rows = await pool.fetch(
            "SELECT * FROM crm.reconciliations ORDER BY id DESC LIMIT $1", limit
        )
        return [Reconciliation.from_row(row).__dict__ for row in rows]

    @router.get("/reconciliations/{run_id}", response_model=None)
    async def get_reconciliation(run_id: int) -> Any:
        row = await pool.fetchrow("SELECT * FROM crm.reconciliations WHERE id = $1", run_id)
        if row is None:
            return problem_response(404, detail="no such reconciliation")
        return Reconciliation.from_row(row).__dict__

    return router
