"""How a failed exchange with Odoo becomes one of :mod:`cauce_crm_sync.odoo.errors`'
classes: the one place where both API styles are classified.

- Odoo's own errors (a JSON-RPC envelope's ``error.data``, a JSON-2 error body) are
  judged by the exception's fully qualified ``name`` only. The numeric ``code`` of a
  JSON-RPC error differs across Odoo versions and is never read.
- A named exception is a refusal (:class:`OdooRejected`) unless it is listed below as
  retryable or as a credentials problem: Odoo rolled the transaction back, so a
  refused call was not applied.
- HTTP answers without an Odoo error body come from Odoo's front or a proxy: 429 and
  5xx are retryable; 502/504 may hide a call Odoo carried out (the proxy gave up
  waiting), 503/429 mean it was turned away.
- Transport failures: nothing was sent if the connection was never made; after the
  request went out (read timeout, dropped connection) Odoo may have applied it.
"""

from __future__ import annotations

from typing import Any

import httpx

from cauce_crm_sync.odoo.errors import (
    OdooCredentialsRejected,
    OdooError,
    OdooOutcomeUnknown,
    OdooRejected,
    OdooUnavailable,
)
from cauce_runtime import retry_after_of, transport_failure

#: JSON-RPC: the server no longer knows our session; log in again once and repeat.
SESSION_EXPIRED = "odoo.http.SessionExpiredException"
#: Our login, password or API key was refused.
CREDENTIALS_NAMES = frozenset({"odoo.exceptions.AccessDenied", "werkzeug.exceptions.Unauthorized"})
#: Named server exceptions that say "not now" rather than "not this": an expired
#: session, or a transaction rolled back by a concurrent update (Odoo retries these
#: itself a few times before giving up) or a lost database connection.
RETRYABLE_NAMES = frozenset(
    {
        SESSION_EXPIRED,
        "psycopg2.errors.SerializationFailure",
        "psycopg2.errors.DeadlockDetected",
        "psycopg2.errors.LockNotAvailable",
        "psycopg2.extensions.TransactionRollbackError",
        "psycopg2.OperationalError",
        # JSON-2 with a wrong X-Odoo-Database: a configuration mistake, not bad data.
        "werkzeug.exceptions.NotFound",
    }
)
#: Odoo's messages can be long (and may quote a value): this much is kept.
MESSAGE_LIMIT = 300


def clip(message: str) -> str:
    """Odoo's message cut to :data:`MESSAGE_LIMIT` characters."""
    return message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 3] + "..."


def from_odoo_error(name: str | None, message: str, *, status: int | None = None) -> OdooError:
    """An error Odoo itself reported, judged by its exception ``name`` alone."""
    text = clip(message or "(no message)")
    if not name:
        # An error without a name says nothing about our data: do not dead-letter on it.
        return OdooUnavailable(text, http_status=status)
    if name in CREDENTIALS_NAMES:
        return OdooCredentialsRejected(text, code=name, http_status=status)
    if name in RETRYABLE_NAMES:
        return OdooUnavailable(text, code=name, http_status=status)
    return OdooRejected(text, code=name, http_status=status)


def odoo_error_of(body: Any) -> tuple[str | None, str] | None:
    """``(name, message)`` of an Odoo error in a decoded body of either style, or None.

    JSON-RPC: ``{"error": {"code": .., "message": .., "data": {"name": .., "message": ..}}}``;
    JSON-2: ``{"name": .., "message": .., ...}``.
    """
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        data = error.get("data")
        data = data if isinstance(data, dict) else {}
        name = data.get("name")
        message = data.get("message") or error.get("message") or ""
        return (name if isinstance(name, str) else None), str(message)
    name = body.get("name")
    if isinstance(name, str) and name:
        return name, str(body.get("message") or "")
    return None


def from_response(response: httpx.Response) -> OdooError:
    """An HTTP answer that is not a success of its API style (any status)."""
    status = response.status_code
    retry_after = retry_after_of(response.headers)
    if status == 429:
        return OdooUnavailable(
            "Odoo is rate limiting us (429)", http_status=status, retry_after=retry_after
        )
    try:
        odoo_error = odoo_error_of(response.json())
    except ValueError:
        odoo_error = None
    if status == 401:
        message = odoo_error[1] if odoo_error and odoo_error[1] else "Odoo refused our credentials"
        name = odoo_error[0] if odoo_error else None
        return OdooCredentialsRejected(clip(message), code=name, http_status=status)
    if odoo_error is not None and odoo_error[0]:
        return from_odoo_error(odoo_error[0], odoo_error[1], status=status)
    if status >= 500:
        # The gateway gave up waiting (502/504) or the server broke mid-call: Odoo may
        # have done it. 503 means it was turned away at the door.
        failed = OdooUnavailable if status == 503 else OdooOutcomeUnknown
        return failed(f"Odoo answered HTTP {status}", http_status=status, retry_after=retry_after)
    if status >= 400:
        # A 4xx without Odoo's error body is not Odoo judging our data (a wrong URL, a
        # proxy's refusal): a configuration problem, retried rather than dead-lettered.
        return OdooUnavailable(
            f"Odoo answered HTTP {status} without an Odoo error", http_status=status
        )
    return unreadable(status)


def from_transport(exc: httpx.RequestError) -> OdooUnavailable:
    """A request that got no HTTP answer: unreachable, or an unknown outcome once the
    request left. The metric code is ``type(exc).__name__`` (raise this ``from exc``)."""
    failure = transport_failure(
        exc, remote="Odoo", not_sent=OdooUnavailable, sent=OdooOutcomeUnknown
    )
    assert isinstance(failure, OdooUnavailable)
    return failure


def unreadable(status: int, what: str = "Odoo's answer is not readable") -> OdooUnavailable:
    """Odoo answered, but not in a shape we understand: it may have done the call."""
    return OdooOutcomeUnknown(what, http_status=status)


def error_code(error: OdooError) -> str:
    """The short code of a failure for metrics and logs: Odoo's exception name
    (``ValidationError``), the transport failure (``ReadTimeout``), or the HTTP status."""
    if isinstance(error.__cause__, httpx.RequestError):
        return type(error.__cause__).__name__
    if error.code:
        return error.short_name
    if error.http_status is not None and error.http_status >= 400:
        return str(error.http_status)
    return "bad_reply"
