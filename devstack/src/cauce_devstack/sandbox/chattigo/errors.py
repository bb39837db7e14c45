"""Chattigo's error answers: Spring Boot's body (``timestamp, status, error, message,
path``), which is what Chattigo's Java services answer."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus

from fastapi.responses import JSONResponse
from pydantic import ValidationError

from cauce_devstack.sandbox.faults import FaultAnswers


def error(
    status: int, error: str, message: str, path: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Spring Boot's error body."""
    return JSONResponse(
        {
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "status": status,
            "error": error,
            "message": message,
            "path": path,
        },
        status_code=status,
        headers=headers,
    )


def unauthorized(path: str) -> JSONResponse:
    return error(401, "Unauthorized", "Full authentication is required or token expired", path)


def bad_request(invalid: ValidationError | str, path: str) -> JSONResponse:
    if isinstance(invalid, str):
        return error(400, "Bad Request", invalid, path)
    first = invalid.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return error(400, "Bad Request", f"{where}: {message}" if where else message, path)


def fault_answers(path: str) -> FaultAnswers:
    """Chattigo's answers to armed faults on ``path``."""
    return FaultAnswers(
        too_many=lambda retry_after: error(
            429,
            "Too Many Requests",
            "Rate limit exceeded",
            path,
            headers={"Retry-After": str(retry_after)},
        ),
        server_error=lambda status: error(
            status, HTTPStatus(status).phrase, "Internal error processing the message", path
        ),
        expired=lambda: unauthorized(path),
    )
