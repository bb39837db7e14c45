"""YCloud's error answers: ``{"error": {"status", "code", "message", ["target"],
"requestId"}}`` with a ``YCloud-Request-ID`` header, as YCloud answers them."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi.responses import JSONResponse


class YCloudError(Exception):
    def __init__(self, status: int, code: str, message: str, target: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target

    def response(self) -> JSONResponse:
        request_id = "req_" + secrets.token_urlsafe(15)
        error: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        error["requestId"] = request_id
        return JSONResponse(
            {"error": error}, status_code=self.status, headers={"YCloud-Request-ID": request_id}
        )


def param_invalid(message: str, target: str | None = None) -> YCloudError:
    return YCloudError(400, "PARAM_INVALID", message, target)
