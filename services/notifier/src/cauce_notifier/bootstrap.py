"""The notifier's bootstrap object: settings, bus, PostgreSQL pool and stores, the
provider clients and the deliverer, built once at start (:meth:`Notifier.build`); the
operator APIs reach it as :data:`NotifierDep`, the consumers are declared over it."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Annotated

import asyncpg
import httpx
from fastapi import Depends

from cauce_contracts.media import MEDIA_BUCKET
from cauce_contracts.subjects import Channel
from cauce_notifier.accounts_model import CREDENTIALS_MODELS
from cauce_notifier.campaigns.service import Campaigns
from cauce_notifier.channel_routes import ChannelRoutes
from cauce_notifier.credentials_check import CredentialsTester, check_with_provider
from cauce_notifier.delivery import Deliverer
from cauce_notifier.links.shortener import Shortener
from cauce_notifier.links.store import ShortLinkStore
from cauce_notifier.media.downloads import MediaDownloader, MediaLimits
from cauce_notifier.media.fetcher import MediaFetcher
from cauce_notifier.providers import ProviderClient
from cauce_notifier.providers.chattigo import ChattigoClient
from cauce_notifier.providers.whatsapp_cloud import WhatsAppCloudClient
from cauce_notifier.providers.ycloud import YCloudClient
from cauce_notifier.rate_limit import PairBackoff, SendRateLimiter
from cauce_notifier.service_window import LateTemplate, ServiceWindows
from cauce_notifier.settings import NotifierSettings
from cauce_notifier.statuses import StatusTracker
from cauce_notifier.store.accounts import AccountStore, DuplicateAccount
from cauce_notifier.store.messages import MessageStore
from cauce_notifier.store.migrations import migrate
from cauce_runtime import Bus, postgres, traced_http_client, wired
from cauce_runtime.bus import FileStore
from cauce_runtime.credentials import CredentialsCipher

logger = logging.getLogger(__name__)


@dataclass
class Notifier:
    settings: NotifierSettings
    bus: Bus
    #: Opened (and migrated) by :meth:`open`, before the bus starts.
    pool: asyncpg.Pool
    cipher: CredentialsCipher
    accounts: AccountStore
    messages: MessageStore
    #: The provider clients' shared HTTP client.
    http: httpx.AsyncClient
    providers: dict[Channel, ProviderClient]
    windows: ServiceWindows
    deliverer: Deliverer
    statuses: StatusTracker
    campaigns: Campaigns
    #: Short links (None without CAUCE_SHORT_LINK_BASE_URL).
    links: Shortener | None
    #: Checks an account's credentials live (the admin API's test); None answers 501.
    credentials_tester: CredentialsTester | None
    #: The accounts' routes, published for the gateway (JetStream KV).
    channel_routes: ChannelRoutes
    #: Customers' files into the ``media`` object store.
    media: MediaFetcher

    @classmethod
    def build(cls, settings: NotifierSettings, *, bus: Bus | None = None) -> Notifier:
        """Everything built, nothing connected yet (asyncpg returns the pool unopened)."""
        pool = postgres.create_pool(settings.postgres_url, settings.postgres_pool_size)
        cipher = settings.credentials_cipher()
        accounts = AccountStore(pool, cipher, cache_ttl_s=settings.account_cache_s)
        messages = MessageStore(pool)
        http = traced_http_client(timeout=settings.provider_timeout_s)
        providers = provider_clients(settings, http)
        bus = bus or Bus(settings)
        windows = ServiceWindows(pool)
        graph = providers[Channel.WHATSAPP]
        assert isinstance(graph, WhatsAppCloudClient)
        links = (
            Shortener(
                settings.short_link_base_url,
                settings.contact_key_secret.get_secret_value().encode(),
                ShortLinkStore(pool),
            )
            if settings.short_link_base_url
            else None
        )
        campaigns = Campaigns.build(
            settings, pool=pool, bus=bus, accounts=accounts, graph=graph, http=http, links=links
        )
        deliverer = build_deliverer(
            settings, pool, bus, accounts, messages, providers, windows, campaigns, links
        )
        return cls(
            settings=settings,
            bus=bus,
            pool=pool,
            cipher=cipher,
            accounts=accounts,
            messages=messages,
            http=http,
            providers=providers,
            windows=windows,
            deliverer=deliverer,
            statuses=StatusTracker(bus, messages),
            campaigns=campaigns,
            links=links,
            credentials_tester=functools.partial(check_with_provider, providers),
            channel_routes=ChannelRoutes(
                accounts, bus, reconcile_s=settings.channel_routes_reconcile_s
            ),
            media=MediaFetcher(
                bus, accounts, media_downloader(settings, http), FileStore(bus, MEDIA_BUCKET)
            ),
        )

    async def open(self) -> None:
        """Before the bus starts: the pool open, the schema migrated, credentials
        re-encrypted with the active key, the declared accounts created."""
        await self.pool  # asyncpg: awaiting a pool opens it
        applied = await migrate(self.pool)
        if applied:
            logger.info("notifier schema migrated to version %d", max(applied))
        rotated = await self.accounts.reencrypt_all()
        if rotated:
            logger.info("re-encrypted %d channel credentials with key %s", rotated, self.cipher)
        await declare_accounts(self.settings, self.accounts)

    async def close(self) -> None:
        """After the bus stopped and its consumers finished."""
        await self.http.aclose()
        await self.pool.close()


def build_deliverer(
    settings: NotifierSettings,
    pool: asyncpg.Pool,
    bus: Bus,
    accounts: AccountStore,
    messages: MessageStore,
    providers: dict[Channel, ProviderClient],
    windows: ServiceWindows,
    campaigns: Campaigns,
    links: Shortener | None,
) -> Deliverer:
    return Deliverer(
        bus=bus,
        accounts=accounts,
        messages=messages,
        providers=providers,
        limiter=SendRateLimiter(
            pool,
            max_wait_s=settings.send_max_wait_s,
            headroom=settings.send_rate_headroom,
            reply_share=settings.reply_rate_share,
            reply_ahead_within_s=settings.campaign_slot_wait_s,
        ),
        pair_backoff=PairBackoff(pool),
        windows=windows,
        max_provider_attempts=settings.max_provider_attempts,
        credentials_retry_s=settings.credentials_retry_s,
        campaigns=campaigns.gate,
        campaign_slot_wait_s=settings.campaign_slot_wait_s,
        claim_s=settings.delivery_claim_s,
        send_outcome_wait_s=settings.send_outcome_wait_s,
        late_template=(
            LateTemplate(late.name, late.language)
            if (late := settings.out_of_window_template)
            else None
        ),
        links=links if settings.short_links_in_replies else None,
    )


#: What an operator route or dependency takes to reach the notifier wired at start.
NotifierDep = Annotated[Notifier, Depends(wired(Notifier))]


def provider_clients(
    settings: NotifierSettings, http: httpx.AsyncClient
) -> dict[Channel, ProviderClient]:
    return {
        Channel.WHATSAPP: WhatsAppCloudClient(
            http, settings.graph_base_url, settings.graph_api_version
        ),
        Channel.CHATTIGO: ChattigoClient(http, settings.chattigo_base_url),
        Channel.YCLOUD: YCloudClient(http, settings.ycloud_base_url),
    }


def media_downloader(settings: NotifierSettings, http: httpx.AsyncClient) -> MediaDownloader:
    limits = MediaLimits(
        max_bytes=settings.media_max_bytes,
        content_types=settings.media_content_types,
        allow_private_hosts=settings.media_allow_private_hosts,
    )
    return MediaDownloader(
        http,
        limits,
        graph_base_url=settings.graph_base_url,
        graph_api_version=settings.graph_api_version,
        ycloud_base_url=settings.ycloud_base_url,
    )


async def declare_accounts(settings: NotifierSettings, accounts: AccountStore) -> None:
    """Create the accounts declared in settings that do not exist yet (never overwrite)."""
    for declared in settings.accounts:
        if await accounts.find(declared.channel, declared.account_id) is not None:
            continue
        model = CREDENTIALS_MODELS[declared.channel]
        credentials = model.model_validate(
            {name: value.get_secret_value() for name, value in declared.credentials.items()}
        )
        try:
            await accounts.create(
                tenant_id=declared.tenant_id,
                channel=declared.channel,
                account_id=declared.account_id,
                credentials=credentials,  # type: ignore[arg-type]
                display_name=declared.display_name,
                rate_per_second=declared.rate_per_second,
                business_account_id=declared.business_account_id,
            )
        except DuplicateAccount:
            continue  # another replica created it meanwhile
        logger.info("declared %s account %s created", declared.channel.value, declared.account_id)
