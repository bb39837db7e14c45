"""The fake Odoo of one sandbox app: its records, its rate limiter, an outage, the
credentials it accepts, and its automation webhook to cauce when one is configured."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cauce_devstack.sandbox.odoo.automation import AutomationWebhook
from cauce_devstack.sandbox.odoo.errors import unknown_database
from cauce_devstack.sandbox.odoo.records import OdooRecords
from cauce_devstack.sandbox.throughput import ThroughputLimiter

if TYPE_CHECKING:
    from cauce_devstack.sandbox.gateway_client import GatewayClient
    from cauce_devstack.sandbox.settings import SandboxSettings

#: The limiter's one key: the rate limit counts every Odoo request, whoever sends it.
LIMITER_KEY = "odoo"


@dataclass
class Outage:
    status: int
    ends_at: float
    """``time.monotonic()`` when it ends."""


class OdooState:
    """The fake Odoo of one sandbox app: records, rate limiter, outage, credentials."""

    def __init__(self, settings: SandboxSettings, gateway: GatewayClient | None = None) -> None:
        self.settings = settings
        self.records = OdooRecords(settings.odoo_models, settings.odoo_uid)
        #: The automation rule posting changed records to cauce, when one is configured.
        self.automation: AutomationWebhook | None = None
        if settings.odoo_webhook_url and gateway is not None:
            self.automation = AutomationWebhook(
                settings.odoo_webhook_url, settings.odoo_webhook_models, self.records, gateway
            )
            self.records.on_written = self.automation.written
        self.limiter = ThroughputLimiter(
            settings.odoo_rate_limit_per_second, enforced=settings.odoo_rate_limit_enforced
        )
        self.outage: Outage | None = None

    def outage_status(self) -> int | None:
        if self.outage is not None and self.outage.ends_at <= time.monotonic():
            self.outage = None
        return self.outage.status if self.outage else None

    def password_ok(self, secret: Any) -> bool:
        """``odoo_password`` or an API key (Odoo takes either as the RPC password)."""
        return isinstance(secret, str) and (
            matches(secret, [self.settings.odoo_password.get_secret_value()])
            or self.api_key_ok(secret)
        )

    def api_key_ok(self, key: str) -> bool:
        return matches(key, [k.get_secret_value() for k in self.settings.odoo_api_keys])

    def check_db(self, db: Any) -> None:
        if db != self.settings.odoo_db:
            raise unknown_database(str(db))

    def version_info(self) -> list[Any]:
        major, minor = (int(part) for part in self.settings.odoo_version.split("."))
        return [major, minor, 0, "final", 0, ""]


def matches(given: str, accepted: list[str]) -> bool:
    # Compare against every candidate: no early exit that would time which one matched.
    results = [hmac.compare_digest(given.encode(), value.encode()) for value in accepted]
    return any(results)
