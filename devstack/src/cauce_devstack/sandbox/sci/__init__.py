"""The SCI TOTAL fake: the vehicle-tax collector the payments service looks debts up in
and creates payment links with, and the signed callback it posts when one is paid."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cauce_devstack.sandbox.sci import payment_page, routes

if TYPE_CHECKING:
    from fastapi import FastAPI

OPENAPI_TAG: dict[str, Any] = {
    "name": "sci",
    "description": """\
SCI TOTAL under ``/sci``, with the real API's field names. The two ``/sci/TotalApp/...``
calls need a token from ``/sci/Autenticacion`` (missing, unknown or expired: 401) and the
configured ``idParametro`` (another: 404). Faults armed with ``target: "sci"`` apply to
those two calls only, before the token check: ``latency``, ``429``, ``5xx``,
``token_expired`` (401 whatever token was sent) and ``drop``; so "SCI down twice" means
two failed business calls.

Paying a transaction on its page (``/sci/pay/{transactionId}``) posts the status webhook
the gateway verifies: ``POST {gateway_url}/webhooks/sci`` with ``X-SCI-Signature:
t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "{t}." + raw body)>``, the secret being
``CAUCE_SANDBOX_SCI_WEBHOOK_SECRET``, and a body like ``{"transactionId": "40037",
"status": "APROBADA", "paymentReference": "127-196629", "amount": 954688, "statusDate":
"2025-08-01T15:04:05Z"}``.

Accepted calls are recorded in the outbox with ``provider="sci"`` (logins without the
password).""",
}


def install(app: FastAPI) -> None:
    """Mount the fake's routes on ``app`` (its state is the wired ``Sandbox``'s)."""
    app.include_router(routes.router)
    app.include_router(payment_page.router)
    app.include_router(routes.sandbox_router)


__all__ = ["OPENAPI_TAG", "install"]
