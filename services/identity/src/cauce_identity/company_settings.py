"""Each company's settings other services act on, published in the JetStream KV bucket
``company-settings`` (:mod:`cauce_contracts.identity`): today which bot answers its
numbers, followed live by the conversation service. The bucket mirrors the companies
table (:class:`~cauce_runtime.bus.BucketMirror`): a change through the API is written at
once, everything again every ``reconcile_s``."""

from __future__ import annotations

from cauce_contracts.identity import COMPANY_SETTINGS_BUCKET, CompanySettings
from cauce_identity.store import CompanyStore
from cauce_runtime import Bus
from cauce_runtime.bus import BucketMirror


class CompanySettingsMirror(BucketMirror):
    def __init__(self, companies: CompanyStore, bus: Bus, *, reconcile_s: float = 300.0) -> None:
        super().__init__(bus, COMPANY_SETTINGS_BUCKET, self._settings, reconcile_s=reconcile_s)
        self.companies = companies

    async def _settings(self) -> dict[str, bytes]:
        return {
            company.id: CompanySettings(bot=company.bot).model_dump_json().encode()
            for company in await self.companies.list()
        }
