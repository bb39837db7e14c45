"""What the local stack is made of: components, their ports and the services' specs.

Default ports follow DESIGN (gateway 8080 ... notifier 8084, identity 8085, sandbox 8090,
NATS 4222).
PostgreSQL defaults to 55432 and the SecantusDB stand-in to 57017, not 5432/27017, so
the stack starts next to a system PostgreSQL or MongoDB instead of clashing with them.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from cauce_devstack.sandbox.settings import (
    DEV_CHATTIGO_PASSWORD,
    DEV_CHATTIGO_USERNAME,
    DEV_GRAPH_TOKEN,
    DEV_PHONE_NUMBER_ID,
    DEV_SCI_WEBHOOK_SECRET,
    DEV_WABA_ID,
    DEV_YCLOUD_API_KEY,
)

SERVICE_MODULES: dict[str, str] = {
    "gateway": "cauce_gateway",
    "conversation": "cauce_conversation",
    "payments": "cauce_payments",
    "crm-sync": "cauce_crm_sync",
    "notifier": "cauce_notifier",
    "identity": "cauce_identity",
    "console": "cauce_console",
}
INFRA = ("nats", "postgres", "mongo", "sandbox")
COMPONENTS = (*INFRA, *SERVICE_MODULES)

DEFAULT_PORTS: dict[str, int] = {
    "gateway": 8080,
    "conversation": 8081,
    "payments": 8082,
    "crm-sync": 8083,
    "notifier": 8084,
    "identity": 8085,
    "console": 8086,
    "sandbox": 8090,
    "nats": 4222,
    "nats-monitor": 8222,
    "postgres": 55432,
    "mongo": 57017,
}
BASE_PORT_OFFSETS: dict[str, int] = {
    "gateway": 0,
    "conversation": 1,
    "payments": 2,
    "crm-sync": 3,
    "notifier": 4,
    "identity": 5,
    "console": 6,
    "sandbox": 10,
    "nats": 11,
    "nats-monitor": 12,
    "postgres": 13,
    "mongo": 14,
}
BASE_PORT_ENV = "CAUCE_DEVSTACK_BASE_PORT"
HOME_ENV = "CAUCE_DEVSTACK_HOME"


def resolve_ports(
    base_port: int | None = None, overrides: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Every port the stack may bind: DESIGN defaults, or ``base_port`` + a fixed offset
    per component (see ``BASE_PORT_OFFSETS``), then explicit ``overrides`` on top."""
    if base_port is None and os.environ.get(BASE_PORT_ENV):
        base_port = int(os.environ[BASE_PORT_ENV])
    if base_port is None:
        ports = dict(DEFAULT_PORTS)
    else:
        ports = {name: base_port + offset for name, offset in BASE_PORT_OFFSETS.items()}
    for name, port in (overrides or {}).items():
        if name not in ports:
            raise ValueError(f"unknown port name {name!r}; known: {', '.join(sorted(ports))}")
        ports[name] = port
    return ports


@dataclass(frozen=True)
class ServiceSpec:
    """One service process: ``python -m <module>`` unless ``argv`` says otherwise."""

    name: str
    module: str
    port: int
    extra_env: Mapping[str, str] = field(default_factory=dict)
    argv: Sequence[str] | None = None
    health_path: str = "/healthz"
    ready_path: str = "/readyz"

    def command(self) -> list[str]:
        return list(self.argv) if self.argv is not None else [sys.executable, "-m", self.module]


