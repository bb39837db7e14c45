"""The armed faults of the model fakes, answered in each API's own error shape."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fastapi.responses import JSONResponse, Response

from cauce_devstack.sandbox.bootstrap import Sandbox
from cauce_devstack.sandbox.faults import Fault

#: ``(status, retry_after) -> the API's error answer``.
ErrorShape = Callable[[int, int | None], JSONResponse]


async def fault_response(fault: Fault, sandbox: Sandbox, shape: ErrorShape) -> Response | None:
    """The answer a fault gives instead of the model's (None: answer normally, late)."""
    match fault.kind:
        case "latency":
            await asyncio.sleep(fault.latency_ms / 1000)
            return None
        case "429":
            return shape(429, fault.retry_after)
        case "5xx":
            return shape(fault.status, None)
        case "token_expired":
            return shape(401, None)
        case _:
            await asyncio.sleep(sandbox.settings.drop_hold_s)
            return Response(status_code=504)
