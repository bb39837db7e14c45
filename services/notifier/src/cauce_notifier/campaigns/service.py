"""What the campaign features are made of, built once with the notifier
(:class:`Campaigns`), and their background work: the dispatcher and the template sync."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg
import httpx

from cauce_contracts.subjects import Channel
from cauce_notifier.campaigns.audiences import CrmLeads
from cauce_notifier.campaigns.business_account import BusinessAccountUpdates
from cauce_notifier.campaigns.catalog import TemplateCatalog
from cauce_notifier.campaigns.dispatch import Dispatcher
from cauce_notifier.campaigns.gate import CampaignGate
from cauce_notifier.campaigns.opt_outs import OptOutKeywords
from cauce_notifier.campaigns.pacing import FailureBurst
from cauce_notifier.campaigns.phone_batches import PhoneBatches
from cauce_notifier.campaigns.recipients import RecipientStore
from cauce_notifier.campaigns.starting import CampaignStarter
from cauce_notifier.campaigns.store import CampaignStore
from cauce_notifier.links.shortener import Shortener
from cauce_notifier.providers.whatsapp_cloud import WhatsAppCloudClient
from cauce_notifier.settings import NotifierSettings
from cauce_notifier.store.accounts import AccountStore
from cauce_runtime import BackgroundTask, Publisher

logger = logging.getLogger(__name__)


@dataclass
class Campaigns:
    settings: NotifierSettings
    accounts: AccountStore
    store: CampaignStore
    recipients: RecipientStore
    starter: CampaignStarter
    catalog: TemplateCatalog
    gate: CampaignGate
    dispatcher: Dispatcher
    updates: BusinessAccountUpdates
    opt_outs: OptOutKeywords
    _dispatching: BackgroundTask
    _syncing: BackgroundTask

    @classmethod
    def build(
        cls,
        settings: NotifierSettings,
        *,
        pool: asyncpg.Pool,
        bus: Publisher,
        accounts: AccountStore,
        graph: WhatsAppCloudClient,
        http: httpx.AsyncClient,
        links: Shortener | None = None,
    ) -> Campaigns:
        """``http`` (the notifier's traced client) reads lead audiences from crm-sync."""
        store = CampaignStore(pool)
        recipients = RecipientStore(
            pool,
            settings.contact_key_secret.get_secret_value().encode(),
            PhoneBatches() if settings.campaign_phone_worker else None,
        )
        catalog = TemplateCatalog(pool, graph)
        token = settings.crm_sync_lead_export_token
        starter = CampaignStarter(
            store,
            recipients,
            CrmLeads(
                http,
                settings.crm_sync_url,
                token.get_secret_value() if token else None,
            ),
        )
        dispatcher = Dispatcher(
            pool=pool,
            campaigns=store,
            recipients=recipients,
            catalog=catalog,
            accounts=accounts,
            bus=bus,
            starter=starter,
            rate_share=settings.campaign_rate_share,
            tick_s=settings.campaign_tick_s,
            failure_burst=FailureBurst(
                settings.campaign_failure_window, settings.campaign_failure_threshold
            ),
            prices=settings.rate_card,
            links=links,
        )
        return cls(
            settings=settings,
            accounts=accounts,
            store=store,
            recipients=recipients,
            starter=starter,
            catalog=catalog,
            gate=CampaignGate(pool),
            dispatcher=dispatcher,
            updates=BusinessAccountUpdates(pool, catalog, store),
            opt_outs=OptOutKeywords(pool, settings.opt_out_keywords, settings.opt_in_keywords),
            _dispatching=BackgroundTask("campaign dispatcher"),
            _syncing=BackgroundTask("template sync"),
        )

    async def start(self) -> None:
        """Once the bus is up: dispatch campaigns (on a replica of the ``campaigns``
        send lane), sync templates on the schedule."""
        if "campaigns" in self.settings.send_lanes:
            self._dispatching.start(self.dispatcher.run())
        if self.settings.template_sync_interval_s > 0:
            self._syncing.start(self._sync_forever())

    @property
    def dispatching(self) -> bool:
        """Whether this replica releases campaigns (its send lanes include them)."""
        return self._dispatching.running

    async def stop(self) -> None:
        await self._syncing.stop()
        await self._dispatching.stop()
        if self.recipients.phones is not None:
            await asyncio.to_thread(self.recipients.phones.close)

    async def sync_templates(self, tenant_id: str | None = None) -> int:
        """Sync the templates of ``tenant_id``'s WhatsApp accounts (every tenant's when
        None); how many templates Meta listed."""
        accounts = [a for a in await self.accounts.list(tenant_id) if a.channel is Channel.WHATSAPP]
        report = await self.catalog.sync(accounts)
        return report.templates

    async def _sync_forever(self) -> None:
        while True:
            try:
                await self.sync_templates()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("template sync failed; the next one is on schedule")
            await asyncio.sleep(self.settings.template_sync_interval_s)