#: The dev tenant and the sandbox's dev WhatsApp number (and its WABA) mapped to it, so a
#: message the sandbox's customer simulator sends, and a template or messaging-limit
#: webhook its controls post, is routed to a tenant out of the box.
DEV_TENANT = "demo"
#: The URL token of the Odoo fake's automation webhook to the gateway (dev only).
DEV_ODOO_WEBHOOK_TOKEN = "dev-only-odoo-webhook-token-0123456789"  # noqa: S105
#: Dev-only ManyChat ``X-API-KEY`` of the dev tenant (``POST /webhooks/manychat/...``).
DEV_MANYCHAT_API_KEY = "dev-only-manychat-api-key"
#: The dev tenant's Chattigo number (``did``) and the token its webhook URL carries
#: (``/webhooks/chattigo/<token>``), and its YCloud number: sends go to the sandbox's
#: Chattigo and YCloud fakes, customers' messages come in as those channels post them.
DEV_CHATTIGO_DID = "573105550200"
DEV_CHATTIGO_URL_TOKEN = "dev-only-chattigo-url-token-0123456789abcdef"  # noqa: S105
DEV_YCLOUD_NUMBER = "573105550300"
#: What signs the YCloud fake's (and the chaos customers') webhooks: the gateway's dev default.
DEV_YCLOUD_WEBHOOK_SECRET = "dev-ycloud-webhook-secret"  # noqa: S105
DEV_SERVICE_ENV: dict[str, dict[str, str]] = {
    "gateway": {
        "CAUCE_WHATSAPP_ACCOUNTS": json.dumps(
            [
                {
                    "account_id": DEV_PHONE_NUMBER_ID,
                    "tenant_id": DEV_TENANT,
                    "business_account_id": DEV_WABA_ID,
                }
            ]
        ),
        # The Odoo fake's automation rule posts the leads people edit there.
        "CAUCE_ODOO_WEBHOOK_TENANTS": json.dumps(
            [{"tenant_id": DEV_TENANT, "url_token": DEV_ODOO_WEBHOOK_TOKEN}]
        ),
        # The sandbox's SCI fake signs payment callbacks with this dev secret.
        "CAUCE_SCI_TENANTS": json.dumps(
            [{"tenant_id": DEV_TENANT, "webhook_secret": DEV_SCI_WEBHOOK_SECRET}]
        ),
        "CAUCE_MANYCHAT_TENANTS": json.dumps(
            [{"tenant_id": DEV_TENANT, "api_key": DEV_MANYCHAT_API_KEY}]
        ),
        "CAUCE_CHATTIGO_ACCOUNTS": json.dumps(
            [
                {
                    "account_id": DEV_CHATTIGO_DID,
                    "tenant_id": DEV_TENANT,
                    "url_token": DEV_CHATTIGO_URL_TOKEN,
                }
            ]
        ),
        "CAUCE_YCLOUD_ACCOUNTS": json.dumps(
            [{"account_id": DEV_YCLOUD_NUMBER, "tenant_id": DEV_TENANT}]
        ),
    },
    "crm-sync": {
        # the sales stage and notes people set in the Odoo fake flow back into cauce
        "CAUCE_ODOO_CONTACT_ODOO_FIELDS": json.dumps(["x_etapa", "x_notas"]),
    },
    "conversation": {
        # appointments booked on a chat are reminded with the sandbox's template
        "CAUCE_APPOINTMENT_REMINDER_TEMPLATE": json.dumps(
            {"name": "recordatorio_cita", "language": "es"}
        ),
        # the notifier sends agents' next-day replies as its out-of-window template
        "CAUCE_LATE_REPLIES_AS_TEMPLATE": "true",
    },
    "notifier": {
        # customers' files are downloaded from the sandbox, on 127.0.0.1
        "CAUCE_MEDIA_ALLOW_PRIVATE_HOSTS": "true",
        # crm-sync's dev lead-export token: campaigns whose audience is a segment of leads
        "CAUCE_CRM_SYNC_LEAD_EXPORT_TOKEN": "dev-lead-export-token",
        # late payment confirmations and agents' next-day replies go as this template
        "CAUCE_OUT_OF_WINDOW_TEMPLATE": json.dumps(
            {"name": "mensaje_fuera_de_ventana", "language": "es"}
        ),
        "CAUCE_ACCOUNTS": json.dumps(
            [
                {
                    "tenant_id": DEV_TENANT,
                    "channel": "whatsapp",
                    "account_id": DEV_PHONE_NUMBER_ID,
                    "display_name": "sandbox WhatsApp number",
                    # the sandbox's dev WABA: its templates are the campaigns'
                    "business_account_id": DEV_WABA_ID,
                    "credentials": {"access_token": DEV_GRAPH_TOKEN},
                },
                {
                    "tenant_id": DEV_TENANT,
                    "channel": "chattigo",
                    "account_id": DEV_CHATTIGO_DID,
                    "display_name": "sandbox Chattigo number",
                    "credentials": {
                        "username": DEV_CHATTIGO_USERNAME,
                        "password": DEV_CHATTIGO_PASSWORD,
                    },
                },
                {
                    "tenant_id": DEV_TENANT,
                    "channel": "ycloud",
                    "account_id": DEV_YCLOUD_NUMBER,
                    "display_name": "sandbox YCloud number",
                    "credentials": {"api_key": DEV_YCLOUD_API_KEY},
                },
            ]
        ),
    },
}


