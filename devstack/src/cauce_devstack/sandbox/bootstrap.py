"""The sandbox's bootstrap object: its settings and every fake's state, built once by
``create_app`` (:func:`cauce_devstack.sandbox.app.build_sandbox`) and wired into the app;
route handlers reach it as :data:`SandboxDep`, middleware and tests with
``cauce_runtime.wiring_of(app, Sandbox)``.

The fields' types are imported for type checking only: the route modules import this one
for :data:`SandboxDep`, and the modules defining those types sit in packages whose
``__init__`` imports the route modules, so a run-time import would be circular.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends

from cauce_runtime import wired

if TYPE_CHECKING:
    from cauce_devstack.sandbox.chattigo.state import ChattigoState
    from cauce_devstack.sandbox.faults import FaultBook
    from cauce_devstack.sandbox.gateway_client import GatewayClient
    from cauce_devstack.sandbox.meta.media import MediaLibrary
    from cauce_devstack.sandbox.meta.messaging_limits import MessagingLimits
    from cauce_devstack.sandbox.meta.preferences import MarketingPreferences
    from cauce_devstack.sandbox.meta.service_window import ServiceWindows
    from cauce_devstack.sandbox.meta.status_callbacks import StatusCallbacks
    from cauce_devstack.sandbox.meta.templates import TemplateStore
    from cauce_devstack.sandbox.odoo.state import OdooState
    from cauce_devstack.sandbox.outbox import Outbox
    from cauce_devstack.sandbox.sci.state import SciState
    from cauce_devstack.sandbox.settings import SandboxSettings
    from cauce_devstack.sandbox.throughput import ThroughputLimiter


@dataclass(frozen=True)
class Sandbox:
    """One sandbox app's settings and the state of each fake, fresh at start."""

    settings: SandboxSettings
    #: Every request the fakes received (``/sandbox/outbox``).
    outbox: Outbox
    #: Armed faults (``/sandbox/faults``).
    faults: FaultBook
    #: The one HTTP client the fakes post webhooks to the gateway through.
    gateway_client: GatewayClient
    #: The Graph fake: each WABA's templates, each number's throughput window, the
    #: customer-service windows, the portfolios' messaging limits, the customers'
    #: marketing opt-outs, and the status webhooks of accepted messages.
    graph_templates: TemplateStore
    graph_throughput: ThroughputLimiter
    service_windows: ServiceWindows
    messaging_limits: MessagingLimits
    marketing_preferences: MarketingPreferences
    #: Files customers sent (media nodes and their download URLs).
    media: MediaLibrary
    status_callbacks: StatusCallbacks
    chattigo: ChattigoState
    sci: SciState
    odoo: OdooState


#: What a route handler takes to reach the sandbox wired at start.
SandboxDep = Annotated[Sandbox, Depends(wired(Sandbox))]
