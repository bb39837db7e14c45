"""The provider sandbox served over real HTTP (uvicorn on a free port, this loop)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from cauce_contracts.outbound import OutboundContent, OutboundMessageRequested
from cauce_contracts.subjects import Channel
from cauce_devstack.sandbox.app import create_app
from cauce_devstack.sandbox.settings import SandboxSettings
from cauce_devstack.servers import free_port
from cauce_devstack.testing import serving
from cauce_notifier.accounts_model import (
    ChannelAccount,
    ChattigoCredentials,
    Credentials,
    WhatsAppCredentials,
    YCloudCredentials,
)

PHONE_NUMBER_ID = "100000000000077"
GRAPH_TOKEN = "graph-token-for-tests"
CHATTIGO_DID = "5492644710400"
CHATTIGO_USER = "bot@acme.test"
CHATTIGO_PASSWORD = "chattigo-pass-for-tests"
YCLOUD_NUMBER = "+573105550100"
YCLOUD_KEY = "ycloud-key-for-tests"
CUSTOMER = "+573001234567"


def sandbox_settings(**overrides: Any) -> SandboxSettings:
    values: dict[str, Any] = {
        "port": free_port(),
        "graph_tokens": {PHONE_NUMBER_ID: SecretStr(GRAPH_TOKEN)},
        # Provider rules other than the payload are tested with the Graph fake itself.
        "service_window_enforced": False,
        "graph_template_check": False,
        "graph_rate_limit_enforced": False,
        "status_callbacks_enabled": False,
        "chattigo_users": {CHATTIGO_USER: SecretStr(CHATTIGO_PASSWORD)},
        "ycloud_api_keys": [SecretStr(YCLOUD_KEY)],
        "ycloud_sender_numbers": [YCLOUD_NUMBER],
    }
    values.update(overrides)
    return SandboxSettings(**values)


@dataclass
class Sandbox:
    url: str
    http: httpx.AsyncClient

    async def outbox(self, provider: str, kind: str | None = None) -> list[dict[str, Any]]:
        response = await self.http.get(f"{self.url}/sandbox/outbox", params={"provider": provider})
        response.raise_for_status()
        entries: list[dict[str, Any]] = response.json()
        return [e for e in entries if kind is None or e["kind"] == kind]

    async def fault(self, **spec: Any) -> None:
        (await self.http.post(f"{self.url}/sandbox/faults", json=spec)).raise_for_status()


def serve_sandbox(settings: SandboxSettings) -> AbstractAsyncContextManager[str]:
    return serving(create_app(settings), settings.port)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    settings = sandbox_settings()
    async with (
        serve_sandbox(settings) as url,
        httpx.AsyncClient(timeout=10.0) as http,
    ):
        yield Sandbox(url=url, http=http)


def account(channel: Channel, account_id: str, credentials: Credentials) -> ChannelAccount:
    return ChannelAccount(
        id=uuid.uuid4(),
        tenant_id="acme",
        channel=channel,
        account_id=account_id,
        display_name=None,
        rate_per_second=80.0,
        credentials=credentials,
        credentials_status="ok",
    )


def whatsapp_account(token: str = GRAPH_TOKEN) -> ChannelAccount:
    return account(
        Channel.WHATSAPP, PHONE_NUMBER_ID, WhatsAppCredentials(access_token=SecretStr(token))
    )


def chattigo_account(password: str = CHATTIGO_PASSWORD) -> ChannelAccount:
    return account(
        Channel.CHATTIGO,
        CHATTIGO_DID,
        ChattigoCredentials(
            username=CHATTIGO_USER, password=SecretStr(password), bot_name="Cauce Bot"
        ),
    )


def ycloud_account(key: str = YCLOUD_KEY) -> ChannelAccount:
    return account(
        Channel.YCLOUD, YCLOUD_NUMBER.lstrip("+"), YCloudCredentials(api_key=SecretStr(key))
    )


def request(
    content: OutboundContent,
    *,
    channel: Channel,
    account_id: str,
    reply_to: str | None = None,
    event_id: uuid.UUID | None = None,
) -> OutboundMessageRequested:
    extra: dict[str, Any] = {"event_id": event_id} if event_id else {}
    return OutboundMessageRequested(
        tenant_id="acme",
        correlation_id="corr-1",
        channel=channel,
        contact_key="0123456789abcdef01234567",
        channel_account_id=account_id,
        recipient=CUSTOMER,
        content=content,
        reply_to_message_id=reply_to,
        **extra,
    )
