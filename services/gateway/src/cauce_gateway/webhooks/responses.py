"""The gateway's answers, and the errors every webhook route maps to a status."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from cauce_gateway.authenticity import NotAuthentic
from cauce_gateway.gateway import Gateway
from cauce_gateway.request_body import BodyTooLarge
from cauce_runtime import PROBLEM_TYPE_BASE, BusUnavailable, problem_response, wiring_of


def accepted(events: int, status_code: int = 200) -> JSONResponse:
    return JSONResponse({"status": "accepted", "events": events}, status_code=status_code)


async def _not_authentic(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(
        401,
        "Not authenticated",
        str(exc),
        type_=PROBLEM_TYPE_BASE + "not-authentic",
        headers={"WWW-Authenticate": "Signature"},
    )


async def _too_large(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyTooLarge)
    return problem_response(
        413, "Payload too large", str(exc), type_=PROBLEM_TYPE_BASE + "payload-too-large"
    )


async def _bus_unavailable(request: Request, exc: Exception) -> JSONResponse:
    retry_after = str(wiring_of(request.app, Gateway).settings.retry_after_s)
    return problem_response(
        503,
        "Event bus unavailable",
        "the event could not be made durable; retry later",
        type_=PROBLEM_TYPE_BASE + "bus-unavailable",
        headers={"Retry-After": retry_after},
    )


def install_webhook_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NotAuthentic, _not_authentic)
    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(BusUnavailable, _bus_unavailable)
