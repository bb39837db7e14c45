"""Odoo server errors, as both API styles answer them. An error is named by its fully
qualified Python exception, because clients classify by that name only: the numeric
JSON-RPC ``code`` differs across Odoo versions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi.responses import JSONResponse

ACCESS_DENIED = "odoo.exceptions.AccessDenied"
ACCESS_ERROR = "odoo.exceptions.AccessError"
MISSING_ERROR = "odoo.exceptions.MissingError"
VALIDATION_ERROR = "odoo.exceptions.ValidationError"
USER_ERROR = "odoo.exceptions.UserError"
VALUE_ERROR = "builtins.ValueError"
TYPE_ERROR = "builtins.TypeError"
KEY_ERROR = "builtins.KeyError"
ATTRIBUTE_ERROR = "builtins.AttributeError"
SERVER_ERROR = "builtins.Exception"
SESSION_EXPIRED = "odoo.http.SessionExpiredException"
OPERATIONAL_ERROR = "psycopg2.OperationalError"
UNAUTHORIZED = "werkzeug.exceptions.Unauthorized"
NOT_FOUND = "werkzeug.exceptions.NotFound"
BAD_REQUEST = "werkzeug.exceptions.BadRequest"

#: JSON-2 HTTP status per exception name (others: 500).
JSON2_STATUS = {
    UNAUTHORIZED: 401,
    SESSION_EXPIRED: 401,
    ACCESS_DENIED: 403,
    ACCESS_ERROR: 403,
    MISSING_ERROR: 404,
    NOT_FOUND: 404,
    BAD_REQUEST: 400,
    VALIDATION_ERROR: 422,
    USER_ERROR: 422,
    VALUE_ERROR: 422,
    TYPE_ERROR: 422,
    ATTRIBUTE_ERROR: 422,
    KEY_ERROR: 422,
}


class OdooError(Exception):
    """An exception the fake Odoo server raises while serving a call."""

    def __init__(self, name: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.status = status if status is not None else JSON2_STATUS.get(name, 500)

    def data(self) -> dict[str, Any]:
        """``serialize_exception``'s shape (a stand-in traceback in ``debug``)."""
        return {
            "name": self.name,
            "debug": (
                "Traceback (most recent call last):\n"
                '  File "cauce-sandbox/odoo", line 1, in <fake>\n'
                f"{self.name}: {self.message}\n"
            ),
            "message": self.message,
            "arguments": [self.message],
            "context": {},
        }

    def jsonrpc_body(self, rpc_id: Any) -> dict[str, Any]:
        expired = self.name == SESSION_EXPIRED
        return {
            "jsonrpc": "2.0",
            "id": rpc_id,
            "error": {
                "code": 100 if expired else 200,
                "message": "Odoo Session Expired" if expired else "Odoo Server Error",
                "data": self.data(),
            },
        }

    def json2_body(self) -> dict[str, Any]:
        data = self.data()
        return {key: data[key] for key in ("name", "message", "arguments", "context", "debug")}

    def json2_response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": "bearer"} if self.status == 401 else None
        return JSONResponse(self.json2_body(), status_code=self.status, headers=headers)


def access_denied() -> OdooError:
    return OdooError(ACCESS_DENIED, "Access Denied")


def access_error(model: str) -> OdooError:
    return OdooError(ACCESS_ERROR, f"You are not allowed to access '{model}' records.")


def missing_error(model: str, ids: Iterable[int], uid: int) -> OdooError:
    return OdooError(
        MISSING_ERROR,
        f"Record does not exist or has been deleted.\n(Record: {model}{tuple(ids)!r}, User: {uid})",
    )


def invalid_field(field: str, model: str) -> OdooError:
    return OdooError(VALUE_ERROR, f"Invalid field {field!r} on model {model!r}")


def validation_error(message: str) -> OdooError:
    return OdooError(VALIDATION_ERROR, message)


def value_error(message: str) -> OdooError:
    return OdooError(VALUE_ERROR, message)


def type_error(message: str) -> OdooError:
    return OdooError(TYPE_ERROR, message)


def session_expired() -> OdooError:
    return OdooError(SESSION_EXPIRED, "Session expired")


def invalid_apikey() -> OdooError:
    return OdooError(UNAUTHORIZED, "Invalid apikey")


def serving(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, any unexpected Python exception reported as Odoo reports it (a
    named server error) rather than as a crash of the fake."""
    try:
        return fn(*args)
    except OdooError:
        raise
    except Exception as exc:
        raise OdooError(f"builtins.{type(exc).__name__}", str(exc)) from exc


def unknown_database(db: str) -> OdooError:
    """What a self-hosted Odoo answers when the registry of ``db`` cannot be opened."""
    return OdooError(
        OPERATIONAL_ERROR,
        'connection to server at "127.0.0.1", port 5432 failed: '
        f'FATAL:  database "{db}" does not exist',
    )
