"""Chattigo's error answers: Spring Boot's body (``timestamp, status, error, message,
path``), which is what Chattigo's Java services answer."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.responses import JSONResponse
from pydantic import ValidationError


def error(status: int, error: str, message: str, path: str) -> JSONResponse:
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
