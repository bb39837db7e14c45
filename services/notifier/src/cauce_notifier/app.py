"""The notifier's bootstrap: one place that wires settings, PostgreSQL, the provider
clients, the consumers and the HTTP APIs."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from cauce_contracts.inbound import InboundMessageReceived, InboundStatusUpdated
from cauce_contracts.outbound import OutboundMessageRequested
from cauce_contracts.subjects import Channel
from cauce_notifier.accounts_model import CREDENTIALS_MODELS, ChannelAccount
from cauce_notifier.api.admin_channels import TestResult, admin_router
from cauce_notifier.api.messages import messages_router
from cauce_notifier.consumers import REQUESTS, STATUSES, WINDOWS
from cauce_notifier.credentials import CredentialsCipher
from cauce_notifier.delivery import Deliverer
from cauce_notifier.providers import ProviderClient
from cauce_notifier.providers.chattigo import ChattigoClient
from cauce_notifier.providers.errors import ProviderError
from cauce_notifier.providers.whatsapp_cloud import WhatsAppCloudClient
from cauce_notifier.providers.ycloud import YCloudClient
from cauce_notifier.rate_limit import PairBackoff, SendRateLimiter
from cauce_notifier.service_window import ServiceWindows
from cauce_notifier.settings import NotifierSettings
from cauce_notifier.statuses import StatusTracker
from cauce_notifier.store.accounts import AccountStore, DuplicateAccount
from cauce_notifier.store.messages import MessageStore
from cauce_notifier.store.migrations import migrate
from cauce_runtime import Bus, Delivery, consumer, create_service_app, postgres, traced_http_client

logger = logging.getLogger(__name__)


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or NotifierSettings()
    # asyncpg returns the pool unopened; it is opened (and migrated) before the bus starts.
    pool = postgres.create_pool(settings.postgres_url, settings.postgres_pool_size)
    cipher = CredentialsCipher.from_settings(
        settings.credentials_key_ring(), settings.credentials_active_key_id
    )
    accounts = AccountStore(pool, cipher, cache_ttl_s=settings.account_cache_s)
    messages = MessageStore(pool)
    http = traced_http_client(timeout=settings.provider_timeout_s)
    providers: dict[Channel, ProviderClient] = {
        Channel.WHATSAPP: WhatsAppCloudClient(
            http, settings.graph_base_url, settings.graph_api_version
        ),
        Channel.CHATTIGO: ChattigoClient(http, settings.chattigo_base_url),
        Channel.YCLOUD: YCloudClient(http, settings.ycloud_base_url),
    }
    bus = Bus(settings)
    windows = ServiceWindows(pool)
    deliverer = Deliverer(
        bus=bus,
        accounts=accounts,
        messages=messages,
        providers=providers,
        limiter=SendRateLimiter(
            pool, max_wait_s=settings.send_max_wait_s, headroom=settings.send_rate_headroom
        ),
        pair_backoff=PairBackoff(pool),
        windows=windows,
        max_provider_attempts=settings.max_provider_attempts,
        credentials_retry_s=settings.credentials_retry_s,
    )
    consumer(bus, REQUESTS, OutboundMessageRequested, batch_size=settings.delivery_batch_size)(
        deliverer.deliver
    )
    consumer(bus, STATUSES, InboundStatusUpdated, batch_size=32)(StatusTracker(bus, messages).apply)

    @consumer(bus, WINDOWS, InboundMessageReceived, batch_size=32)
    async def record_inbound(event: InboundMessageReceived, delivery: Delivery) -> None:
        await windows.record_inbound(
            event.tenant_id,
            event.channel.value,
            event.channel_account_id,
            event.contact_key,
            event.sent_at,
        )

    async def open_store() -> None:
        await pool  # asyncpg: awaiting a pool opens it
        applied = await migrate(pool)
        if applied:
            logger.info("notifier schema migrated to version %d", max(applied))
        rotated = await accounts.reencrypt_all()
        if rotated:
            logger.info("re-encrypted %d channel credentials with key %s", rotated, cipher)
        await declare_accounts(settings, accounts)

    async def close_store() -> None:
        await http.aclose()
        await pool.close()

    async def test_credentials(account: ChannelAccount) -> TestResult:
        return await check_credentials(providers[account.channel], account)

    return create_service_app(
        settings,
        bus=bus,
        readiness={"postgres": postgres.reachable(pool)},
        routers=(
            admin_router(accounts, settings.admin_token, test_credentials),
            messages_router(messages, settings.admin_token),
        ),
        on_prepare=[open_store],
        on_closed=[close_store],
        title="cauce notifier",
        description=(
            "Outbound delivery through WhatsApp Cloud API, Chattigo and YCloud: one provider "
            "call per message, per-account rate limits shared by every replica, a status "
            "timeline per message, and channel credentials encrypted at rest."
        ),
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
            )
        except DuplicateAccount:
            continue  # another replica created it meanwhile
        logger.info("declared %s account %s created", declared.channel.value, declared.account_id)


async def check_credentials(client: ProviderClient, account: ChannelAccount) -> TestResult:
    """The admin API's "test credentials": Chattigo logs in, the Cloud API reads the
    number with the token; YCloud has no side-effect-free check here yet and says so."""
    if not isinstance(client, ChattigoClient | WhatsAppCloudClient):
        return TestResult(ok=False, detail=f"no credentials check for {account.channel.value} yet")
    try:
        await client.verify_credentials(account)
    except ProviderError as exc:
        return TestResult(ok=False, detail=exc.message)
    return TestResult(ok=True, detail="the provider accepted the credentials")
