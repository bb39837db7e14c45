"""RFC 9457 problem details (``application/problem+json``) for every service's errors."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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


def install_problem_handlers(app: FastAPI) -> None:
    """Turn HTTPException and request validation errors into problem+json.

    Validation errors list the location and message of each error but never echo
    the submitted value (it may hold a phone number or a token).
    """
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_exception)
