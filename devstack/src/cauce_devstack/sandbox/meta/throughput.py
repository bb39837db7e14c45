"""Meta's per-number throughput cap on the Graph fake, and the sandbox routes that read
what it measured and change a number's cap at run time (benchmarks measure against it)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from cauce_devstack.sandbox.throughput import NumberMetrics, ThroughputLimiter


def get_limiter(request: Request) -> ThroughputLimiter:
    limiter: ThroughputLimiter = request.app.state.graph_throughput
    return limiter


class Metrics(BaseModel):
    graph: dict[str, NumberMetrics]
    """Keyed by ``phone_number_id``."""


class LimitUpdate(BaseModel):
    per_second: float = Field(gt=0, le=100_000)


router = APIRouter(prefix="/sandbox", tags=["sandbox"])


@router.get("/metrics", response_model=Metrics)
async def read_metrics(request: Request) -> Metrics:
    """Per business number: accepted, rate-limited, max accepted in any 1 s window."""
    return Metrics(graph=get_limiter(request).metrics())


@router.delete("/metrics")
async def reset_metrics(request: Request) -> dict[str, int]:
    return {"deleted": get_limiter(request).reset()}


@router.put("/throughput/{phone_number_id}")
async def set_throughput(
    phone_number_id: str, update: LimitUpdate, request: Request
) -> dict[str, float]:
    """Change one number's messages/second limit at run time (benchmarks, tests)."""
    if not phone_number_id.isdigit():
        raise HTTPException(422, "phone_number_id must be digits")
    get_limiter(request).set_limit(phone_number_id, update.per_second)
    return {"per_second": update.per_second}
