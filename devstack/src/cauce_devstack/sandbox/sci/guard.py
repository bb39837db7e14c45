"""What every SCI business call passes before it is served: armed faults, then the
token, then the ``idParametro``, in the order a client meets them in SCI."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from cauce_devstack.sandbox.sci.errors import error, unauthorized

if TYPE_CHECKING:
    from cauce_devstack.sandbox.bootstrap import Sandbox
    from cauce_devstack.sandbox.faults import Fault
    from cauce_devstack.sandbox.settings import SandboxSettings

_BEARER = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)


def _bearer(request: Request) -> str | None:
    match = _BEARER.match(request.headers.get("authorization", ""))
    return match.group(1) if match else None


async def _fault_response(fault: Fault, settings: SandboxSettings) -> Response | None:
    """The answer an armed fault stands for (``None``: latency only, carry on)."""
    if fault.kind == "latency":
        await asyncio.sleep(fault.latency_ms / 1000)
        return None
    if fault.kind == "429":
        return JSONResponse(
            {"message": "Too many requests"},
            status_code=429,
            headers={"Retry-After": str(fault.retry_after)},
        )
    if fault.kind == "5xx":
        return error(fault.status, "An error has occurred.")
    if fault.kind == "token_expired":
        return unauthorized()
    await asyncio.sleep(settings.drop_hold_s)
    return Response(status_code=504)


async def guard(request: Request, sandbox: Sandbox, id_parametro: str) -> Response | None:
    """Faults, then the token, then the idParametro: the refusal, if any."""
    settings = sandbox.settings
    # Read the body first: a slow SCI still does the work, it only answers late (so a
    # client timing out on a latency fault is the real "created but never told" case).
    await request.body()
    fault = sandbox.faults.take("sci")
    if fault is not None:
        refusal = await _fault_response(fault, settings)
        if refusal is not None:
            return refusal
    if not sandbox.sci.valid(_bearer(request)):
        return unauthorized()
    if id_parametro != settings.sci_id_parametro:
        return error(404, f"idParametro {id_parametro} no existe")
    return None
