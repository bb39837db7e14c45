"""Meta's per-number throughput cap on the Graph fake, and the sandbox routes that read
what it measured and change a number's cap at run time (benchmarks measure against it)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from cauce_devstack.sandbox.bootstrap import SandboxDep
from cauce_devstack.sandbox.throughput import NumberMetrics


class Metrics(BaseModel):
    graph: dict[str, NumberMetrics]
    """Keyed by ``phone_number_id``."""


class LimitUpdate(BaseModel):
    per_second: float = Field(gt=0, le=100_000)


router = APIRouter(prefix="/sandbox", tags=["sandbox"])


@router.get("/metrics", response_model=Metrics)
async def read_metrics(sandbox: SandboxDep) -> Metrics:
    """Per business number: accepted, rate-limited, max accepted in any 1 s window."""
    return Metrics(graph=sandbox.graph_throughput.metrics())


@router.delete("/metrics")
async def reset_metrics(sandbox: SandboxDep) -> dict[str, int]:
    return {"deleted": sandbox.graph_throughput.reset()}


@router.put("/throughput/{phone_number_id}")
async def set_throughput(
    phone_number_id: str, update: LimitUpdate, sandbox: SandboxDep
) -> dict[str, float]:
    """Change one number's messages/second limit at run time (benchmarks, tests)."""
    if not phone_number_id.isdigit():
        raise HTTPException(422, "phone_number_id must be digits")
    sandbox.graph_throughput.set_limit(phone_number_id, update.per_second)
    return {"per_second": update.per_second}
