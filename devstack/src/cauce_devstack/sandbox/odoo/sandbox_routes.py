"""Sandbox-only controls of the Odoo fake (``/sandbox/odoo``): outages, the records as
Odoo holds them, and whether a client kept to the rate limit. Neither rate limited nor
recorded, so a test can look without disturbing what it measures."""

from __future__ import annotations

import json
import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from cauce_devstack.sandbox.bootstrap import SandboxDep
from cauce_devstack.sandbox.odoo.errors import OdooError
from cauce_devstack.sandbox.odoo.state import LIMITER_KEY, OdooState, Outage
from cauce_devstack.sandbox.throughput import NumberMetrics

router = APIRouter(prefix="/sandbox/odoo", tags=["sandbox"])


class OutageSpec(BaseModel):
    seconds: float = Field(gt=0, le=86_400)
    status: int = Field(default=503, ge=500, le=599)


class OutageView(BaseModel):
    active: bool
    status: int | None = None
    remaining_s: float = 0.0


def _outage_view(state: OdooState) -> OutageView:
    status = state.outage_status()
    if status is None or state.outage is None:
        return OutageView(active=False)
    remaining = max(state.outage.ends_at - time.monotonic(), 0.0)
    return OutageView(active=True, status=status, remaining_s=round(remaining, 3))


@router.post("/outage", response_model=OutageView)
async def start_outage(spec: OutageSpec, sandbox: SandboxDep) -> OutageView:
    """Every ``/odoo`` request answers ``status`` (a proxy's page) for ``seconds``."""
    state = sandbox.odoo
    state.outage = Outage(status=spec.status, ends_at=time.monotonic() + spec.seconds)
    return _outage_view(state)


@router.get("/outage", response_model=OutageView)
async def read_outage(sandbox: SandboxDep) -> OutageView:
    return _outage_view(sandbox.odoo)


@router.delete("/outage")
async def end_outage(sandbox: SandboxDep) -> dict[str, bool]:
    state = sandbox.odoo
    active = state.outage_status() is not None
    state.outage = None
    return {"ended": active}


@router.get("/records/{model}")
async def list_records(model: str, sandbox: SandboxDep) -> Response:
    """Every record of ``model``, every field, by id (not rate limited, not recorded)."""
    try:
        return JSONResponse(sandbox.odoo.records.dump(model))
    except OdooError as error:
        return JSONResponse({"detail": error.message}, status_code=404)


@router.patch("/records/{model}/{record_id}")
async def patch_record(
    model: str, record_id: int, request: Request, sandbox: SandboxDep
) -> Response:
    """Change fields behind the client's back, like a person in Odoo's UI: validated like
    a ``write``; ``write_date`` becomes now unless the body gives one (to stage an edit
    made in the past). Errors answer as JSON-2 does."""
    try:
        vals = json.loads(await request.body())
    except ValueError:
        vals = None
    if not isinstance(vals, dict):
        return JSONResponse({"detail": "the body must be a JSON object of fields"}, 422)
    try:
        return JSONResponse(sandbox.odoo.records.patch(model, record_id, vals))
    except OdooError as error:
        return error.json2_response()


@router.delete("/records")
async def wipe_records(sandbox: SandboxDep) -> dict[str, int]:
    """Delete every record of every model (ids keep counting, as in Odoo)."""
    return {"deleted": sandbox.odoo.records.wipe()}


@router.get("/metrics", response_model=NumberMetrics)
async def read_metrics(sandbox: SandboxDep) -> NumberMetrics:
    """Odoo requests accepted and rate-limited, and the most accepted in any 1 s window
    (whether a client kept to Odoo's rate limit)."""
    limiter = sandbox.odoo.limiter
    measured = limiter.metrics().get(LIMITER_KEY)
    if measured is not None:
        return measured
    return NumberMetrics(
        limit_per_second=limiter.default_limit if limiter.enforced else None,
        accepted=0,
        rate_limited=0,
        max_in_any_1s_window=0,
    )
