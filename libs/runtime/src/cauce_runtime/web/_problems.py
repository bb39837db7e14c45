"""RFC 9457 problem details (``application/problem+json``) for every service's errors."""

from __future__ import annotations

import importlib.util
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
#: Base of our problem ``type`` URIs; ``about:blank`` means "see the status code".
PROBLEM_TYPE_BASE = "https://cauce.dev/problems/"


def problem_response(
    status: int,
    title: str | None = None,
    detail: str | None = None,
    type_: str = "about:blank",
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response; ``extra`` members are added to the body as-is."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail is not None:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    extra: dict[str, Any] = (
        {} if isinstance(exc.detail, str) or exc.detail is None else {"errors": exc.detail}
    )
    return problem_response(
        exc.status_code,
        detail=detail,
        headers=dict(exc.headers) if exc.headers else None,
        instance=request.url.path,
        **extra,
    )


async def _validation_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]
    return problem_response(
        422,
        title="Request validation failed",
        detail=f"{len(errors)} invalid field(s)",
        type_=PROBLEM_TYPE_BASE + "validation",
        instance=request.url.path,
        errors=errors,
    )


async def _unstorable_value(request: Request, exc: Exception) -> JSONResponse:
    """PostgreSQL refused a value the request carried (SQLSTATE class 22, "data
    exception": a NUL character in text, a number out of its column's range...). The
    request is what is wrong, so it is a 422, not a server error; the value is neither
    echoed nor logged (it may be personal), only what kind of value it was."""
    sqlstate = getattr(exc, "sqlstate", None)
    logger.warning(
        "PostgreSQL refused a value of %s %s: %s (%s)",
        request.method,
        request.url.path,
        type(exc).__name__,
        sqlstate,
    )
    return problem_response(
        422,
        title="Value cannot be stored",
        detail="a value in the request cannot be stored (text with a NUL character, a "
        "number out of range, or the like)",
        type_=PROBLEM_TYPE_BASE + "unstorable-value",
        instance=request.url.path,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Turn HTTPException and request validation errors into problem+json, and so a
    value PostgreSQL refuses (asyncpg's ``DataError``, when asyncpg is installed).

    Validation errors list the location and message of each error but never echo
    the submitted value (it may hold a phone number or a token).
    """
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_exception)
    if importlib.util.find_spec("asyncpg") is not None:
        from asyncpg.exceptions import DataError

        app.add_exception_handler(DataError, _unstorable_value)
