"""Which bot answers each company's customers: the company's setting (``bot``) as the
identity service publishes it in the JetStream KV bucket ``company-settings``, followed
live. A company without an entry gets the vehicle-tax assistant (as before companies
had a say)."""

from __future__ import annotations

import logging

from nats.js.kv import KV_DEL, KV_PURGE, KeyValue
from pydantic import ValidationError

from cauce_contracts.identity import BotMode, CompanySettings

logger = logging.getLogger(__name__)


class CompanyBots:
    def __init__(self, default: BotMode = BotMode.VEHICLE_TAX) -> None:
        self.default = default
        self._modes: dict[str, BotMode] = {}

    def mode_of(self, tenant_id: str) -> BotMode:
        return self._modes.get(tenant_id, self.default)

    def set(self, tenant_id: str, mode: BotMode) -> None:
        self._modes[tenant_id] = mode

    def apply(self, entry: KeyValue.Entry) -> None:
        """An entry of the bucket (a KV watch calls this)."""
        if entry.operation in (KV_DEL, KV_PURGE) or not entry.value:
            self._modes.pop(entry.key, None)
            return
        try:
            self._modes[entry.key] = CompanySettings.model_validate_json(entry.value).bot
        except ValidationError:
            logger.error("company settings of %s are malformed; ignored", entry.key)
