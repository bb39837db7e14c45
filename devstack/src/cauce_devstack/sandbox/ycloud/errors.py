"""YCloud's error answers: ``{"error": {"status", "code", "message", ["target"],
"requestId"}}`` with a ``YCloud-Request-ID`` header, as YCloud answers them."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi.responses import JSONResponse

from cauce_devstack.sandbox.faults import FaultAnswers


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


def _with_retry_after(error: YCloudError, retry_after: int) -> JSONResponse:
    response = error.response()
    response.headers["Retry-After"] = str(retry_after)
    return response


#: YCloud's answers to armed faults.
FAULT_ANSWERS = FaultAnswers(
    too_many=lambda retry_after: _with_retry_after(
        YCloudError(429, "TOO_MANY_REQUESTS", "Too many requests, slow down."), retry_after
    ),
    server_error=lambda status: YCloudError(
        status, "INTERNAL_ERROR", "Internal server error."
    ).response(),
    expired=lambda: YCloudError(401, "UNAUTHORIZED", "Invalid or missing API key.").response(),
)
