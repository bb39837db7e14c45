"""What every SCI business call passes before it is served: armed faults, then the
token, then the ``idParametro``, in the order a client meets them in SCI."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from cauce_devstack.sandbox.faults import FaultAnswers, fault_answer
from cauce_devstack.sandbox.sci.errors import error, unauthorized

if TYPE_CHECKING:
    from cauce_devstack.sandbox.bootstrap import Sandbox

_BEARER = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)


def _bearer(request: Request) -> str | None:
    match = _BEARER.match(request.headers.get("authorization", ""))
    return match.group(1) if match else None


#: SCI's answers to armed faults.
FAULT_ANSWERS = FaultAnswers(
    too_many=lambda retry_after: JSONResponse(
        {"message": "Too many requests"},
        status_code=429,
        headers={"Retry-After": str(retry_after)},
    ),
    server_error=lambda status: error(status, "An error has occurred."),
    expired=unauthorized,
)


async def guard(request: Request, sandbox: Sandbox, id_parametro: str) -> Response | None:
    """Faults, then the token, then the idParametro: the refusal, if any."""
    settings = sandbox.settings
    # Read the body first: a slow SCI still does the work, it only answers late (so a
    # client timing out on a latency fault is the real "created but never told" case).
    await request.body()
    fault = sandbox.faults.take("sci")
    if fault is not None:
        refusal = await fault_answer(fault, FAULT_ANSWERS, settings.drop_hold_s)
        if refusal is not None:
            return refusal
    if not sandbox.sci.valid(_bearer(request)):
        return unauthorized()
    if id_parametro != settings.sci_id_parametro:
        return error(404, f"idParametro {id_parametro} no existe")
    return None
