"""The Chattigo fake: the BSP the notifier sends WhatsApp messages through when a tenant
uses Chattigo, with its JWT logins that expire mid-run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cauce_devstack.sandbox.chattigo import routes

if TYPE_CHECKING:
    from fastapi import FastAPI

OPENAPI_TAG: dict[str, Any] = {
    "name": "chattigo",
    "description": """\
The Chattigo BSP under ``/chattigo``. Errors use Spring Boot's shape (``timestamp, status,
error, message, path``), which is what Chattigo's Java services answer. Accepted logins,
sends and registrations are recorded in the outbox with ``provider="chattigo"`` (logins
without the password).""",
}


def install(app: FastAPI) -> None:
    """Mount the fake's routes on ``app`` (its state is the wired ``Sandbox``'s)."""
    app.include_router(routes.router)
    app.include_router(routes.sandbox_router)


__all__ = ["OPENAPI_TAG", "install"]
