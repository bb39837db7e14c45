"""The WhatsApp Cloud API (Meta Graph) fake: what the notifier sends through, what Meta
posts back to the gateway, and a customer who writes to the business.

Modules here import ``SandboxSettings`` for type checking only: the settings import this
package's templates, so a run-time import would be circular.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cauce_devstack.sandbox.meta import (
    customer,
    message_templates,
    messages,
    messaging_limits,
    phone_numbers,
    service_window,
    template_controls,
    throughput,
)
from cauce_devstack.sandbox.meta.accounts import template_store
from cauce_devstack.sandbox.meta.messaging_limits import MessagingLimits
from cauce_devstack.sandbox.meta.preferences import MarketingPreferences
from cauce_devstack.sandbox.meta.service_window import ServiceWindows
from cauce_devstack.sandbox.meta.status_callbacks import StatusCallbacks
from cauce_devstack.sandbox.throughput import ThroughputLimiter

if TYPE_CHECKING:
    from fastapi import FastAPI

    from cauce_devstack.sandbox.settings import SandboxSettings

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
    """Mount the Graph fake and its state (throughput, windows, status callbacks) on
    ``app``, whose ``state.settings``, outbox, faults and gateway client exist; pending
    status callbacks are cancelled on app shutdown."""
    settings: SandboxSettings = app.state.settings
    app.state.graph_throughput = ThroughputLimiter(
        settings.graph_rate_limit_per_second,
        settings.graph_rate_limits,
        enforced=settings.graph_rate_limit_enforced,
    )
    app.state.service_windows = ServiceWindows(settings.service_window_hours)
    app.state.graph_templates = template_store(settings)
    app.state.messaging_limits = MessagingLimits(settings.messaging_limit)
    app.state.marketing_preferences = MarketingPreferences()
    callbacks = StatusCallbacks(settings, app.state.gateway_client)
    app.state.status_callbacks = callbacks
    app.router.on_shutdown.append(callbacks.aclose)
    app.include_router(phone_numbers.router)
    app.include_router(message_templates.router)
    app.include_router(messages.router)
    app.include_router(throughput.router)
    app.include_router(service_window.router)
    app.include_router(customer.router)
    app.include_router(template_controls.router)
    app.include_router(messaging_limits.router)


__all__ = ["OPENAPI_TAG", "install"]
