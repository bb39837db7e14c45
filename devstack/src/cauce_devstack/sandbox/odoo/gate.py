"""What every ``/odoo`` request passes before it is served (an outage, the rate limit,
latency, armed faults), answered as the proxy in front of a real Odoo answers it."""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import TYPE_CHECKING

from fastapi import Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from cauce_devstack.sandbox.faults import FaultAnswers, fault_answer
from cauce_devstack.sandbox.odoo.errors import invalid_apikey, session_expired
from cauce_devstack.sandbox.odoo.recording import Call, answer
from cauce_devstack.sandbox.odoo.state import LIMITER_KEY
from cauce_devstack.sandbox.throughput import retry_after_header

if TYPE_CHECKING:
    from cauce_devstack.sandbox.bootstrap import Sandbox


def proxy_page(status: int) -> HTMLResponse:
    """What a reverse proxy answers when Odoo behind it is down or failing."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Server Error"
    return HTMLResponse(
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n",
        status_code=status,
    )


def _too_many(retry_after: int) -> PlainTextResponse:
    return PlainTextResponse(
        "429 Too Many Requests: too many requests to this Odoo, slow down.\n",
        status_code=429,
        headers={"Retry-After": str(retry_after)},
    )


def _fault_answers(call: Call) -> FaultAnswers:
    """Odoo's answers to armed faults: as its proxy answers them, an expired session
    in the call's own API."""

    def expired() -> Response:
        if call.api == "jsonrpc":
            return JSONResponse(session_expired().jsonrpc_body(call.rpc_id))
        return invalid_apikey().json2_response()

    return FaultAnswers(too_many=_too_many, server_error=proxy_page, expired=expired)


async def gate(sandbox: Sandbox, call: Call) -> Response | None:
    """Outage, rate limit, latency, faults: the refusal (already recorded), if any."""
    state = sandbox.odoo
    outage = state.outage_status()
    if outage is not None:
        return answer(sandbox.outbox, call, proxy_page(outage), refused=True)
    wait_s = state.limiter.admit(LIMITER_KEY)
    if wait_s is not None:
        return answer(sandbox.outbox, call, _too_many(retry_after_header(wait_s)), refused=True)
    if state.settings.odoo_latency_ms > 0:
        await asyncio.sleep(state.settings.odoo_latency_ms / 1000)
    fault = sandbox.faults.take("odoo") if call.business else None
    if fault is not None:
        response = await fault_answer(fault, _fault_answers(call), state.settings.drop_hold_s)
        if response is not None:
            return answer(sandbox.outbox, call, response, refused=True)
    return None
