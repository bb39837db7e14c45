"""Checking a channel account's credentials against its provider: what the admin API's
``POST /admin/channels/{id}/test`` runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from pydantic import BaseModel

from cauce_contracts.subjects import Channel
from cauce_notifier.accounts_model import ChannelAccount
from cauce_notifier.providers import ProviderClient
from cauce_notifier.providers.chattigo import ChattigoClient
from cauce_notifier.providers.errors import ProviderError
from cauce_notifier.providers.whatsapp_cloud import WhatsAppCloudClient


class TestResult(BaseModel):
    """What a credentials check found (the lead's provider check returns one)."""

    __test__ = False  # not a pytest class

    ok: bool
    #: Why it failed (provider error code and title); never a secret.
    detail: str | None = None


CredentialsTester = Callable[[ChannelAccount], Awaitable[TestResult]]


async def check_credentials(client: ProviderClient, account: ChannelAccount) -> TestResult:
    """Chattigo logs in, the Cloud API reads the number with the token; YCloud has no
    side-effect-free check here yet and says so."""
    if not isinstance(client, ChattigoClient | WhatsAppCloudClient):
        return TestResult(ok=False, detail=f"no credentials check for {account.channel.value} yet")
    try:
        await client.verify_credentials(account)
    except ProviderError as exc:
        return TestResult(ok=False, detail=exc.message)
    return TestResult(ok=True, detail="the provider accepted the credentials")


async def check_with_provider(
    providers: Mapping[Channel, ProviderClient], account: ChannelAccount
) -> TestResult:
    """:func:`check_credentials` with the client of the account's channel."""
    return await check_credentials(providers[account.channel], account)
