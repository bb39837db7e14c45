"""SCI TOTAL's error answers: ``{"message"}`` bodies, and ASP.NET's 401 for a missing or
dead token."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import ValidationError


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, **extra}, status_code=status)


def unauthorized() -> JSONResponse:
    return JSONResponse(
        {"message": "Authorization has been denied for this request."},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def validation_message(invalid: ValidationError) -> str:
    first = invalid.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])
