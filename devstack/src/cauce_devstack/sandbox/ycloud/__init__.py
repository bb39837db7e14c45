"""The YCloud fake: the BSP the notifier sends WhatsApp messages through when a tenant
uses YCloud, which wraps Meta's content objects in its own envelope."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cauce_devstack.sandbox.ycloud import routes

if TYPE_CHECKING:
    from fastapi import FastAPI

OPENAPI_TAG: dict[str, Any] = {
    "name": "ycloud",
    "description": """\
YCloud's WhatsApp API under ``/ycloud``, with the content objects checked as the Graph
fake checks Meta's. Errors are YCloud's: ``{"error": {"status", "code", "message",
["target"], "requestId"}}`` with a ``YCloud-Request-ID`` header. Accepted requests go to
the outbox with ``provider="ycloud"``.""",
}


def install(app: FastAPI) -> None:
    """Mount the fake's routes on ``app`` (it reads the wired ``Sandbox``'s settings and
    outbox)."""
    app.include_router(routes.router)


__all__ = ["OPENAPI_TAG", "install"]