def default_services(ports: Mapping[str, int]) -> list[ServiceSpec]:
    return [
        ServiceSpec(name, module, ports[name], extra_env=_dev_env(name, ports))
        for name, module in SERVICE_MODULES.items()
    ]


def second_replica(spec: ServiceSpec, port: int) -> ServiceSpec:
    """Another process of ``spec``'s service (``<name>-2`` on ``port``), configured alike:
    consumers share the work, as two pods of a Deployment do."""
    return replace(spec, name=f"{spec.name}-2", port=port)


def _dev_env(name: str, ports: Mapping[str, int]) -> dict[str, str]:
    env = dict(DEV_SERVICE_ENV.get(name, {}))
    if name == "conversation":
        # the sandbox fetches the files agents send from the conversation itself
        env["CAUCE_MEDIA_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{ports['conversation']}"
    if name == "console":
        # the services it calls for the signed-in user; cookies over plain http locally
        for service in ("identity", "conversation", "notifier"):
            env[f"CAUCE_{service.upper()}_URL"] = f"http://127.0.0.1:{ports[service]}"
        env["CAUCE_SECURE_COOKIES"] = "false"
    return env


@dataclass(frozen=True)
class StackConfig:
    """Everything ``Stack`` needs; build it with :meth:`create` for the usual defaults."""

    home: Path
    ports: Mapping[str, int]
    components: frozenset[str]
    services: Sequence[ServiceSpec]
    mongodb_url: str | None = None
    health_timeout: float = 60.0

    @classmethod
    def create(
        cls,
        home: Path | None = None,
        *,
        base_port: int | None = None,
        port_overrides: Mapping[str, int] | None = None,
        only: Sequence[str] | None = None,
        services: Sequence[ServiceSpec] | None = None,
        mongodb_url: str | None = None,
        health_timeout: float = 60.0,
    ) -> StackConfig:
        ports = resolve_ports(base_port, port_overrides)
        unknown = set(only or ()) - set(COMPONENTS) - {s.name for s in services or ()}
        if unknown:
            raise ValueError(
                f"unknown component(s) {', '.join(sorted(unknown))}; known: {', '.join(COMPONENTS)}"
            )
        specs = list(services) if services is not None else default_services(ports)
        wanted = frozenset(only) if only else frozenset((*INFRA, *(s.name for s in specs)))
        home = home or Path(os.environ.get(HOME_ENV) or Path.cwd() / ".cauce")
        return cls(
            home=home.resolve(),
            ports=ports,
            components=wanted,
            services=[s for s in specs if s.name in wanted],
            mongodb_url=mongodb_url,
            health_timeout=health_timeout,
        )

    def wants(self, component: str) -> bool:
        return component in self.components

    def with_services(self, services: Sequence[ServiceSpec]) -> StackConfig:
        names = frozenset(s.name for s in services)
        return replace(self, services=list(services), components=self.components | names)

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def span_file(self) -> Path:
        return self.home / "traces" / "spans.jsonl"
