"""The WhatsApp Cloud API (Meta Graph) fake: what the notifier sends through, what Meta
posts back to the gateway, and a customer who writes to the business.

Modules here import ``SandboxSettings`` for type checking only: the settings import this
package's templates, so a run-time import would be circular.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cauce_devstack.sandbox.meta import (
    customer,
    media,
    message_templates,
    messages,
    messaging_limits,
    phone_numbers,
    service_window,
    template_controls,
    throughput,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

OPENAPI_TAG: dict[str, Any] = {
    "name": "whatsapp-graph",
    "description": """\
The WhatsApp Cloud API under ``/graph``, with a bearer token per phone_number_id
(``CAUCE_SANDBOX_GRAPH_TOKENS``). Errors are Meta's ``{"error": {"message", "type",
"code", ["error_subcode"], ["error_data"], "fbtrace_id"}}``; clients branch on ``code``:
190 a token problem, 100 a bad parameter, 131009 a parameter value outside Meta's limits,
130429 the throughput limit, 131047 outside the 24 h customer-service window, 132000 /
132001 a template's parameter count / an unknown (or unapproved) template, 132015 /
132016 a paused / disabled template, 1 / 2 transient server trouble. A WhatsApp Business
Account (``CAUCE_SANDBOX_WABA_ID``) owns numbers and message templates
(``/graph/{version}/{waba_id}/message_templates``).""",
}


def install(app: FastAPI) -> None:
    """Mount the Graph fake's routes on ``app`` (its state is the wired ``Sandbox``'s)."""
    app.include_router(media.router)  # before the node route: /graph/media-files/...
    app.include_router(phone_numbers.router)
    app.include_router(message_templates.router)
    app.include_router(messages.router)
    app.include_router(throughput.router)
    app.include_router(service_window.router)
    app.include_router(customer.router)
    app.include_router(template_controls.router)
    app.include_router(messaging_limits.router)


__all__ = ["OPENAPI_TAG", "install"]
